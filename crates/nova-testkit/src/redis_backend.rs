//! An isolated key prefix on the test Redis server.

use crate::{REDIS_URL_VAR, backend_url, block_on_side};

/// A Redis server plus a key prefix no other test uses.
pub struct TestRedis {
    url: String,
    prefix: String,
}

impl TestRedis {
    /// The server URL.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The unique key prefix (ends with `:`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// The Redis server of `NOVA_TEST_REDIS_URL` with a fresh key prefix.
///
/// `None` when unset outside CI; panics naming the variable when unset under CI or
/// unreachable.
pub async fn redis() -> Option<TestRedis> {
    let url = backend_url(REDIS_URL_VAR)?;
    let client = match redis::Client::open(url.as_str()) {
        Ok(c) => c,
        Err(e) => panic!("{REDIS_URL_VAR}={url:?} is not a Redis URL: {e}"),
    };
    let mut conn = match client.get_multiplexed_async_connection().await {
        Ok(c) => c,
        Err(e) => panic!("cannot reach Redis at {REDIS_URL_VAR}={url:?}: {e}"),
    };
    if let Err(e) = redis::cmd("PING").query_async::<String>(&mut conn).await {
        panic!("Redis at {REDIS_URL_VAR}={url:?} does not answer PING: {e}");
    }
    let prefix = format!("nova-test:{}:", uuid::Uuid::now_v7().simple());
    Some(TestRedis { url, prefix })
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test failed: kept Redis keys {}* for inspection",
                self.prefix
            );
            return;
        }
        let url = self.url.clone();
        let pattern = format!("{}*", self.prefix);
        block_on_side(async move {
            let Ok(client) = redis::Client::open(url.as_str()) else {
                return;
            };
            let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
            }
        });
    }
}
