//! # nova-core
//!
//! The vocabulary every Nova crate shares, with no I/O of its own:
//!
//! - [`id`]: typed UUIDv7 identifiers ([`UserId`], [`PostId`], ...) that sort by creation time;
//! - [`client`]: the client-address rule (trusted proxies, right-most untrusted hop);
//! - [`Clock`]: the time port, with a [`SystemClock`] and a [`ManualClock`] for tests;
//! - [`Error`] / [`ErrorKind`]: one error type whose kind maps to an HTTP status, a gRPC code
//!   and a GraphQL error code, and whose internal details never reach a client;
//! - [`cursor`]: opaque, tamper-evident pagination cursors;
//! - [`config`]: typed configuration from environment variables over an optional `nova.toml`,
//!   where a bad value is a startup error naming the variable;
//! - [`telemetry`]: tracing (JSON or pretty) and the Prometheus recorder;
//! - [`Principal`]: who is calling (user, session, scopes).
//!
//! ```
//! use nova_core::{cursor::CursorCodec, Error, ErrorKind, UserId};
//!
//! let alice = UserId::new();
//! let codec = CursorCodec::new(b"a secret of at least 32 bytes...!");
//! let cursor = codec.encode(&(alice, 42_i64))?;
//! let (who, offset): (UserId, i64) = codec.decode(&cursor)?;
//! assert_eq!((who, offset), (alice, 42));
//!
//! // A cursor that was tampered with is a client error naming the field.
//! let err = codec.decode::<(UserId, i64)>("not-a-cursor").unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::InvalidArgument { field: "cursor".into() });
//! assert_eq!(err.http_status(), 400);
//! # Ok::<(), Error>(())
//! ```

pub mod client;
pub mod channel;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod error;
pub mod id;
pub mod page;
pub mod principal;
pub mod telemetry;
pub mod username;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use id::{
    CommentId, ConversationId, DeviceId, EventId, MediaId, MessageId, PostId, SessionId, UserId,
};
pub use page::Page;
pub use principal::{Principal, PrincipalKind};

/// Timestamps throughout Nova are UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
