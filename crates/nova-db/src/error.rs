//! sqlx errors → domain errors, in one place.

use nova_core::{Error, ErrorKind};

/// Maps a sqlx error to a domain error. Details stay in the error's (internal) source.
pub fn map_err(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::RowNotFound => Error::not_found(),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            Error::unavailable(err)
        }
        _ if is_unique_violation(&err) => {
            Error::new(ErrorKind::Conflict, "already exists").with_source(err)
        }
        _ if is_serialization_failure(&err) => {
            Error::new(ErrorKind::Unavailable, "busy, retry").with_source(err)
        }
        _ => Error::internal(err),
    }
}

/// Whether `err` is a unique-constraint violation (PostgreSQL 23505, SQLite 2067/1555).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("23505") | Some("2067") | Some("1555")
        ),
        _ => false,
    }
}

/// Serialization failures and deadlocks (PostgreSQL) or a busy database (SQLite): the
/// transaction may simply be retried.
fn is_serialization_failure(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("40001") | Some("40P01") | Some("5") | Some("517")
        ),
        _ => false,
    }
}

/// `.db()?` on sqlx results.
pub trait DbResultExt<T> {
    /// Maps the error with [`map_err`].
    fn db(self) -> Result<T, Error>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, Error> {
        self.map_err(map_err)
    }
}
