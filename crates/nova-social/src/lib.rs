//! # nova-social
//!
//! The actions people take on each other, with their rules, over the graph engine
//! (nova-graph) and the users domain (nova-user):
//!
//! - follow: immediate for public accounts, a request for private ones (approve, deny,
//!   cancel, list pending); unfollow; remove a follower;
//! - block: ends follows both ways, pending requests and reposts between the two; after
//!   that [`SocialApi::can_interact`] is false both ways — content, feed and chat ask it
//!   before a reply, mention, quote or message;
//! - mute, optionally until a time and optionally only reposts;
//! - subscribable block lists: a subscriber's block checks include the list's members;
//! - follower and following lists that answer `NotFound` — like a missing account — to
//!   anyone a private account has not approved.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_social::{SocialApi, SocialService, store::SqlSocialStore};
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let clock = nova_core::SystemClock::shared();
//! let graph = nova_graph::GraphService::new(
//!     Arc::new(nova_graph::SqlGraphStore::new(db.clone())),
//!     clock,
//!     nova_core::cursor::CursorCodec::new(b"a key of at least thirty-two bytes"),
//! );
//! let users = nova_user::UserService::new(Arc::new(nova_user::store::SqlUserStore::new(db.clone())));
//! let social = SocialService::new(Arc::new(graph), Arc::new(users), Arc::new(SqlSocialStore::new(db)));
//! let (a, b) = (nova_core::UserId::new(), nova_core::UserId::new());
//! assert!(social.can_interact(a, b).await?);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod grpc;
pub mod http;
pub mod model;
mod ports;
mod service;
pub mod store;

pub use api::SocialApi;
pub use model::{AuthorAccess, BlockList, BlockListId, FollowOutcome, FollowRequest, Repost};
pub use ports::SocialInteractions;
pub use service::SocialService;

use nova_core::config::EnvVar;

/// The variables social-service reads beside nova-core's and the token settings, and
/// `SOCIAL_SERVICE_URL`, which services calling social (content-service) read.
pub const SOCIAL_ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "GRAPH_SERVICE_URL",
        description: "gRPC URL of graph-service (http://graph-service:9091); unset: the graph runs in-process on DATABASE_URL",
        default: None,
    },
    EnvVar {
        name: "USER_SERVICE_URL",
        description: "gRPC URL of user-service (http://user-service:9080); unset: users run in-process on DATABASE_URL",
        default: None,
    },
    EnvVar {
        name: "CONTENT_SERVICE_URL",
        description: "gRPC URL of content-service (http://content-service:9082), asked before a repost; unset: no post is visible",
        default: None,
    },
    EnvVar {
        name: "SOCIAL_SERVICE_URL",
        description: "gRPC URL of social-service (http://social-service:9093), for content-service; unset: social runs in-process on DATABASE_URL",
        default: None,
    },
];
