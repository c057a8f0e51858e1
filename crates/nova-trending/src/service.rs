//! The trending service: the engine behind a lock, a clock, and the snapshot store.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, SharedClock};

use crate::api::TrendingApi;
use crate::config::TrendingConfig;
use crate::engine::TrendingEngine;
use crate::model::{Engagement, EntityKey, Ranked, ReviewState, Scope, Trend};
use crate::store::TrendingStore;

/// Trending in this process. Cheap to share (`Arc`); every call holds the engine lock
/// only for in-memory work, never across I/O.
pub struct TrendingService {
    engine: Mutex<TrendingEngine>,
    store: Arc<dyn TrendingStore>,
    clock: SharedClock,
}

impl std::fmt::Debug for TrendingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrendingService").finish_non_exhaustive()
    }
}

impl TrendingService {
    /// A service that starts from the stored snapshot (if any).
    pub async fn start(
        config: TrendingConfig,
        store: Arc<dyn TrendingStore>,
        clock: SharedClock,
    ) -> Result<Self, Error> {
        let mut engine = TrendingEngine::new(config)?;
        let snapshot = store.load().await?;
        let loaded = engine.restore(&snapshot);
        tracing::info!(rows = loaded, "trending: restored snapshot");
        Ok(Self {
            engine: Mutex::new(engine),
            store,
            clock,
        })
    }

    fn engine(&self) -> Result<MutexGuard<'_, TrendingEngine>, Error> {
        self.engine
            .lock()
            .map_err(|_| Error::internal("trending engine lock poisoned"))
    }

    /// Writes a snapshot now (call periodically and on shutdown). Returns the rows saved.
    pub async fn snapshot(&self) -> Result<usize, Error> {
        let snapshot = self.engine()?.snapshot(self.clock.now());
        self.store.save(&snapshot).await?;
        Ok(snapshot.rows.len())
    }

    /// Runs `f` with the engine (for the Redis sharing adapter and diagnostics).
    pub fn with_engine<T>(&self, f: impl FnOnce(&TrendingEngine) -> T) -> Result<T, Error> {
        Ok(f(&*self.engine()?))
    }
}

#[async_trait]
impl TrendingApi for TrendingService {
    async fn ingest(&self, events: &[Engagement]) -> Result<usize, Error> {
        Ok(self.engine()?.ingest_batch(events))
    }

    async fn trends(&self, scope: Scope, limit: usize) -> Result<Vec<Trend>, Error> {
        let now = self.clock.now();
        Ok(self.engine()?.trends(&scope, limit, now))
    }

    async fn top(&self, scope: Scope, window: &str, limit: usize) -> Result<Vec<Ranked>, Error> {
        let now = self.clock.now();
        self.engine()?.top(&scope, window, limit, now)
    }

    async fn review(
        &self,
        by: &Principal,
        entity: EntityKey,
        state: ReviewState,
    ) -> Result<(), Error> {
        if !may_review(by) {
            return Err(Error::from_kind(ErrorKind::PermissionDenied));
        }
        self.store
            .set_review(entity, state, None, self.clock.now())
            .await?;
        self.engine()?.set_review(entity, state);
        Ok(())
    }

    async fn velocity(&self, entity: EntityKey) -> Result<f64, Error> {
        let now = self.clock.now();
        Ok(self.engine()?.velocity(&entity, now))
    }
}

/// Who may review trends: principals with the `admin` or `moderator` scope.
pub fn may_review(by: &Principal) -> bool {
    by.has_scope("admin") || by.has_scope("moderator")
}
