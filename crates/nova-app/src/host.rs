//! What a process runs on: the shared infrastructure (database, kv, event relay) of a
//! domain service, or — for a stateless process (the gateway) — only a key-value store
//! for rate limits and, when `DATABASE_URL` is set, the database trending labels are read
//! from.

use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_db::Db;
use nova_events::{CancellationToken, EventHandler};
use nova_kv::Kv;
use nova_runtime::{Infra, Server};
use tokio::task::JoinHandle;

/// The backends of one process.
pub enum Host {
    /// Database, kv, event log and relay.
    Infra(Infra),
    /// Only what a stateless process needs.
    Stateless {
        /// Rate limits (Redis when `REDIS_URL` is set, shared by the replicas).
        kv: Kv,
        /// Read-only labels database (`DATABASE_URL`), if any.
        db: Option<Db>,
        /// Cancelled at shutdown.
        stop: CancellationToken,
        /// Background tasks awaited at shutdown.
        tasks: Vec<JoinHandle<()>>,
    },
}

impl Host {
    /// Starts the backends: the full infrastructure, or for a stateless process its
    /// kv store and optional labels database.
    pub async fn start(
        config: &NovaConfig,
        service: &'static str,
        stateless: bool,
    ) -> Result<Self, String> {
        if !stateless {
            return Ok(Host::Infra(Infra::start(config, service).await?));
        }
        let kv = Kv::from_redis_url(config.redis_url.as_deref(), "nova:")
            .await
            .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
        let db = match &config.database_url {
            Some(_) => Some(nova_runtime::open_database(config).await?.0),
            None => None,
        };
        Ok(Host::Stateless {
            kv,
            db,
            stop: CancellationToken::new(),
            tasks: Vec::new(),
        })
    }

    /// The infrastructure, unless stateless.
    pub fn infra(&self) -> Option<&Infra> {
        match self {
            Host::Infra(infra) => Some(infra),
            Host::Stateless { .. } => None,
        }
    }

    /// The key-value store.
    pub fn kv(&self) -> &Kv {
        match self {
            Host::Infra(infra) => &infra.kv,
            Host::Stateless { kv, .. } => kv,
        }
    }

    /// The database trending labels are read from.
    pub fn labels_db(&self) -> Option<Db> {
        match self {
            Host::Infra(infra) => Some(infra.db.clone()),
            Host::Stateless { db, .. } => db.clone(),
        }
    }

    /// Cancelled at shutdown, for background tasks.
    pub fn shutdown_token(&self) -> CancellationToken {
        match self {
            Host::Infra(infra) => infra.shutdown_token(),
            Host::Stateless { stop, .. } => stop.clone(),
        }
    }

    /// Awaits `task` at shutdown.
    pub fn track(&mut self, task: JoinHandle<()>) {
        match self {
            Host::Infra(infra) => infra.track(task),
            Host::Stateless { tasks, .. } => tasks.push(task),
        }
    }

    /// Runs `handler` as consumer group `consumer` until shutdown.
    pub fn consume(
        &mut self,
        consumer: &'static str,
        handler: Arc<dyn EventHandler>,
    ) -> Result<(), String> {
        match self {
            Host::Infra(infra) => {
                infra.consume(consumer, handler);
                Ok(())
            }
            Host::Stateless { .. } => Err(format!(
                "composition: consumer {consumer} needs an event log, and this process has none"
            )),
        }
    }

    /// Adds the backends' readiness checks (none for a stateless process).
    pub fn readiness_checks(&self, server: Server) -> Server {
        match self {
            Host::Infra(infra) => infra.readiness_checks(server),
            Host::Stateless { .. } => server,
        }
    }

    /// Where the data lives, for the start-up log.
    pub fn location(&self) -> &str {
        match self {
            Host::Infra(infra) => &infra.db_location,
            Host::Stateless { .. } => "none",
        }
    }

    /// Stops the background tasks and closes the database.
    pub async fn shutdown(self) {
        match self {
            Host::Infra(infra) => infra.shutdown().await,
            Host::Stateless {
                db, stop, tasks, ..
            } => {
                stop.cancel();
                for task in tasks {
                    let _ = task.await;
                }
                if let Some(db) = db {
                    db.close().await;
                }
            }
        }
    }
}
