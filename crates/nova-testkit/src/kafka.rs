//! A Kafka-protocol broker with a topic prefix no other test uses.

use std::time::Duration;

use crate::{KAFKA_BROKERS_VAR, backend_url};

/// The test broker plus a unique topic prefix (topics are `<prefix>.<family>.v1`).
///
/// Topics are left on the broker: `cargo xtask test` runs tansu with in-memory storage,
/// so they vanish when the broker stops.
#[derive(Debug, Clone)]
pub struct TestKafka {
    brokers: String,
    prefix: String,
}

impl TestKafka {
    /// `host:port[,host:port...]`.
    pub fn brokers(&self) -> &str {
        &self.brokers
    }
    /// The unique topic prefix (`t` + 32 hex digits; no dots).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// The broker of `NOVA_TEST_KAFKA_BROKERS` with a fresh topic prefix.
///
/// `None` when unset outside CI; panics naming the variable when unset under CI or when
/// no broker accepts a connection.
pub async fn kafka() -> Option<TestKafka> {
    let brokers = backend_url(KAFKA_BROKERS_VAR)?;
    let mut reachable = false;
    for broker in brokers.split(',').map(str::trim) {
        let connect = tokio::net::TcpStream::connect(broker);
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
            reachable = true;
            break;
        }
    }
    if !reachable {
        panic!("cannot reach a Kafka broker at {KAFKA_BROKERS_VAR}={brokers:?}");
    }
    let prefix = format!("t{}", uuid::Uuid::now_v7().simple());
    Some(TestKafka { brokers, prefix })
}
