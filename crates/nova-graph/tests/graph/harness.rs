//! A GraphService on a real backend, with its clock and outbox.

use std::sync::Arc;

use nova_core::cursor::CursorCodec;
use nova_core::{ManualClock, UserId};
use nova_db::Db;
use nova_events::{EventEnvelope, OutboxStore, outbox};
use nova_graph::{
    CachedGraphStore, GraphApi, GraphGrpcClient, GraphGrpcServer, GraphService, GraphStore,
    SqlGraphStore,
};

pub struct Harness {
    /// The API under test (the service itself, or a gRPC client in front of it).
    pub graph: Arc<dyn GraphApi>,
    /// The store behind it (audits).
    pub store: Arc<dyn GraphStore>,
    pub clock: ManualClock,
    /// Where the backend writes its events.
    pub outbox: Arc<dyn OutboxStore>,
    /// The SQL database, for backends that keep the graph in it.
    pub sql: Option<Db>,
    /// Keeps a side database (Cypher backends' outbox) alive.
    pub _keep: Option<nova_testkit::TestSqlite>,
    /// Deletes the test's FalkorDB graph when dropped.
    pub _graph: Option<GraphKey>,
}

/// A FalkorDB graph deleted on drop (a sync Redis connection: no runtime needed).
pub struct GraphKey {
    pub url: String,
    pub name: String,
}

impl Drop for GraphKey {
    fn drop(&mut self) {
        if let Ok(mut conn) =
            redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        {
            let _: redis::RedisResult<()> =
                redis::cmd("GRAPH.DELETE").arg(&self.name).query(&mut conn);
        }
    }
}

/// The Cypher backend on the FalkorDB server named by `NOVA_TEST_FALKORDB_URL`, in a
/// graph of its own, with its events going to a SQLite outbox.
#[cfg(feature = "cypher")]
pub async fn falkordb() -> Option<Harness> {
    use nova_graph::store::cypher::{CypherGraphStore, FalkorTransport};
    let url = nova_testkit::backend_url("NOVA_TEST_FALKORDB_URL")?;
    let name = format!("nova-test-{}", UserId::new());
    let transport = match FalkorTransport::connect(&url, &name).await {
        Ok(t) => t,
        Err(e) => panic!("FalkorDB at NOVA_TEST_FALKORDB_URL={url} is not reachable: {e}"),
    };
    let key = GraphKey { url, name };
    let side = nova_testkit::sqlite().await;
    let outbox = outbox::store(side.db());
    let store: Arc<dyn GraphStore> = Arc::new(
        CypherGraphStore::new(Arc::new(transport))
            .await
            .unwrap()
            .with_outbox(outbox.clone()),
    );
    let (graph, clock) = build(store.clone());
    Some(Harness {
        graph,
        store,
        clock,
        outbox,
        sql: None,
        _keep: Some(side),
        _graph: Some(key),
    })
}

pub fn codec() -> CursorCodec {
    CursorCodec::new(b"graph tests: 32 bytes of secret!")
}

pub fn build(store: Arc<dyn GraphStore>) -> (Arc<dyn GraphApi>, ManualClock) {
    let clock = ManualClock::new(chrono::Utc::now());
    (
        Arc::new(GraphService::new(store, clock.shared(), codec())),
        clock,
    )
}

pub fn sql(db: Db) -> Harness {
    let store: Arc<dyn GraphStore> = Arc::new(SqlGraphStore::new(db.clone()));
    let outbox = outbox::store(&db);
    let (graph, clock) = build(store.clone());
    Harness {
        graph,
        store,
        clock,
        outbox,
        sql: Some(db),
        _keep: None,
        _graph: None,
    }
}

/// The SQLite store behind [`CachedGraphStore`] (reads warm the cache, so every case
/// checks that writes invalidate what they change).
pub fn cached(db: Db) -> Harness {
    let mut harness = sql(db);
    let store: Arc<dyn GraphStore> = Arc::new(CachedGraphStore::new(harness.store.clone(), 10_000));
    let (graph, clock) = build(store.clone());
    harness.store = store;
    harness.graph = graph;
    harness.clock = clock;
    harness
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

/// The Cypher backend on the Neo4j named by `NOVA_TEST_NEO4J_URI`
/// (`bolt://user:password@host:7687`), or `None` (skipped, also under CI: no Neo4j runs
/// here). Tests share that database: use a throwaway one; every test uses fresh ids.
#[cfg(feature = "neo4j")]
pub async fn neo4j() -> Option<Harness> {
    use nova_graph::store::cypher::{CypherGraphStore, Neo4jTransport};
    let Some(url) = std::env::var("NOVA_TEST_NEO4J_URI")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "skipping: NOVA_TEST_NEO4J_URI is not set (a Neo4j 5 to run the Cypher suite on)"
        );
        return None;
    };
    let transport = match Neo4jTransport::connect_url(&url) {
        Ok(t) => t,
        Err(e) => panic!("Neo4j at NOVA_TEST_NEO4J_URI is not reachable: {e}"),
    };
    let side = nova_testkit::sqlite().await;
    let outbox = outbox::store(side.db());
    let store: Arc<dyn GraphStore> = Arc::new(
        CypherGraphStore::new(Arc::new(transport))
            .await
            .unwrap()
            .with_outbox(outbox.clone()),
    );
    let (graph, clock) = build(store.clone());
    Some(Harness {
        graph,
        store,
        clock,
        outbox,
        sql: None,
        _keep: Some(side),
        _graph: None,
    })
}

/// The SQL backend behind a real tonic server, driven through [`GraphGrpcClient`]: the
/// whole suite checks the gRPC adapters too (errors keep their kind and field).
pub async fn grpc(db: Db) -> Harness {
    let mut local = sql(db);
    let server = GraphGrpcServer::new(local.graph.clone()).into_service();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    local.graph = Arc::new(GraphGrpcClient::connect(endpoint).await.unwrap());
    local
}
