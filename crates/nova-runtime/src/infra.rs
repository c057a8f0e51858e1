//! What every shell opens before it builds its domains: the database (migrated), the
//! key-value store, the outbox relay and the pool metrics, with their readiness checks
//! and an orderly shutdown. One place, so the 15 shells cannot drift apart.
//!
//! ```no_run
//! # async fn run(config: nova_core::config::NovaConfig) -> Result<(), String> {
//! use nova_runtime::{Infra, Server, ServiceSpec};
//!
//! let spec = ServiceSpec::by_name("user-service").ok_or("unknown service")?;
//! let infra = Infra::start(&config, spec.name).await?;
//! // ... build the domain on infra.db / infra.kv, waking infra.relay after commits ...
//! let server = infra.readiness_checks(Server::new(spec, &config));
//! let served = server.serve().await.map_err(|e| e.to_string());
//! infra.shutdown().await;
//! served
//! # }
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nova_core::config::NovaConfig;
use nova_core::cursor::CursorCodec;
use nova_db::{Db, DbOptions};
use nova_events::{
    CancellationToken, EventBus, EventHandler, OutboxLogBus, Pruner, Relay, RelayWaker, outbox,
};
use nova_kv::Kv;
use tokio::task::JoinHandle;

use crate::{Server, check_fn};

/// How often the pool size is reported as `nova_db_pool_connections`.
const POOL_METRICS_INTERVAL: Duration = Duration::from_secs(5);

/// File in the data directory holding the generated cursor key (when
/// `NOVA_CURSOR_SECRET` is unset).
pub const CURSOR_KEY_FILE: &str = "cursor.key";

/// The shared backends of one process and the background tasks that serve them.
pub struct Infra {
    /// The migrated database (`DATABASE_URL`, else SQLite `nova.db` in `NOVA_DATA_DIR`).
    pub db: Db,
    /// Cache, rate limits, pub/sub and sorted sets (Redis when `REDIS_URL` is set).
    pub kv: Kv,
    /// Wakes the outbox relay after a commit, so events leave at once.
    pub relay: RelayWaker,
    /// Where consumers subscribe (the embedded event log; Kafka when configured).
    pub bus: Arc<dyn EventBus>,
    /// Where the database is, without any password (for logs).
    pub db_location: String,
    /// Where the key-value store is (`in-process` or the redacted Redis URL).
    pub kv_location: String,
    redis: bool,
    kafka: bool,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Infra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Infra")
            .field("db_location", &self.db_location)
            .field("kv_location", &self.kv_location)
            .finish_non_exhaustive()
    }
}

impl Infra {
    /// Opens and migrates the database, connects the key-value store and starts the
    /// outbox relay (onto the embedded event log, or Kafka when `KAFKA_BROKERS` is set and
    /// the `kafka` feature is built in), the event-log pruner (`EVENT_RETENTION_HOURS`)
    /// and the pool metrics of `service`.
    /// The error is one line for the operator, naming what failed and where.
    pub async fn start(config: &NovaConfig, service: &'static str) -> Result<Self, String> {
        // The metrics recorder first: a gauge taken by a consumer or the relay before it
        // exists is a no-op handle for good (nova's consumer lag went missing that way).
        nova_core::telemetry::prometheus();
        let (db, db_location) = open_database(config).await?;
        let kv = Kv::from_redis_url(config.redis_url.as_deref(), "nova:")
            .await
            .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
        let kv_location = config
            .redis_url
            .as_deref()
            .map_or_else(|| "in-process".to_owned(), redact);

        // Events: the outbox is the durable log; the relay moves committed events onto it.
        // With KAFKA_BROKERS the relay publishes to Kafka instead.
        let store = outbox::store(&db);
        let bus: Arc<dyn EventBus> = match &config.kafka_brokers {
            Some(brokers) => kafka_bus(brokers, service).await?,
            None => Arc::new(OutboxLogBus::new(store.clone()).with_service(service)),
        };
        let log = config.kafka_brokers.is_none();
        let pruner = Pruner::new(store.clone(), config.event_retention, log).with_service(service);
        let relay = Relay::new(store, bus.clone()).with_service(service);
        let waker = relay.waker();
        let shutdown = CancellationToken::new();
        let relay_task = {
            let token = shutdown.clone();
            tokio::spawn(async move { relay.run(token).await })
        };
        let prune_task = tokio::spawn(pruner.run(shutdown.clone()));
        let pool_metrics = spawn_pool_metrics(db.clone(), service, shutdown.clone());
        Ok(Self {
            db,
            kv,
            relay: waker,
            bus,
            db_location,
            kv_location,
            redis: config.redis_url.is_some(),
            kafka: config.kafka_brokers.is_some(),
            shutdown,
            tasks: vec![relay_task, prune_task, pool_metrics],
        })
    }

    /// A token cancelled by [`shutdown`](Self::shutdown), for the shell's own
    /// background tasks (hand their handles to [`track`](Self::track)).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Awaits `task` on [`shutdown`](Self::shutdown), after the token is cancelled.
    pub fn track(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    /// Runs `handler` as consumer group `consumer` on [`bus`](Self::bus) until shutdown
    /// (at-least-once; the handler deduplicates). A consumer that stops with an error is
    /// logged, not restarted silently in a loop.
    pub fn consume(&mut self, consumer: &'static str, handler: Arc<dyn EventHandler>) {
        let (bus, token) = (self.bus.clone(), self.shutdown.clone());
        self.track(tokio::spawn(async move {
            if let Err(error) = bus.consume(consumer, handler, token).await {
                tracing::error!(consumer, %error, "event consumer stopped");
            }
        }));
    }

    /// Adds the readiness checks of these backends to `server`: `database` (a ping),
    /// `redis` when Redis is configured, `kafka` when Kafka is; and hands it this
    /// process's shared rate limiter, so the edge limits of REST routes charge the same
    /// buckets as the gateway and every replica (Redis).
    pub fn readiness_checks(&self, server: Server) -> Server {
        let db = self.db.clone();
        let server = server.rate_limiter(self.kv.rate_limiter.clone());
        let mut server = server.readiness_check(
            "database",
            check_fn(move || {
                let db = db.clone();
                async move { db.ping().await }
            }),
        );
        if self.redis {
            let cache = self.kv.cache.clone();
            server = server.readiness_check(
                "redis",
                check_fn(move || {
                    let cache = cache.clone();
                    async move { cache.get("readiness-probe").await.map(|_| ()) }
                }),
            );
        }
        if self.kafka {
            let bus = self.bus.clone();
            server = server.readiness_check(
                "kafka",
                check_fn(move || {
                    let bus = bus.clone();
                    async move { bus.check().await }
                }),
            );
        }
        server
    }

    /// The pagination cursor codec: `NOVA_CURSOR_SECRET`, else a key generated once and
    /// kept in `NOVA_DATA_DIR/cursor.key` (set the variable when several replicas must
    /// read each other's cursors).
    pub fn cursor_codec(config: &NovaConfig) -> Result<CursorCodec, String> {
        match &config.cursor_secret {
            Some(secret) => Ok(CursorCodec::new(secret.as_bytes())),
            None => cursor_key_file(&config.data_dir.join(CURSOR_KEY_FILE))
                .map(|key| CursorCodec::new(&key)),
        }
    }

    /// Stops the relay (after the batch in hand) and the other background tasks, then
    /// closes the database.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        self.db.close().await;
    }
}

/// The Kafka event bus on `brokers` (`KAFKA_BROKERS`), checked to answer.
#[cfg(feature = "kafka")]
async fn kafka_bus(brokers: &[String], service: &'static str) -> Result<Arc<dyn EventBus>, String> {
    use nova_events::{KafkaBus, KafkaOptions};
    let bus = KafkaBus::new(KafkaOptions::new(brokers.join(",")))
        .map_err(|e| format!("cannot set up Kafka for KAFKA_BROKERS: {e}"))?
        .with_service(service);
    bus.ping().await.map_err(|e| {
        format!(
            "cannot reach Kafka at KAFKA_BROKERS={}: {e}",
            brokers.join(",")
        )
    })?;
    Ok(Arc::new(bus))
}

/// Without the `kafka` feature a configured broker is an error, not silently ignored.
#[cfg(not(feature = "kafka"))]
async fn kafka_bus(
    _brokers: &[String],
    _service: &'static str,
) -> Result<Arc<dyn EventBus>, String> {
    Err("KAFKA_BROKERS is set but this binary was built without Kafka support (cargo feature `kafka` of nova-runtime); unset it or rebuild".to_owned())
}

/// Reads the cursor key at `path`, creating it (32 random bytes, hex) when missing.
fn cursor_key_file(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(format!(
                "the cursor key in {shown} is shorter than 32 bytes"
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read the cursor key {shown}: {e}")),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let key: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    std::fs::write(path, &key).map_err(|e| format!("cannot write the cursor key {shown}: {e}"))?;
    Ok(key.into_bytes())
}

/// Opens the database named by `DATABASE_URL`, else SQLite in the data directory, and
/// migrates it; returns it with its location for logs.
pub async fn open_database(config: &NovaConfig) -> Result<(Db, String), String> {
    let options = DbOptions {
        max_connections: config.database_max_connections,
        ..DbOptions::default()
    };
    let (db, location) = match &config.database_url {
        Some(url) => (Db::connect(url, &options).await, redact(url)),
        None => {
            let path = config.data_dir.join("nova.db");
            let db = Db::open_sqlite_file(&path, &options).await;
            (db, path.display().to_string())
        }
    };
    let db = db.map_err(|e| format!("cannot open the database at {location}: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("cannot migrate the database at {location}: {e}"))?;
    Ok((db, location))
}

/// A URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Reports the pool size as `nova_db_pool_connections` every 5 seconds until `stop`.
fn spawn_pool_metrics(db: Db, service: &'static str, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !stop.is_cancelled() {
            let (size, idle) = db.pool_stats();
            crate::record_db_pool(service, size, idle);
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(POOL_METRICS_INTERVAL) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_logged() {
        assert_eq!(
            redact("postgres://nova:s3cret@db:5432/nova"),
            "postgres://nova:***@db:5432/nova"
        );
        assert_eq!(redact("redis://:pw@cache:6379"), "redis://:***@cache:6379");
        assert_eq!(redact("sqlite:./x.db"), "sqlite:./x.db");
    }

    #[test]
    fn the_cursor_key_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(CURSOR_KEY_FILE);
        let first = cursor_key_file(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(cursor_key_file(&path).unwrap(), first);
        std::fs::write(&path, "short").unwrap();
        assert!(cursor_key_file(&path).unwrap_err().contains("shorter"));
    }

    #[tokio::test]
    async fn starts_on_an_empty_data_dir_and_shuts_down() {
        let dir = tempfile::tempdir().unwrap();
        let src = nova_core::config::ConfigSource::from_pairs([(
            "NOVA_DATA_DIR",
            dir.path().display().to_string(),
        )]);
        let config = NovaConfig::from_source(&src).unwrap();
        let infra = Infra::start(&config, "infra-test").await.unwrap();
        infra.db.ping().await.unwrap();
        assert_eq!(infra.kv_location, "in-process");
        assert!(infra.db_location.ends_with("nova.db"));
        infra.shutdown().await;
    }

    fn config_with(dir: &Path, brokers: &str) -> NovaConfig {
        let src = nova_core::config::ConfigSource::from_pairs([
            ("NOVA_DATA_DIR", dir.display().to_string()),
            ("KAFKA_BROKERS", brokers.to_owned()),
        ]);
        NovaConfig::from_source(&src).unwrap()
    }

    #[cfg(not(feature = "kafka"))]
    #[tokio::test]
    async fn kafka_brokers_without_the_feature_stop_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with(dir.path(), "127.0.0.1:19092");
        let error = Infra::start(&config, "infra-test").await.unwrap_err();
        assert!(
            error.contains("KAFKA_BROKERS") && error.contains("`kafka`"),
            "{error}"
        );
        assert!(!error.contains('\n'));
    }

    #[cfg(feature = "kafka")]
    #[tokio::test]
    async fn unreachable_kafka_brokers_stop_the_start_with_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with(dir.path(), "127.0.0.1:1");
        let error = Infra::start(&config, "infra-test").await.unwrap_err();
        assert!(error.contains("KAFKA_BROKERS=127.0.0.1:1"), "{error}");
        assert!(!error.contains('\n'));
    }

    /// KAFKA_BROKERS set: committed outbox events reach a consumer through the broker.
    #[cfg(feature = "kafka")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kafka_brokers_put_events_on_kafka() {
        use nova_events::{AppendEvents, EventEnvelope, handler_fn};
        let Some(kafka) = nova_testkit::kafka().await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut infra = Infra::start(&config_with(dir.path(), kafka.brokers()), "infra-test")
            .await
            .unwrap();
        assert!(infra.bus.external(), "the Kafka bus, not the embedded log");
        infra.bus.check().await.unwrap();
        // A family of its own: its topic is new on the shared test broker.
        let event = EventEnvelope::new(
            format!("{}.happened", kafka.prefix()),
            "agg-1",
            chrono::Utc::now(),
            b"payload".to_vec(),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        infra.consume(
            "infra-test",
            handler_fn(move |e| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(e);
                    Ok(())
                }
            }),
        );
        let mut conn = infra.db.sqlite().unwrap().writer.begin().await.unwrap();
        conn.append_events(std::slice::from_ref(&event))
            .await
            .unwrap();
        conn.commit().await.unwrap();
        infra.relay.wake();
        let received = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let got = rx.recv().await.unwrap();
                if got.id == event.id {
                    return got;
                }
            }
        })
        .await
        .expect("the event arrives through Kafka");
        assert_eq!(received, event);
        infra.shutdown().await;
    }
}
