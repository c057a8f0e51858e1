//! # nova-user
//!
//! Profiles and settings of Nova users, and the account lifecycle that is not about
//! credentials (identity owns those):
//!
//! - profiles with limits counted in graphemes (display name 50, bio 500, pronouns 40,
//!   five http(s) links), avatar/banner media ids, a pinned post;
//! - settings: private account, who may message, discoverability, hidden follower counts
//!   and lists, notification preferences; [`UserApi::privacy`] hands the parts other
//!   domains need to them in one query;
//! - username changes, with the old name reserved for its owner for 30 days;
//! - deactivation (hidden until reactivated) and soft deletion that records who did it
//!   (the user or a moderator) and why, ends every session and emits an event;
//! - [`UserApi::profiles`]: many users in one query, in the caller's order.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_user::{UserApi, UserService, store::SqlUserStore};
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let users = UserService::new(Arc::new(SqlUserStore::new(db)));
//! // Unknown ids are simply absent from a batch lookup.
//! assert!(users.profiles(&[nova_core::UserId::new()]).await?.is_empty());
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod grpc;
pub mod http;
pub mod media;
pub mod model;
mod service;
pub mod store;
pub mod validation;

pub use api::UserApi;
pub use media::{ProfileMedia, ProfileSlot};
pub use model::{
    DeletedBy, MessagePolicy, NotificationPrefs, PrivacySettings, Profile, ProfileUpdate, Settings,
};
pub use service::{MAX_BATCH, USERNAME_RESERVATION, UserService};
