//! [`on_db!`](crate::on_db): one piece of sqlx code, run on whichever engine a [`Db`](crate::Db) is.
//!
//! Most store queries are the same SQL on PostgreSQL and SQLite (sqlx accepts `$1`
//! placeholders on both), differing only in the pool's type. The macro expands the body
//! once per engine, so each expansion is type-checked against its own driver, without a
//! second copy of the code in the source.

/// Runs `body` with a connection of the right engine.
///
/// - `on_db!(db, read, |c| ...)`: `c` is a `&PgPool` or the SQLite *reader* pool;
/// - `on_db!(db, write, |c| ...)`: `c` is a `&PgPool` or the SQLite *writer* pool;
/// - `on_db!(db, tx, |tx| ...)`: `tx` is a transaction (the SQLite one on the writer),
///   committed when `body` finishes without `?`-returning an error, rolled back otherwise.
///
/// `body` is an expression (it may `.await` and use `?`; errors must be `nova_core::Error`).
/// Both expansions must have the same type, so map driver-specific results (query
/// results, rows) to plain values inside the body.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use nova_db::{Db, DbResultExt, on_db};
///
/// let db = Db::connect("sqlite::memory:", &Default::default()).await?;
/// on_db!(&db, write, |c| sqlx::query("CREATE TABLE t (n BIGINT)").execute(c).await.db().map(|_| ()))?;
/// let inserted: u64 = on_db!(&db, tx, |tx| {
///     let a = sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(7_i64).execute(&mut *tx).await.db()?;
///     let b = sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(8_i64).execute(&mut *tx).await.db()?;
///     a.rows_affected() + b.rows_affected()
/// });
/// assert_eq!(inserted, 2);
/// let sum: i64 = on_db!(&db, read, |c| sqlx::query_scalar("SELECT sum(n) FROM t").fetch_one(c).await.db())?;
/// assert_eq!(sum, 15);
/// # Ok::<(), nova_core::Error>(())
/// # }).unwrap();
/// ```
#[macro_export]
macro_rules! on_db {
    // The comma form (`read, |c| ...`) is what rustfmt formats like a closure; the
    // older form without the comma is still accepted.
    ($db:expr, read |$c:ident| $body:expr) => {
        $crate::on_db!($db, read, |$c| $body)
    };
    ($db:expr, write |$c:ident| $body:expr) => {
        $crate::on_db!($db, write, |$c| $body)
    };
    ($db:expr, tx |$tx:ident| $body:expr) => {
        $crate::on_db!($db, tx, |$tx| $body)
    };
    ($db:expr, read, |$c:ident| $body:expr) => {
        match $db {
            $crate::Db::Postgres(pool) => {
                let $c = pool;
                $body
            }
            $crate::Db::Sqlite(sqlite) => {
                let $c = &sqlite.reader;
                $body
            }
        }
    };
    ($db:expr, write, |$c:ident| $body:expr) => {
        match $db {
            $crate::Db::Postgres(pool) => {
                let $c = pool;
                $body
            }
            $crate::Db::Sqlite(sqlite) => {
                let $c = &sqlite.writer;
                $body
            }
        }
    };
    ($db:expr, tx, |$tx:ident| $body:expr) => {
        match $db {
            $crate::Db::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await.map_err($crate::map_err)?;
                let out = $body;
                $tx.commit().await.map_err($crate::map_err)?;
                out
            }
            $crate::Db::Sqlite(sqlite) => {
                #[allow(unused_mut)]
                let mut $tx = sqlite.writer.begin().await.map_err($crate::map_err)?;
                let out = $body;
                $tx.commit().await.map_err($crate::map_err)?;
                out
            }
        }
    };
}
