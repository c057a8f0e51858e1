//! Display text of trending entities.
//!
//! Trending keys hashtags and links by a 128-bit hash so the hot path never touches a
//! string; readers want `#rustlang`, not a hash. The [`LabelRecorder`] consumer stores
//! the text of each hashtag and link the first time an event names it, and
//! [`TrendLabelStore::labels`] answers for a page of trends in one query.
//!
//! ```
//! # async fn run() -> Result<(), nova_core::Error> {
//! use nova_trending::EntityKey;
//! use nova_trending::labels::TrendLabelStore;
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &nova_db::DbOptions::default()).await?;
//! db.migrate().await?;
//! let labels = TrendLabelStore::new(db);
//! labels.remember(&[(EntityKey::hashtag("RustLang"), "RustLang".into())]).await?;
//! let found = labels.labels(&[EntityKey::hashtag("rustlang"), EntityKey::hashtag("go")]).await?;
//! assert_eq!(found, vec![Some("RustLang".to_owned()), None]);
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nova_core::Error;
use nova_db::{Db, DbResultExt, on_db};
use nova_events::{EventEnvelope, EventHandler};
use sqlx::{QueryBuilder, Row};

use crate::consumer::payload_of;
use crate::model::EntityKey;

/// Entities remembered per process before the "already stored" set is reset (bounds
/// memory; a reset only costs a few redundant `ON CONFLICT DO NOTHING` inserts).
const SEEN_CAPACITY: usize = 100_000;

/// Most labels asked for in one query (bind-variable limits of both engines).
const MAX_LOOKUP: usize = 500;

/// Labels in `trending_labels` (PostgreSQL or SQLite).
#[derive(Debug, Clone)]
pub struct TrendLabelStore {
    db: Db,
    seen: Arc<Mutex<HashSet<EntityKey>>>,
}

impl TrendLabelStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self {
            db,
            seen: Arc::default(),
        }
    }

    /// Stores each entity's label unless one is already stored (the first spelling seen
    /// wins: `#RustLang` and `#rustlang` are one hashtag).
    pub async fn remember(&self, labels: &[(EntityKey, String)]) -> Result<(), Error> {
        let fresh: Vec<&(EntityKey, String)> = {
            let seen = self
                .seen
                .lock()
                .map_err(|_| Error::internal("trending labels: a panicked thread held the lock"))?;
            labels.iter().filter(|(k, _)| !seen.contains(k)).collect()
        };
        if fresh.is_empty() {
            return Ok(());
        }
        let now = chrono::Utc::now();
        on_db!(&self.db, tx, |tx| {
            for (entity, label) in &fresh {
                sqlx::query(
                    "INSERT INTO trending_labels (entity_kind, entity_id, label, first_seen)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (entity_kind, entity_id) DO NOTHING",
                )
                .bind(entity.kind.as_str())
                .bind(entity.id_hex())
                .bind(label.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            Ok::<_, Error>(())
        })?;
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| Error::internal("trending labels: a panicked thread held the lock"))?;
        if seen.len() + fresh.len() > SEEN_CAPACITY {
            seen.clear();
        }
        seen.extend(fresh.iter().map(|(k, _)| *k));
        Ok(())
    }

    /// The label of each entity, in order (`None` when never seen, and for posts and
    /// creators, whose ids are their labels).
    pub async fn labels(&self, entities: &[EntityKey]) -> Result<Vec<Option<String>>, Error> {
        if entities.len() > MAX_LOOKUP {
            return Err(Error::invalid("entities", format!("at most {MAX_LOOKUP}")));
        }
        if entities.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, String)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(
                "SELECT entity_kind, entity_id, label FROM trending_labels WHERE (entity_kind, entity_id) IN (",
            );
            let mut list = q.separated(", ");
            for entity in entities {
                list.push("(")
                    .push_bind_unseparated(entity.kind.as_str())
                    .push_unseparated(", ")
                    .push_bind_unseparated(entity.id_hex())
                    .push_unseparated(")");
            }
            q.push(")");
            let rows = q.build().fetch_all(c).await.db()?;
            rows.iter()
                .map(|r| Ok((r.try_get(0).db()?, r.try_get(1).db()?, r.try_get(2).db()?)))
                .collect::<Result<Vec<_>, Error>>()
        })?;
        Ok(entities
            .iter()
            .map(|e| {
                let (kind, id) = (e.kind.as_str(), e.id_hex());
                rows.iter()
                    .find(|(k, i, _)| k == kind && *i == id)
                    .map(|(_, _, label)| label.clone())
            })
            .collect())
    }
}

/// The hashtags and links an event names, with their text.
pub fn labels_of(event: &EventEnvelope) -> Result<Vec<(EntityKey, String)>, Error> {
    let Some((_, payload)) = payload_of(event)? else {
        return Ok(Vec::new());
    };
    let tags = payload
        .hashtags
        .iter()
        .map(|t| (EntityKey::hashtag(t), t.trim_start_matches('#').to_owned()));
    let links = payload
        .links
        .iter()
        .map(|l| (EntityKey::link(l), l.trim().to_owned()));
    Ok(tags.chain(links).collect())
}

/// An [`EventHandler`] storing the labels of the hashtags and links in engagement
/// events. Idempotent by construction (first spelling wins), so redelivery is harmless.
pub struct LabelRecorder {
    store: TrendLabelStore,
}

impl LabelRecorder {
    /// Records into `store`.
    pub fn new(store: TrendLabelStore) -> Self {
        Self { store }
    }
}

/// The consumer group of the label recorder.
pub const LABELS_CONSUMER: &str = "ranking-trend-labels";

#[async_trait]
impl EventHandler for LabelRecorder {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        let labels = labels_of(event)?;
        self.store.remember(&labels).await
    }
}
