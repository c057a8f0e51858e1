//! # nova-notification
//!
//! Grouped in-app notifications, fed from the event log:
//!
//! - **typed**: like, reply, mention, follow, follow request, repost, quote (and dm,
//!   missed call and moderation, whose sources come later);
//! - **grouped** like Mastodon's: one notification per (recipient, kind, target) within a
//!   window (24 h by default), with a count and the latest actors — "ada and 5 others
//!   liked your post"; undoing (unlike, unfollow, a deleted post or repost) takes the
//!   actor out again, and an empty group disappears;
//! - **exactly once**: each event id is recorded in the transaction that applies it and
//!   an actor counts once per group, so replaying the log changes nothing;
//! - **who may notify whom**: never oneself, never across a block (either way) or from a
//!   muted account (asked through the [`Relations`] port); with the user's [`Policy`],
//!   accounts they do not follow land in the `requests` folder instead of the inbox;
//! - read markers (one, up to one, all), an unread count that is one row read, cursor
//!   pages, and a live stream over pub/sub.
//!
//! [`Preferences`] say per kind which channels (in-app, push, email) carry it, and quiet
//! hours in the user's time zone hold push and email (never in-app). The [`email`]
//! channel (SMTP with `lettre`) sends identity's verification and reset emails; Web Push,
//! APNs, FCM and digests are not here yet.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_core::{Principal, SessionId, UserId};
//! use nova_notification::{
//!     Folder, NotificationApi, NotificationService, Relations, Standing, store::SqlNotificationStore,
//! };
//! use prost::Message;
//!
//! /// Here everyone may notify everyone (nova-app asks the social domain instead).
//! struct Open;
//! #[async_trait::async_trait]
//! impl Relations for Open {
//!     async fn standings(&self, _: UserId, actors: &[UserId]) -> nova_core::Result<Vec<Standing>> {
//!         Ok(vec![Standing { may_notify: true, ..Standing::default() }; actors.len()])
//!     }
//! }
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let cursors = nova_core::cursor::CursorCodec::new(b"a key of at least thirty-two bytes");
//! let service = NotificationService::new(Arc::new(SqlNotificationStore::new(db)), Arc::new(Open), cursors);
//!
//! let (author, fan) = (UserId::new(), UserId::new());
//! let like = nova_proto::nova::content::v1::LikeChanged {
//!     post_id: "0190a0a0-0000-7000-8000-000000000001".into(),
//!     post_author_id: author.to_string(),
//!     user_id: fan.to_string(),
//!     ..Default::default()
//! };
//! let event = nova_events::EventEnvelope::new("like.created", like.post_id.clone(), chrono::Utc::now(), like.encode_to_vec());
//! service.ingest(&[event.clone()]).await?;
//! service.ingest(&[event]).await?; // redelivered: nothing changes
//!
//! let me = Principal::user(author, SessionId::new());
//! let page = service.list(&me, Folder::Inbox, 20, None).await?;
//! assert_eq!((page.items.len(), page.items[0].count), (1, 1));
//! assert_eq!(service.unread_count(&me, Folder::Inbox).await?, 1);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod delivery;
pub mod email;
pub mod events;
pub mod grpc;
pub mod http;
pub mod model;
mod ports;
pub mod preferences;
mod service;
pub mod store;

pub use api::NotificationApi;
pub use email::{EMAIL_ENV_VARS, Email, SmtpMailer, SmtpSettings, SmtpTls};
pub use model::{
    Actor, Folder, MarkRead, Notification, NotificationId, NotificationKind, Policy, Standing,
};
pub use ports::{Relations, Withheld};
pub use preferences::{Channels, Delivery, Preferences, QuietHours, Route};
pub use service::{CONSUMER, DEFAULT_WINDOW, NotificationEvents, NotificationService, channel};
