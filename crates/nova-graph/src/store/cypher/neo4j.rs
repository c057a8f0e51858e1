//! [`CypherTransport`] for Neo4j 5 over Bolt (`neo4rs`).

use async_trait::async_trait;
use neo4rs::{BoltType, Graph, Query, Row};
use nova_core::{Error, Result};

use super::{CypherTransport, Param, Value};

/// A Neo4j database reached at a Bolt URI (`bolt://host:7687`, `neo4j://...`).
#[derive(Clone)]
pub struct Neo4jTransport {
    graph: Graph,
}

impl std::fmt::Debug for Neo4jTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neo4jTransport").finish_non_exhaustive()
    }
}

fn unavailable(e: neo4rs::Error) -> Error {
    Error::unavailable(e)
}

impl Neo4jTransport {
    /// Connects to `uri` as `user` / `password`.
    pub fn connect(uri: &str, user: &str, password: &str) -> Result<Self> {
        let graph = Graph::new(uri, user, password).map_err(unavailable)?;
        Ok(Self { graph })
    }

    /// Connects with credentials in the URI: `bolt://user:password@host:7687`
    /// (`neo4j` / no password when absent).
    pub fn connect_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::invalid("NEO4J_URI", "must look like bolt://host:7687"))?;
        let (auth, host) = rest.rsplit_once('@').unwrap_or(("neo4j:", rest));
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        Self::connect(&format!("{scheme}://{host}"), user, password)
    }
}

fn param(p: Param) -> BoltType {
    match p {
        Param::Null => BoltType::from(None::<i64>),
        Param::Bool(b) => BoltType::from(b),
        Param::Int(n) => BoltType::from(n),
        Param::Str(s) => BoltType::from(s),
        Param::StrList(list) => BoltType::from(list),
    }
}

fn cell(row: &Row, column: &str) -> Value {
    if let Ok(n) = row.get::<Option<i64>>(column) {
        return n.map_or(Value::Null, Value::Int);
    }
    if let Ok(s) = row.get::<String>(column) {
        return Value::Str(s);
    }
    if let Ok(b) = row.get::<bool>(column) {
        return Value::Bool(b);
    }
    Value::Other(column.to_owned())
}

#[async_trait]
impl CypherTransport for Neo4jTransport {
    async fn run(
        &self,
        query: &str,
        columns: &[&str],
        params: Vec<(&'static str, Param)>,
        read_only: bool,
    ) -> Result<Vec<Vec<Value>>> {
        let mut q = Query::new(query.to_owned());
        for (name, p) in params {
            q = q.param(name, param(p));
        }
        // neo4rs retries transient failures (deadlocks, leader changes) with backoff.
        let mut stream = if read_only {
            self.graph.execute_read(q).await
        } else {
            self.graph.execute(q).await
        }
        .map_err(unavailable)?;
        let mut rows = Vec::new();
        while let Some(row) = stream.next().await.map_err(unavailable)? {
            rows.push(columns.iter().map(|c| cell(&row, c)).collect());
        }
        Ok(rows)
    }

    async fn ensure_schema(&self) -> Result<()> {
        let q = Query::new(
            "CREATE CONSTRAINT nova_user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE"
                .to_owned(),
        );
        self.graph.run(q).await.map(|_| ()).map_err(unavailable)
    }
}
