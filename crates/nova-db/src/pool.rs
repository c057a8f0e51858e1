//! The [`Db`] handle.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use nova_core::Error;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::map_err;

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Most connections in a PostgreSQL pool, or SQLite readers.
    pub max_connections: u32,
    /// How long to wait for a free connection before failing with `Unavailable`.
    pub acquire_timeout: Duration,
    /// How long SQLite waits on a locked database before giving up.
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// SQLite pools: one writer connection, several readers, same database file.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    /// The only connection that writes; use it for every transaction that changes data.
    pub writer: SqlitePool,
    /// Read-only work (WAL lets readers run beside the writer).
    pub reader: SqlitePool,
    /// Whether `reader` and `writer` are the same pool (in-memory databases).
    shared: bool,
}

/// A relational database: PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub enum Db {
    /// PostgreSQL pool.
    Postgres(PgPool),
    /// SQLite pools.
    Sqlite(SqliteDb),
}

static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

impl Db {
    /// Connects by URL: `postgres://` / `postgresql://` or `sqlite:` (`sqlite::memory:`
    /// for a private in-memory database).
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self, Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url).map_err(|e| {
                Error::invalid("DATABASE_URL", "is not a valid PostgreSQL URL").with_source(e)
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(map_err)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url).map_err(|e| {
                Error::invalid("DATABASE_URL", "is not a valid SQLite URL").with_source(e)
            })?;
            Self::open_sqlite(connect, url.contains(":memory:"), options).await
        } else {
            Err(Error::invalid(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ))
        }
    }

    /// Opens (creating if needed) a SQLite database file.
    pub async fn open_sqlite_file(path: &Path, options: &DbOptions) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::invalid("NOVA_DATA_DIR", format!("cannot create {}", dir.display()))
                    .with_source(e)
            })?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_sqlite(connect, false, options).await
    }

    async fn open_sqlite(
        connect: SqliteConnectOptions,
        in_memory: bool,
        options: &DbOptions,
    ) -> Result<Self, Error> {
        let connect = connect
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        if in_memory {
            // Each in-memory connection is its own database: keep exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(map_err)?;
            return Ok(Db::Sqlite(SqliteDb {
                writer: pool.clone(),
                reader: pool,
                shared: true,
            }));
        }
        let connect = connect.journal_mode(SqliteJournalMode::Wal);
        // No ping before each acquire: a local file connection cannot go stale, and the
        // ping was one more round trip to the connection's thread for every query.
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(map_err)?;
        let reader = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Db::Sqlite(SqliteDb {
            writer,
            reader,
            shared: false,
        }))
    }

    /// The engine.
    pub fn kind(&self) -> DbKind {
        match self {
            Db::Postgres(_) => DbKind::Postgres,
            Db::Sqlite(_) => DbKind::Sqlite,
        }
    }

    /// The PostgreSQL pool, if this is PostgreSQL.
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Db::Postgres(pool) => Some(pool),
            Db::Sqlite(_) => None,
        }
    }

    /// The SQLite pools, if this is SQLite.
    pub fn sqlite(&self) -> Option<&SqliteDb> {
        match self {
            Db::Sqlite(db) => Some(db),
            Db::Postgres(_) => None,
        }
    }

    /// Applies every pending migration of this engine.
    pub async fn migrate(&self) -> Result<(), Error> {
        let result = match self {
            Db::Postgres(pool) => PG_MIGRATOR.run(pool).await,
            Db::Sqlite(db) => SQLITE_MIGRATOR.run(&db.writer).await,
        };
        result.map_err(|e| Error::internal(format!("migration failed: {e}")))
    }

    /// The migrations this engine has, as (version, description).
    pub fn migrations(&self) -> Vec<(i64, String)> {
        let migrator = match self {
            Db::Postgres(_) => &PG_MIGRATOR,
            Db::Sqlite(_) => &SQLITE_MIGRATOR,
        };
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Round trip to the database (readiness checks).
    pub async fn ping(&self) -> Result<(), Error> {
        let result = match self {
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()),
            Db::Sqlite(db) => sqlx::query("SELECT 1")
                .execute(&db.reader)
                .await
                .map(|_| ()),
        };
        result.map_err(map_err)
    }

    /// `(open connections, idle connections)` across the handle's pools.
    pub fn pool_stats(&self) -> (u32, u32) {
        match self {
            Db::Postgres(pool) => (pool.size(), pool.num_idle() as u32),
            Db::Sqlite(db) if db.shared => (db.writer.size(), db.writer.num_idle() as u32),
            Db::Sqlite(db) => (
                db.writer.size() + db.reader.size(),
                (db.writer.num_idle() + db.reader.num_idle()) as u32,
            ),
        }
    }

    /// Closes every connection (waits for checked-out ones to return).
    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite(db) => {
                db.writer.close().await;
                db.reader.close().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rejects_unknown_schemes_naming_the_variable() {
        let err = Db::connect("mysql://x", &DbOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("DATABASE_URL"));
    }

    #[tokio::test]
    async fn sqlite_file_is_wal_and_readers_see_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite_file(&dir.path().join("x/nova.db"), &DbOptions::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let sqlite = db.sqlite().unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&sqlite.writer)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&sqlite.writer)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&sqlite.writer)
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&sqlite.reader)
            .await
            .unwrap();
        assert_eq!(n, 1);
        // Readers cannot write: writes must go through the single writer.
        assert!(
            sqlx::query("INSERT INTO t VALUES (2)")
                .execute(&sqlite.reader)
                .await
                .is_err()
        );
    }
}
