//! A fresh PostgreSQL database per test.

use std::str::FromStr;

use nova_db::{Db, DbOptions};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::{POSTGRES_URL_VAR, backend_url, block_on_side};

/// A migrated PostgreSQL database that exists only for one test.
pub struct TestPostgres {
    db: Db,
    name: String,
    admin: PgConnectOptions,
}

impl TestPostgres {
    /// The handle.
    pub fn db(&self) -> &Db {
        &self.db
    }
    /// The database's name (`nova_test_...`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// A URL for this database (for code that connects by itself).
    pub fn url(&self) -> String {
        self.admin
            .clone()
            .database(&self.name)
            .to_url_lossy()
            .to_string()
    }
}

/// Creates and migrates a fresh database on `NOVA_TEST_POSTGRES_URL`'s server.
///
/// `None` when the variable is unset outside CI. Panics (naming the variable) when it is
/// unset under CI or when the server cannot be reached.
pub async fn postgres() -> Option<TestPostgres> {
    let url = backend_url(POSTGRES_URL_VAR)?;
    let admin = match PgConnectOptions::from_str(&url) {
        Ok(o) => o,
        Err(e) => panic!("{POSTGRES_URL_VAR}={url:?} is not a PostgreSQL URL: {e}"),
    };
    let name = format!("nova_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = match admin.connect().await {
        Ok(c) => c,
        Err(e) => panic!("cannot reach PostgreSQL at {POSTGRES_URL_VAR}={url:?}: {e}"),
    };
    if let Err(e) = sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
    {
        panic!("cannot create test database on {POSTGRES_URL_VAR}: {e}");
    }
    drop(conn);
    let options = DbOptions {
        max_connections: 8,
        ..DbOptions::default()
    };
    let db_url = admin.clone().database(&name).to_url_lossy().to_string();
    let db = match Db::connect(&db_url, &options).await {
        Ok(db) => db,
        Err(e) => panic!("cannot connect to test database {name}: {e}"),
    };
    if let Err(e) = db.migrate().await {
        panic!("migrating test database {name} failed: {e}");
    }
    Some(TestPostgres { db, name, admin })
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "test failed: kept PostgreSQL database {} for inspection (psql -d {})",
                self.name, self.name
            );
            return;
        }
        let admin = self.admin.clone();
        let name = self.name.clone();
        let db = self.db.clone();
        block_on_side(async move {
            db.close().await;
            if let Ok(mut conn) = admin.connect().await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    }
}
