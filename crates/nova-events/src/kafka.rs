//! The Kafka adapter of the [`EventBus`] port (feature `kafka`, librdkafka via `rdkafka`).
//!
//! - **Publishing**: an idempotent producer (`enable.idempotence=true`, `acks=all`), one
//!   topic per event family (`nova.user.v1` for `user.registered`), the aggregate id as the
//!   key (so one aggregate's events stay in one partition, in order), and the event id,
//!   type and time in headers. A batch returns only once every event is acknowledged.
//! - **Consuming**: one Kafka consumer group per consumer name, subscribed to every family
//!   topic of the prefix. The offset of a message is stored only after its handler
//!   succeeded (or it was dead-lettered) and committed by the consumer itself
//!   (`enable.auto.commit=false`): at-least-once. A failing handler is retried with
//!   exponential backoff; after [`ConsumerOptions::max_attempts`] the message goes to
//!   `<topic>.dlq` with the error, attempts, consumer and source position in headers, and
//!   the consumer moves on.
//! - **Topics** are created through the admin API before first use (brokers such as tansu
//!   do not auto-create them).
//! - **Lag**: `nova_events_consumer_lag{service, consumer}` = high watermark minus the
//!   next offset to handle, summed over the consumer's partitions (from librdkafka's
//!   statistics, every 5 s).
//!
//! ```no_run
//! # async fn run() -> Result<(), nova_core::Error> {
//! use std::sync::Arc;
//! use nova_events::{CancellationToken, EventBus, EventEnvelope, KafkaBus, KafkaOptions, handler_fn};
//!
//! let bus = Arc::new(KafkaBus::new(KafkaOptions::new("127.0.0.1:19092"))?);
//! let event = EventEnvelope::new("user.registered", "user-1", chrono::Utc::now(), vec![]);
//! bus.publish(&[event]).await?; // → topic nova.user.v1, key user-1
//! let handler = handler_fn(|event| async move {
//!     println!("{} {}", event.event_type, event.id);
//!     Ok(())
//! });
//! bus.consume("welcome-mailer", handler, CancellationToken::new()).await?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeSet, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use nova_core::{Error, EventId};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::{ConsumerOptions, DeadLetter, EventBus, EventEnvelope, EventHandler};

/// Header carrying the event id (UUID text).
pub const HEADER_EVENT_ID: &str = "nova-event-id";
/// Header carrying the event type (`family.action`).
pub const HEADER_EVENT_TYPE: &str = "nova-event-type";
/// Header carrying when the event occurred (microseconds since the Unix epoch).
pub const HEADER_OCCURRED_AT: &str = "nova-occurred-at";
/// Dead-letter header: the last handler error.
pub const HEADER_ERROR: &str = "nova-error";
/// Dead-letter header: how often the handler was tried.
pub const HEADER_ATTEMPTS: &str = "nova-attempts";
/// Dead-letter header: the consumer (group) that gave up.
pub const HEADER_CONSUMER: &str = "nova-consumer";
/// Dead-letter header: `topic/partition/offset` of the original message.
pub const HEADER_SOURCE: &str = "nova-source";

/// How the Kafka bus connects and lays out topics.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// `host:port[,host:port...]` (`KAFKA_BROKERS`).
    pub brokers: String,
    /// First topic segment (`nova` → `nova.user.v1`); tests use a unique one.
    pub topic_prefix: String,
    /// Partitions of each topic created by the bus.
    pub partitions: i32,
    /// Replication factor of each topic created by the bus.
    pub replication: i32,
    /// Retries, backoff, and how often offsets are committed (`poll_interval`, or every
    /// `batch_size` handled messages, whichever comes first).
    pub consumer: ConsumerOptions,
    /// Longest wait for a publish to be acknowledged before the relay retries the batch.
    pub publish_timeout: Duration,
    /// How often consumers look for new family topics.
    pub metadata_refresh: Duration,
}

impl KafkaOptions {
    /// Defaults for `brokers`: prefix `nova`, 6 partitions, replication 1.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic_prefix: "nova".to_owned(),
            partitions: 6,
            replication: 1,
            consumer: ConsumerOptions::default(),
            publish_timeout: Duration::from_secs(30),
            metadata_refresh: Duration::from_secs(5),
        }
    }
}

/// [`EventBus`] on Kafka (or any Kafka-protocol broker, e.g. tansu or Redpanda).
pub struct KafkaBus {
    options: KafkaOptions,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    known_topics: Mutex<HashSet<String>>,
    service: String,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("brokers", &self.options.brokers)
            .field("topic_prefix", &self.options.topic_prefix)
            .finish_non_exhaustive()
    }
}

fn kafka_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::unavailable(format!("kafka: {what}: {e}"))
}

impl KafkaBus {
    /// Creates the producer and admin clients (they connect lazily; see
    /// [`check`](Self::check)).
    pub fn new(options: KafkaOptions) -> Result<Self, Error> {
        let producer: FutureProducer = client_config(&options)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "none")
            .set(
                "message.timeout.ms",
                options.publish_timeout.as_millis().to_string(),
            )
            .create()
            .map_err(|e| kafka_err("cannot create the producer", e))?;
        let admin: AdminClient<DefaultClientContext> = client_config(&options)
            .create()
            .map_err(|e| kafka_err("cannot create the admin client", e))?;
        Ok(Self {
            options,
            producer,
            admin,
            known_topics: Mutex::new(HashSet::new()),
            service: "nova".to_owned(),
        })
    }

    /// The `service` label on consumer metrics (default `nova`).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// The options in use.
    pub fn options(&self) -> &KafkaOptions {
        &self.options
    }

    /// The topic of an event type's family: `<prefix>.<family>.v1`.
    pub fn topic_for(&self, event_type: &str) -> String {
        let family = event_type
            .split_once('.')
            .map_or(event_type, |(family, _)| family);
        let family: String = family
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}.{family}.v1", self.options.topic_prefix)
    }

    /// Where `topic`'s poison messages go.
    pub fn dead_letter_topic(topic: &str) -> String {
        format!("{topic}.dlq")
    }

    /// The regex consumers subscribe with: every family topic of the prefix (not the
    /// dead-letter topics).
    fn subscription(&self) -> String {
        let prefix: String = self
            .options
            .topic_prefix
            .chars()
            .flat_map(|c| {
                let escape = !(c.is_ascii_alphanumeric() || c == '_' || c == '-');
                escape.then_some('\\').into_iter().chain([c])
            })
            .collect();
        format!("^{prefix}\\.[A-Za-z0-9_-]+\\.v1$")
    }

    /// Creates the topics that do not exist yet (idempotent: "already exists" is fine).
    pub async fn ensure_topics<I, S>(&self, topics: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut known = self.known_topics.lock().await;
        let missing: BTreeSet<String> = topics
            .into_iter()
            .map(Into::into)
            .filter(|t| !known.contains(t))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|t| {
                NewTopic::new(
                    t,
                    self.options.partitions,
                    TopicReplication::Fixed(self.options.replication),
                )
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self
            .admin
            .create_topics(new.iter(), &opts)
            .await
            .map_err(|e| kafka_err("creating topics", e))?;
        for result in results {
            match result {
                Ok(topic) | Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    known.insert(topic);
                }
                Err((topic, code)) => {
                    return Err(kafka_err(&format!("creating topic {topic}"), code));
                }
            }
        }
        Ok(())
    }

    /// Whether the brokers answer (a metadata request): for readiness checks.
    pub async fn ping(&self) -> Result<(), Error> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || {
            use rdkafka::producer::Producer;
            producer
                .client()
                .fetch_metadata(None, Duration::from_secs(5))
                .map(|_| ())
        })
        .await
        .map_err(Error::internal)?
        .map_err(|e| kafka_err("brokers do not answer", e))
    }

    /// The dead letters of `consumer` in every dead-letter topic of the prefix, read from
    /// the beginning (waits up to `wait` for them to show up; stops early at the end).
    pub async fn dead_letters(
        &self,
        consumer: &str,
        wait: Duration,
    ) -> Result<Vec<DeadLetter>, Error> {
        let reader: StreamConsumer = client_config(&self.options)
            .set("group.id", format!("nova-dlq-reader-{}", EventId::new()))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set(
                "topic.metadata.refresh.interval.ms",
                self.options.metadata_refresh.as_millis().to_string(),
            )
            .create()
            .map_err(|e| kafka_err("cannot create the dead-letter reader", e))?;
        let pattern = self.subscription().replace("v1$", "v1\\.dlq$");
        reader
            .subscribe(&[pattern.as_str()])
            .map_err(|e| kafka_err("subscribing to dead-letter topics", e))?;
        let mut letters = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, reader.recv()).await;
            let Ok(message) = next else { break };
            let message = match message {
                Ok(message) => message,
                // No dead-letter topic yet: nothing was dead-lettered (so far).
                Err(KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition)) => {
                    continue;
                }
                Err(e) => return Err(kafka_err("reading dead letters", e)),
            };
            if header(&message, HEADER_CONSUMER).as_deref() != Some(consumer) {
                continue;
            }
            let event = envelope(&message)?;
            letters.push(DeadLetter {
                consumer: consumer.to_owned(),
                event_id: event.id,
                position: message.offset(),
                attempts: header(&message, HEADER_ATTEMPTS)
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0),
                last_error: header(&message, HEADER_ERROR).unwrap_or_default(),
            });
        }
        Ok(letters)
    }

    /// Runs the handler on one message: retries with exponential backoff, then
    /// dead-letters it. `Err` only when shutdown interrupted (the message is not done).
    async fn deliver(
        &self,
        consumer: &str,
        handler: &dyn EventHandler,
        message: &BorrowedMessage<'_>,
        shutdown: &CancellationToken,
    ) -> Result<(), ()> {
        let options = &self.options.consumer;
        let max_attempts = options.max_attempts.max(1);
        let (event, mut delay) = (envelope(message), options.retry_backoff);
        let mut attempt = 0;
        let error = loop {
            attempt += 1;
            let outcome = match &event {
                Ok(event) => AssertUnwindSafe(handler.handle(event))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(Error::internal("event handler panicked"))),
                // Not a Nova event (missing headers): no retry can fix it.
                Err(e) => break e.to_string(),
            };
            let error = match outcome {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            tracing::warn!(consumer, topic = message.topic(), offset = message.offset(), attempt, error = %error, "event handler failed");
            if attempt >= max_attempts {
                break error.to_string();
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Err(()),
                _ = tokio::time::sleep(delay) => {}
            }
            delay = delay.saturating_mul(2);
        };
        // The dead letter must be stored before the offset moves past the message.
        let mut delay = options.retry_backoff;
        loop {
            match self.dead_letter(consumer, message, attempt, &error).await {
                Ok(()) => {
                    metrics::counter!("nova_events_dead_letters_total", "service" => self.service.clone(), "consumer" => consumer.to_owned()).increment(1);
                    return Ok(());
                }
                Err(e) => {
                    tracing::error!(consumer, error = %e, "cannot write the dead letter; retrying")
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Err(()),
                _ = tokio::time::sleep(delay) => {}
            }
            delay = delay.saturating_mul(2).min(Duration::from_secs(5));
        }
    }

    async fn dead_letter(
        &self,
        consumer: &str,
        message: &BorrowedMessage<'_>,
        attempts: u32,
        error: &str,
    ) -> Result<(), Error> {
        let topic = Self::dead_letter_topic(message.topic());
        self.ensure_topics([topic.clone()]).await?;
        let mut headers = OwnedHeaders::new();
        if let Some(original) = message.headers() {
            for h in original.iter() {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
        }
        let source = format!(
            "{}/{}/{}",
            message.topic(),
            message.partition(),
            message.offset()
        );
        let attempts = attempts.to_string();
        for (key, value) in [
            (HEADER_ERROR, error),
            (HEADER_ATTEMPTS, attempts.as_str()),
            (HEADER_CONSUMER, consumer),
            (HEADER_SOURCE, source.as_str()),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        self.producer
            .send(record, self.options.publish_timeout)
            .await
            .map(|_| ())
            .map_err(|(e, _)| kafka_err("writing a dead letter", e))
    }
}

fn client_config(options: &KafkaOptions) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &options.brokers)
        .set("client.id", "nova")
        .set("log_level", "4");
    config
}

/// A header's value as text.
fn header(message: &BorrowedMessage<'_>, key: &str) -> Option<String> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The envelope carried by a message (key, payload and headers).
fn envelope(message: &BorrowedMessage<'_>) -> Result<EventEnvelope, Error> {
    let missing = |what: &str| {
        Error::internal(format!(
            "message {}/{}/{} has no {what}",
            message.topic(),
            message.partition(),
            message.offset()
        ))
    };
    let id = header(message, HEADER_EVENT_ID).ok_or_else(|| missing(HEADER_EVENT_ID))?;
    let id = uuid::Uuid::parse_str(&id)
        .map(EventId::from_uuid)
        .map_err(|_| missing("valid event id"))?;
    let event_type =
        header(message, HEADER_EVENT_TYPE).ok_or_else(|| missing(HEADER_EVENT_TYPE))?;
    let micros: i64 = header(message, HEADER_OCCURRED_AT)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| missing(HEADER_OCCURRED_AT))?;
    let occurred_at: DateTime<Utc> =
        DateTime::from_timestamp_micros(micros).ok_or_else(|| missing("valid time"))?;
    let aggregate_id = message
        .key()
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .ok_or_else(|| missing("key"))?;
    Ok(EventEnvelope {
        id,
        event_type,
        aggregate_id,
        occurred_at,
        payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
    })
}

/// Reports `nova_events_consumer_lag` from librdkafka's statistics (emitted every
/// [`LAG_INTERVAL`] on its own thread): the sum over assigned partitions of the high
/// watermark minus the next offset to handle. No broker round trip on the consumer path.
struct LagContext {
    gauge: metrics::Gauge,
}

impl ClientContext for LagContext {
    fn stats(&self, statistics: Statistics) {
        let lag: i64 = statistics
            .topics
            .values()
            .flat_map(|t| t.partitions.iter())
            .filter(|(id, _)| **id >= 0)
            .map(|(_, p)| p.consumer_lag_stored.max(0))
            .sum();
        self.gauge.set(lag as f64);
    }
}

impl ConsumerContext for LagContext {}

/// How often librdkafka reports statistics (and so the lag gauge moves).
const LAG_INTERVAL: Duration = Duration::from_secs(5);

fn commit(consumer: &StreamConsumer<LagContext>, group: &str, mode: CommitMode) {
    match consumer.commit_consumer_state(mode) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => tracing::warn!(consumer = group, error = %e, "committing offsets failed"),
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        let topics: Vec<String> = events
            .iter()
            .map(|e| self.topic_for(&e.event_type))
            .collect();
        self.ensure_topics(topics.iter().cloned()).await?;
        let meta: Vec<(String, String)> = events
            .iter()
            .map(|e| {
                (
                    e.id.to_string(),
                    e.occurred_at.timestamp_micros().to_string(),
                )
            })
            .collect();
        // Enqueue in order (per-partition order is kept by the idempotent producer), then
        // wait for every acknowledgement.
        let mut pending = Vec::with_capacity(events.len());
        for ((event, topic), (id, at)) in events.iter().zip(&topics).zip(&meta) {
            let headers = OwnedHeaders::new_with_capacity(3)
                .insert(Header {
                    key: HEADER_EVENT_ID,
                    value: Some(id.as_str()),
                })
                .insert(Header {
                    key: HEADER_EVENT_TYPE,
                    value: Some(event.event_type.as_str()),
                })
                .insert(Header {
                    key: HEADER_OCCURRED_AT,
                    value: Some(at.as_str()),
                });
            let mut record = FutureRecord::to(topic)
                .key(event.aggregate_id.as_bytes())
                .payload(event.payload.as_slice())
                .headers(headers);
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => break pending.push(delivery),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => return Err(kafka_err("enqueueing an event", e)),
                }
            }
        }
        for delivery in pending {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(kafka_err("publishing an event", e)),
                Err(_) => return Err(kafka_err("publishing an event", "producer dropped")),
            }
        }
        Ok(())
    }

    async fn consume(
        &self,
        consumer: &str,
        handler: Arc<dyn EventHandler>,
        shutdown: CancellationToken,
    ) -> Result<(), Error> {
        let options = &self.options.consumer;
        let gauge = metrics::gauge!(
            "nova_events_consumer_lag",
            "service" => self.service.clone(),
            "consumer" => consumer.to_owned()
        );
        let kafka: StreamConsumer<LagContext> = client_config(&self.options)
            .set("group.id", consumer)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set(
                "topic.metadata.refresh.interval.ms",
                self.options.metadata_refresh.as_millis().to_string(),
            )
            .set(
                "statistics.interval.ms",
                LAG_INTERVAL.as_millis().to_string(),
            )
            .create_with_context(LagContext { gauge })
            .map_err(|e| kafka_err("cannot create the consumer", e))?;
        kafka
            .subscribe(&[self.subscription().as_str()])
            .map_err(|e| kafka_err("subscribing", e))?;
        let mut uncommitted = 0_u32;
        let mut tick = tokio::time::interval(options.poll_interval.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {
                    if uncommitted > 0 {
                        commit(&kafka, consumer, CommitMode::Async);
                        uncommitted = 0;
                    }
                    continue;
                }
                message = kafka.recv() => message,
            };
            let message = match message {
                Ok(message) => message,
                // The pattern matches no topic yet: wait for the first publish.
                Err(KafkaError::MessageConsumption(RDKafkaErrorCode::UnknownTopicOrPartition)) => {
                    continue;
                }
                Err(e) => {
                    // Transient (broker restart, rebalance); librdkafka reconnects.
                    tracing::warn!(consumer, error = %e, "kafka consumer error");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(options.poll_interval) => continue,
                    }
                }
            };
            if self
                .deliver(consumer, handler.as_ref(), &message, &shutdown)
                .await
                .is_err()
            {
                break;
            }
            // Only now may the offset move past this message.
            if let Err(e) = kafka.store_offset_from_message(&message) {
                tracing::warn!(consumer, error = %e, "storing the offset failed");
                continue;
            }
            uncommitted += 1;
            if uncommitted >= options.batch_size.max(1) {
                commit(&kafka, consumer, CommitMode::Async);
                uncommitted = 0;
            }
        }
        if uncommitted > 0 {
            commit(&kafka, consumer, CommitMode::Sync);
        }
        Ok(())
    }

    fn external(&self) -> bool {
        true
    }

    async fn check(&self) -> Result<(), Error> {
        self.ping().await
    }
}
