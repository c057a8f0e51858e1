//! # nova-db
//!
//! One handle, [`Db`], over either PostgreSQL (the scale-out engine) or SQLite (the
//! embedded default), chosen by the URL scheme. Domain stores keep one adapter per engine
//! (`store/postgres.rs`, `store/sqlite.rs`) and reach the right pool through
//! [`Db::postgres`] / [`Db::sqlite`].
//!
//! - **Migrations** for both engines live in `migrations/postgres` and `migrations/sqlite`
//!   at the workspace root and are embedded in the binary; [`Db::migrate`] applies them.
//!   On PostgreSQL sqlx holds an advisory lock while migrating, so several replicas can
//!   start at once.
//! - **SQLite** runs in WAL mode with a busy timeout, foreign keys on, and a single
//!   *writer* connection beside a pool of *readers*: SQLite admits one writer at a time
//!   anyway, and funnelling writes through one connection turns "database is locked"
//!   failures into an orderly queue.
//! - [`map_err`] turns sqlx errors into domain errors in one place (unique violation →
//!   `Conflict`, pool exhaustion → `Unavailable`, anything else → `Internal` with the
//!   details kept for the logs only).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use nova_db::{Db, DbOptions};
//!
//! let db = Db::connect("sqlite::memory:", &DbOptions::default()).await?;
//! db.migrate().await?;
//! db.ping().await?;
//! assert_eq!(db.kind(), nova_db::DbKind::Sqlite);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

mod error;
mod on_db;
mod pool;

pub use error::{DbResultExt, is_unique_violation, map_err};
pub use pool::{Db, DbKind, DbOptions, SqliteDb};

/// Re-exported so domain crates use the same sqlx as nova-db.
pub use sqlx;
