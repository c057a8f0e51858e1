//! [`CypherTransport`] for FalkorDB over the Redis protocol (the `falkordb` crate).

use async_trait::async_trait;
use falkordb::{
    AsyncGraph, FalkorAsyncClient, FalkorClientBuilder, FalkorConnectionInfo, FalkorValue,
};
use nova_core::{Error, Result};

use super::{CypherTransport, Param, Value};

/// One FalkorDB graph (a Redis key) reached through a FalkorDB / Redis URL
/// (`redis://127.0.0.1:6390`, `falkor://...`).
#[derive(Clone)]
pub struct FalkorTransport {
    client: std::sync::Arc<FalkorAsyncClient>,
    graph: AsyncGraph,
}

impl std::fmt::Debug for FalkorTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FalkorTransport")
            .field("graph", &self.graph.graph_name())
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::unavailable(e)
}

impl FalkorTransport {
    /// Connects to `url` and selects the graph `graph` (created by the first write).
    pub async fn connect(url: &str, graph: &str) -> Result<Self> {
        let info: FalkorConnectionInfo = url
            .try_into()
            .map_err(|_| Error::invalid("FALKORDB_URL", "is not a valid FalkorDB / Redis URL"))?;
        let client = FalkorClientBuilder::new_async()
            .with_connection_info(info)
            .build()
            .await
            .map_err(unavailable)?;
        let graph = client.select_graph(graph);
        Ok(Self {
            client: std::sync::Arc::new(client),
            graph,
        })
    }

    /// Deletes the whole graph (tests and teardown).
    pub async fn delete_graph(&self) -> Result<()> {
        let mut graph = self.graph.clone();
        graph.delete().await.map_err(unavailable)
    }

    /// The client, for other graphs on the same server.
    pub fn client(&self) -> &FalkorAsyncClient {
        &self.client
    }
}

fn value(v: FalkorValue) -> Result<Value> {
    Ok(match v {
        FalkorValue::None => Value::Null,
        FalkorValue::Bool(b) => Value::Bool(b),
        FalkorValue::I64(n) => Value::Int(n),
        FalkorValue::String(s) => Value::Str(s),
        FalkorValue::Unparseable(e) => {
            return Err(Error::internal(format!("unparseable FalkorDB value: {e}")));
        }
        other => Value::Other(format!("{other:?}")),
    })
}

#[async_trait]
impl CypherTransport for FalkorTransport {
    async fn run(
        &self,
        query: &str,
        columns: &[&str],
        params: Vec<(&'static str, Param)>,
        read_only: bool,
    ) -> Result<Vec<Vec<Value>>> {
        let mut graph = self.graph.clone();
        let mut builder = if read_only {
            graph.ro_query(query)
        } else {
            graph.query(query)
        };
        for (name, param) in params {
            builder = match param {
                Param::Null => builder.with_param(name, None::<i64>),
                Param::Bool(b) => builder.with_param(name, b),
                Param::Int(n) => builder.with_param(name, n),
                Param::Str(s) => builder.with_param(name, s),
                Param::StrList(list) => builder.with_param(name, list),
            };
        }
        let result = builder.execute().await.map_err(unavailable)?;
        // FalkorDB returns the columns in `RETURN` order, which is `columns`' order.
        let rows: Vec<Vec<Value>> = result
            .data
            .into_values_lossy()
            .map(|row| row.into_iter().map(value).collect())
            .collect::<Result<_>>()?;
        match rows.iter().find(|row| row.len() != columns.len()) {
            Some(row) => Err(Error::internal(format!(
                "FalkorDB returned {} columns, expected {columns:?}",
                row.len()
            ))),
            None => Ok(rows),
        }
    }

    async fn ensure_schema(&self) -> Result<()> {
        let mut graph = self.graph.clone();
        let indexed = graph
            .query("CREATE INDEX FOR (u:User) ON (u.id)")
            .execute()
            .await;
        match indexed {
            Ok(_) => Ok(()),
            // Already there (a second start, another replica).
            Err(e) if e.to_string().contains("already indexed") => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}
