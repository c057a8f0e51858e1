//! A GraphService on a real backend, with its clock and outbox.

use std::sync::Arc;

use nova_core::cursor::CursorCodec;
use nova_core::{ManualClock, UserId};
use nova_db::Db;
use nova_events::{EventEnvelope, OutboxStore, outbox};
use nova_graph::{GraphService, GraphStore, SqlGraphStore};

pub struct Harness {
    pub graph: GraphService,
    pub clock: ManualClock,
    /// Where the backend writes its events.
    pub outbox: Arc<dyn OutboxStore>,
    /// The SQL database, for backends that keep the graph in it.
    pub sql: Option<Db>,
    /// Keeps a side database (Cypher backends' outbox) alive.
    pub _keep: Option<nova_testkit::TestSqlite>,
}

pub fn codec() -> CursorCodec {
    CursorCodec::new(b"graph tests: 32 bytes of secret!")
}

pub fn build(store: Arc<dyn GraphStore>) -> (GraphService, ManualClock) {
    let clock = ManualClock::new(chrono::Utc::now());
    (GraphService::new(store, clock.shared(), codec()), clock)
}

pub fn sql(db: Db) -> Harness {
    let store = Arc::new(SqlGraphStore::new(db.clone()));
    let outbox = outbox::store(&db);
    let (graph, clock) = build(store);
    Harness {
        graph,
        clock,
        outbox,
        sql: Some(db),
        _keep: None,
    }
}

impl Harness {
    /// Unpublished events, oldest first, as `(type, aggregate)`.
    pub async fn events(&self) -> Vec<EventEnvelope> {
        self.outbox.fetch_unpublished(10_000).await.unwrap()
    }

    pub async fn event_types(&self) -> Vec<String> {
        self.events()
            .await
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    /// Marks every event so far as published, so the next `events()` shows only new ones.
    pub async fn clear_events(&self) {
        let ids: Vec<_> = self.events().await.into_iter().map(|e| e.id).collect();
        self.outbox
            .mark_published(&ids, chrono::Utc::now())
            .await
            .unwrap();
    }
}

/// `n` fresh user ids, in creation (= id) order.
pub fn users(n: usize) -> Vec<UserId> {
    (0..n).map(|_| UserId::new()).collect()
}
