//! # nova-testkit
//!
//! Gives each test its own real backend, so tests never share state and never stand in
//! a hand-written fake for a database:
//!
//! - [`postgres()`]: a fresh, migrated PostgreSQL database created on the server named by
//!   `NOVA_TEST_POSTGRES_URL`, dropped when the test passes and **kept for inspection when
//!   it fails** (its name is printed);
//! - [`sqlite()`]: a migrated SQLite database file in a temporary directory (WAL, the
//!   same writer/reader split as production);
//! - [`redis()`]: the Redis server named by `NOVA_TEST_REDIS_URL` with a unique key prefix,
//!   whose keys are deleted afterwards;
//! - [`kafka()`]: the Kafka-protocol broker named by `NOVA_TEST_KAFKA_BROKERS` with a
//!   unique topic prefix;
//! - [`smtp()`]: the SMTP server named by `NOVA_TEST_SMTP_URL` and the folder it writes
//!   each received message to (`NOVA_TEST_SMTP_MAILBOX`).
//! - [`opensearch_url()`]: the OpenSearch-protocol server named by
//!   `NOVA_TEST_OPENSEARCH_URL` (osmem-server under `cargo xtask test`).
//!
//! When a variable is unset the backend is skipped with a message — except under
//! `CI=true`, where a missing or unreachable backend **fails** the test and names the
//! variable. `cargo xtask test` sets the variables for the local servers.
//!
//! [`db_conformance_suite!`] runs one suite of store tests on every relational engine:
//!
//! ```no_run
//! # #[tokio::main] async fn main() {}
//! mod suite {
//!     pub async fn round_trips(db: nova_db::Db) {
//!         db.ping().await.unwrap(); // build the store on db, assert
//!     }
//! }
//! nova_testkit::db_conformance_suite!(suite: round_trips);
//! // → sqlite::round_trips and postgres::round_trips
//! ```

mod kafka;
mod postgres;
pub mod process;
mod redis_backend;
mod smtp;

use std::path::PathBuf;

pub use kafka::{TestKafka, kafka};
pub use postgres::{TestPostgres, postgres};
pub use redis_backend::{TestRedis, redis};
pub use smtp::{SMTP_MAILBOX_VAR, SMTP_URL_VAR, TestSmtp, smtp};

use nova_db::{Db, DbOptions};

/// Environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "NOVA_TEST_POSTGRES_URL";
/// Environment variable naming the Redis server for tests.
pub const REDIS_URL_VAR: &str = "NOVA_TEST_REDIS_URL";
/// Environment variable naming the Kafka brokers for tests (`host:port[,...]`).
pub const KAFKA_BROKERS_VAR: &str = "NOVA_TEST_KAFKA_BROKERS";
/// Environment variable naming the S3-protocol server for tests (`http://host:port`,
/// path-style; `cargo xtask test` starts moto_server).
pub const S3_URL_VAR: &str = "NOVA_TEST_S3_URL";
/// Environment variable naming the OpenSearch/Elasticsearch server for tests
/// (`http://host:port`; `cargo xtask test` starts osmem-server).
pub const OPENSEARCH_URL_VAR: &str = "NOVA_TEST_OPENSEARCH_URL";

/// Whether we run under CI (`CI=true`), where missing backends fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The test S3 server's URL ([`S3_URL_VAR`]): `None` (skip) outside CI when unset, a
/// panic naming the variable under `CI=true`. Tests create their own bucket in it.
pub fn s3_url() -> Option<String> {
    backend_url(S3_URL_VAR)
}

/// The test OpenSearch server's URL ([`OPENSEARCH_URL_VAR`]): `None` (skip) outside CI
/// when unset, a panic naming the variable under `CI=true`. Tests name their own indices
/// (a unique prefix each).
pub fn opensearch_url() -> Option<String> {
    backend_url(OPENSEARCH_URL_VAR)
}

/// Reads a backend URL variable. Unset: `None` (skip) outside CI, a panic naming the
/// variable under CI.
pub fn backend_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if in_ci() => panic!(
            "{var} is not set: CI=true requires every test backend (run the tests with `cargo xtask test`)"
        ),
        _ => {
            eprintln!("skipping: {var} is not set (run `cargo xtask test` to start the backends)");
            None
        }
    }
}

/// A migrated SQLite database in its own temporary directory.
pub struct TestSqlite {
    db: Db,
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TestSqlite {
    /// The handle.
    pub fn db(&self) -> &Db {
        &self.db
    }
    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// A fresh, migrated SQLite database file (deleted with the returned value).
pub async fn sqlite() -> TestSqlite {
    let dir = match tempfile::Builder::new().prefix("nova-test-").tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a temporary directory for SQLite: {e}"),
    };
    let path = dir.path().join("nova.db");
    let db = match Db::open_sqlite_file(&path, &DbOptions::default()).await {
        Ok(db) => db,
        Err(e) => panic!("cannot open SQLite at {}: {e}", path.display()),
    };
    if let Err(e) = db.migrate().await {
        panic!("migrating the test SQLite database failed: {e}");
    }
    TestSqlite {
        db,
        _dir: dir,
        path,
    }
}

/// Instantiates a relational conformance suite once per engine.
///
/// `$suite` is a module in scope holding `pub async fn name(db: nova_db::Db)` for each
/// listed test. Generates `mod sqlite` and `mod postgres`, one `#[tokio::test]` per name.
#[macro_export]
macro_rules! db_conformance_suite {
    ($suite:ident: $($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = $crate::sqlite().await;
                    super::$suite::$test(backend.db().clone()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(backend) = $crate::postgres().await else { return };
                    super::$suite::$test(backend.db().clone()).await;
                }
            )+
        }
    };
}

/// Runs `fut` to completion on a fresh runtime in another thread: used from `Drop`, where
/// we may be inside (or outside) an async runtime.
pub(crate) fn block_on_side<F>(fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let handle = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(fut);
        }
    });
    let _ = handle.join();
}
