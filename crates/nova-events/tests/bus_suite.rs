//! One consumer suite, run on every [`EventBus`]: the embedded outbox log and (feature
//! `kafka`) Kafka against a real broker (`NOVA_TEST_KAFKA_BROKERS`; `cargo xtask test`
//! starts tansu). Consumer code is the same either way, so the guarantees must be too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use nova_core::{Error, EventId};
use nova_events::{
    ConsumerOptions, DeadLetter, EventBus, EventEnvelope, EventHandler, OutboxLogBus, OutboxStore,
    handler_fn, idempotency::Idempotent, outbox,
};
use tokio_util::sync::CancellationToken;

/// What the suite needs from a bus under test.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The bus consumers subscribe to.
    fn bus(&self) -> Arc<dyn EventBus>;
    /// Publishes `events` the way the relay would (committed to the outbox first where
    /// the bus is the outbox).
    async fn publish(&self, events: &[EventEnvelope]);
    /// `consumer`'s dead letters (waits up to `wait` for them where they are remote).
    async fn dead_letters(&self, consumer: &str, wait: Duration) -> Vec<DeadLetter>;
    /// Whether consumers with the same name split the events (Kafka consumer groups)
    /// rather than each reading all of them (the embedded log's named offsets).
    fn groups_share(&self) -> bool;
    /// Whether publishing an event again delivers it again (Kafka appends a new message;
    /// the embedded log positions each event id once).
    fn republish_redelivers(&self) -> bool;
    /// The outbox store (for the idempotency records).
    fn store(&self) -> Arc<dyn OutboxStore>;
}

/// The consumer options every bus runs the suite with: 3 attempts, quick backoff.
pub fn options() -> ConsumerOptions {
    ConsumerOptions {
        batch_size: 50,
        poll_interval: Duration::from_millis(50),
        max_attempts: 3,
        retry_backoff: Duration::from_millis(10),
    }
}

fn event(kind: &str, aggregate: &str, payload: String) -> EventEnvelope {
    EventEnvelope::new(kind, aggregate, chrono::Utc::now(), payload.into_bytes())
}

/// Events `(aggregate, seq)` for `aggregates` aggregates, `per` each, interleaved.
fn sequenced(aggregates: usize, per: usize) -> Vec<EventEnvelope> {
    (0..per)
        .flat_map(|seq| {
            (0..aggregates)
                .map(move |a| event("order.placed", &format!("agg-{a}"), format!("{seq}")))
        })
        .collect()
}

/// Every delivery a handler saw, in order.
#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<EventEnvelope>>>);

impl Seen {
    fn handler(&self) -> Arc<dyn EventHandler> {
        let seen = self.clone();
        handler_fn(move |e| {
            let seen = seen.clone();
            async move {
                seen.0.lock().unwrap().push(e);
                Ok(())
            }
        })
    }
    fn all(&self) -> Vec<EventEnvelope> {
        self.0.lock().unwrap().clone()
    }
    fn ids(&self) -> HashSet<EventId> {
        self.all().iter().map(|e| e.id).collect()
    }
}

/// Waits (up to 90 s: a Kafka consumer group takes seconds to form) for `done`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Running {
    token: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

fn consume(h: &dyn Harness, consumer: &str, handler: Arc<dyn EventHandler>) -> Running {
    let (bus, token, name) = (h.bus(), CancellationToken::new(), consumer.to_owned());
    let stop = token.clone();
    let task = tokio::spawn(async move { bus.consume(&name, handler, stop).await });
    Running { token, task }
}

impl Running {
    async fn stop(self) {
        self.token.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// Events of one aggregate arrive in the order they were published; envelopes arrive
/// intact (id, type, aggregate, time, payload).
pub async fn ordering_per_key(h: Arc<dyn Harness>) {
    let events = sequenced(5, 40);
    let seen = Seen::default();
    let consumer = consume(h.as_ref(), "ordering", seen.handler());
    h.publish(&events).await;
    wait_until("all events", || seen.ids().len() == events.len()).await;
    consumer.stop().await;

    let sent: HashMap<EventId, &EventEnvelope> = events.iter().map(|e| (e.id, e)).collect();
    let mut per_key: HashMap<String, Vec<usize>> = HashMap::new();
    let mut first = HashSet::new();
    for e in seen.all() {
        assert_eq!(sent[&e.id], &e, "the envelope round-trips exactly");
        if first.insert(e.id) {
            let seq = String::from_utf8(e.payload.clone())
                .unwrap()
                .parse()
                .unwrap();
            per_key.entry(e.aggregate_id.clone()).or_default().push(seq);
        }
    }
    assert_eq!(per_key.len(), 5);
    for (key, seqs) in per_key {
        assert_eq!(seqs, (0..40).collect::<Vec<_>>(), "order of {key}");
    }
}

/// A handler that fails is called again (with backoff) until it succeeds: nothing is
/// skipped, and a recovered event is not dead-lettered.
pub async fn failed_handler_is_retried(h: Arc<dyn Harness>) {
    let events = sequenced(2, 5);
    let flaky = events[3].id;
    let failures = Arc::new(Mutex::new(0));
    let seen = Seen::default();
    let handler = {
        let (failures, inner) = (failures.clone(), seen.handler());
        handler_fn(move |e: EventEnvelope| {
            let (failures, inner) = (failures.clone(), inner.clone());
            async move {
                if e.id == flaky {
                    let mut n = failures.lock().unwrap();
                    if *n < 2 {
                        *n += 1;
                        return Err(Error::internal("transient failure"));
                    }
                }
                inner.handle(&e).await
            }
        })
    };
    let consumer = consume(h.as_ref(), "retrying", handler);
    h.publish(&events).await;
    wait_until("all events", || seen.ids().len() == events.len()).await;
    consumer.stop().await;
    assert_eq!(*failures.lock().unwrap(), 2);
    assert!(seen.ids().contains(&flaky));
    assert!(
        h.dead_letters("retrying", Duration::from_secs(2))
            .await
            .is_empty()
    );
}

/// At-least-once: an event published twice (a relay that died between publish and
/// mark) reaches the handler twice where the bus redelivers it, and the idempotency
/// helper applies it once either way.
pub async fn duplicates_are_applied_once(h: Arc<dyn Harness>) {
    let events = sequenced(3, 10);
    let deliveries = Seen::default();
    let applied = Seen::default();
    // Two handlers in a chain: count every delivery, then apply through Idempotent.
    let store = h.store();
    let handler: Arc<dyn EventHandler> = Arc::new(Chain {
        first: deliveries.handler(),
        then: Arc::new(Idempotent::new("dedup", store, applied.handler())),
    });
    let consumer = consume(h.as_ref(), "dedup", handler);
    h.publish(&events).await;
    h.publish(&events).await;
    let copies = if h.republish_redelivers() { 2 } else { 1 };
    wait_until("every delivery", || {
        deliveries.all().len() >= copies * events.len()
    })
    .await;
    wait_until("every event applied", || {
        applied.all().len() >= events.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.stop().await;
    assert_eq!(deliveries.all().len(), copies * events.len());
    let applied = applied.all();
    assert_eq!(
        applied.len(),
        events.len(),
        "each event applied exactly once"
    );
    assert_eq!(
        applied.iter().map(|e| e.id).collect::<HashSet<_>>(),
        events.iter().map(|e| e.id).collect::<HashSet<_>>()
    );
}

/// A poison event is tried `max_attempts` times, then set aside with its error, and the
/// events after it keep flowing.
pub async fn poison_event_is_dead_lettered_while_later_events_flow(h: Arc<dyn Harness>) {
    let events = sequenced(1, 12);
    let poison = events[4].id;
    let attempts = Arc::new(Mutex::new(0_u32));
    let seen = Seen::default();
    let handler = {
        let (attempts, inner) = (attempts.clone(), seen.handler());
        handler_fn(move |e: EventEnvelope| {
            let (attempts, inner) = (attempts.clone(), inner.clone());
            async move {
                if e.id == poison {
                    *attempts.lock().unwrap() += 1;
                    return Err(Error::internal("poison: cannot decode"));
                }
                inner.handle(&e).await
            }
        })
    };
    let consumer = consume(h.as_ref(), "poisoned", handler);
    h.publish(&events).await;
    wait_until("the events after the poison", || {
        seen.ids().len() == events.len() - 1
    })
    .await;
    let letters = h.dead_letters("poisoned", Duration::from_secs(10)).await;
    consumer.stop().await;
    assert_eq!(*attempts.lock().unwrap(), options().max_attempts);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].event_id, poison);
    assert_eq!(letters[0].attempts, options().max_attempts as i32);
    assert!(
        letters[0].last_error.contains("poison"),
        "{}",
        letters[0].last_error
    );
    assert!(!seen.ids().contains(&poison));
}

/// Two consumers under one name share the work (Kafka: partitions of one group) or each
/// read everything (embedded log); a consumer under another name gets every event.
pub async fn groups_share_and_separate_groups_each_get_everything(h: Arc<dyn Harness>) {
    let (a, b, other) = (Seen::default(), Seen::default(), Seen::default());
    let ca = consume(h.as_ref(), "shared", a.handler());
    let cb = consume(h.as_ref(), "shared", b.handler());
    let co = consume(h.as_ref(), "separate", other.handler());
    // Keep publishing until both members of the group got work (a group rebalances
    // when its second member joins).
    let mut published: Vec<EventEnvelope> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    for round in 0.. {
        let batch: Vec<EventEnvelope> = (0..24)
            .map(|i| event("order.placed", &format!("agg-{i}"), format!("{round}")))
            .collect();
        h.publish(&batch).await;
        published.extend(batch);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if !a.all().is_empty() && !b.all().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "both group members never got work"
        );
    }
    let all: HashSet<EventId> = published.iter().map(|e| e.id).collect();
    wait_until("the group to handle everything", || {
        a.ids().union(&b.ids()).count() == all.len()
    })
    .await;
    wait_until("the separate group to handle everything", || {
        other.ids() == all
    })
    .await;
    if h.groups_share() {
        assert!(
            a.ids().len() < all.len() && b.ids().len() < all.len(),
            "the group shared"
        );
    } else {
        wait_until("each named reader to see everything", || {
            a.ids() == all && b.ids() == all
        })
        .await;
    }
    for c in [ca, cb, co] {
        c.stop().await;
    }
}

struct Chain {
    first: Arc<dyn EventHandler>,
    then: Arc<dyn EventHandler>,
}

#[async_trait]
impl EventHandler for Chain {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        self.first.handle(event).await?;
        self.then.handle(event).await
    }
}

/// Runs the suite's tests for one harness constructor.
macro_rules! bus_suite {
    ($harness:path: $($test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let Some(harness) = $harness().await else { return };
                super::$test(harness).await;
            }
        )+
    };
}

/// The embedded log over SQLite.
mod outbox_log {
    use super::*;

    struct LogHarness {
        bus: Arc<OutboxLogBus>,
        store: Arc<dyn OutboxStore>,
        _db: nova_testkit::TestSqlite,
    }

    #[async_trait]
    impl Harness for LogHarness {
        fn bus(&self) -> Arc<dyn EventBus> {
            self.bus.clone()
        }
        async fn publish(&self, events: &[EventEnvelope]) {
            // Already in the outbox (a republish): append only the new ones.
            let mut fresh = Vec::new();
            for e in events {
                let known = self.store.read_log(0, u32::MAX).await.unwrap();
                if !known.iter().any(|k| k.event.id == e.id) {
                    fresh.push(e.clone());
                }
            }
            self.store.append(&fresh).await.unwrap();
            self.bus.publish(events).await.unwrap();
        }
        async fn dead_letters(&self, consumer: &str, _wait: Duration) -> Vec<DeadLetter> {
            self.store.dead_letters(consumer).await.unwrap()
        }
        fn groups_share(&self) -> bool {
            false
        }
        fn republish_redelivers(&self) -> bool {
            false
        }
        fn store(&self) -> Arc<dyn OutboxStore> {
            self.store.clone()
        }
    }

    async fn harness() -> Option<Arc<dyn Harness>> {
        let db = nova_testkit::sqlite().await;
        let store = outbox::store(db.db());
        let bus = Arc::new(OutboxLogBus::new(store.clone()).with_options(options()));
        Some(Arc::new(LogHarness {
            bus,
            store,
            _db: db,
        }))
    }

    bus_suite!(harness: ordering_per_key, failed_handler_is_retried, duplicates_are_applied_once,
        poison_event_is_dead_lettered_while_later_events_flow,
        groups_share_and_separate_groups_each_get_everything);
}

/// Kafka against the test broker; idempotency records in SQLite.
#[cfg(feature = "kafka")]
mod kafka {
    use nova_events::{KafkaBus, KafkaOptions};

    use super::*;

    struct KafkaHarness {
        bus: Arc<KafkaBus>,
        store: Arc<dyn OutboxStore>,
        _db: nova_testkit::TestSqlite,
    }

    #[async_trait]
    impl Harness for KafkaHarness {
        fn bus(&self) -> Arc<dyn EventBus> {
            self.bus.clone()
        }
        async fn publish(&self, events: &[EventEnvelope]) {
            self.bus.publish(events).await.unwrap();
        }
        async fn dead_letters(&self, consumer: &str, wait: Duration) -> Vec<DeadLetter> {
            self.bus.dead_letters(consumer, wait).await.unwrap()
        }
        fn groups_share(&self) -> bool {
            true
        }
        fn republish_redelivers(&self) -> bool {
            true
        }
        fn store(&self) -> Arc<dyn OutboxStore> {
            self.store.clone()
        }
    }

    pub(crate) async fn harness() -> Option<Arc<dyn Harness>> {
        let kafka = nova_testkit::kafka().await?;
        let db = nova_testkit::sqlite().await;
        let mut opts = KafkaOptions::new(kafka.brokers());
        opts.topic_prefix = kafka.prefix().to_owned();
        opts.partitions = 4;
        opts.consumer = options();
        opts.metadata_refresh = Duration::from_millis(500);
        let bus = Arc::new(KafkaBus::new(opts).unwrap());
        // The topic exists before consumers subscribe, so they find it at once.
        bus.ensure_topics([bus.topic_for("order.placed")])
            .await
            .unwrap();
        let store = outbox::store(db.db());
        Some(Arc::new(KafkaHarness {
            bus,
            store,
            _db: db,
        }))
    }

    bus_suite!(harness: ordering_per_key, failed_handler_is_retried, duplicates_are_applied_once,
        poison_event_is_dead_lettered_while_later_events_flow,
        groups_share_and_separate_groups_each_get_everything);
}
