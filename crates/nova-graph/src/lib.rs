//! # nova-graph
//!
//! Nova's relationship engine: directed **follow**, **block** and **mute** edges between
//! users, behind the [`GraphApi`] trait.
//!
//! - Follow counts are **stored** and kept exactly equal to the edges: they change in the
//!   transaction that changes an edge, and only when the edge write changed a row
//!   (tested with 1,000 concurrent follow/unfollow operations on every backend).
//! - A block removes follows in both directions atomically, and no follow can be
//!   created across a block (`PermissionDenied`).
//! - Mutes may expire (`until`, read against the [`Clock`](nova_core::Clock)) and may hide
//!   only reposts.
//! - [`GraphApi::relationships`] and [`GraphApi::counts`] answer a batch in one round
//!   trip; [`GraphApi::suggestions`] (friends of friends ranked by mutual connections,
//!   without the user, accounts already followed, blocks either way or mutes) is one
//!   query.
//! - Lists (followers, following, mutual follows) page newest first with opaque HMAC
//!   cursors over `(created_at, id)`.
//! - Every change writes its event to the outbox in the same transaction
//!   ([`events`]: `follow.created`, `follow.removed`, `block.created`, `block.removed`,
//!   `mute.created`, `mute.removed`; payloads in `proto/nova/graph/v1/events.proto`).
//!
//! **No viewer authorization happens here.** This is an internal engine: nova-social
//! decides who may follow whom (private accounts, follow requests) and checks privacy
//! settings and blocks before it lists anyone's followers or following for a viewer.
//!
//! Backends ([`store`]): [`SqlGraphStore`] on PostgreSQL or SQLite (the default), and with
//! the `cypher` feature a Cypher backend on FalkorDB. All pass one conformance suite.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use nova_core::{cursor::CursorCodec, ErrorKind, SystemClock, UserId};
//! use nova_graph::{GraphApi, GraphService, SqlGraphStore};
//!
//! let db = nova_db::Db::connect("sqlite::memory:", &Default::default()).await?;
//! db.migrate().await?;
//! let graph = GraphService::new(
//!     Arc::new(SqlGraphStore::new(db)),
//!     SystemClock::shared(),
//!     CursorCodec::new(b"a secret of at least 32 bytes...!"),
//! );
//! let (ann, bob, cy) = (UserId::new(), UserId::new(), UserId::new());
//! assert!(graph.follow(ann, bob).await?);
//! assert!(!graph.follow(ann, bob).await?); // already following
//! graph.follow(bob, cy).await?;
//!
//! let rel = graph.relationships(&[(ann, bob), (bob, ann)]).await?;
//! assert!(rel[0].following && rel[1].followed_by);
//! assert_eq!(graph.counts(&[bob]).await?[0].followers, 1);
//! assert_eq!(graph.suggestions(ann, 10).await?[0].user, cy); // bob follows cy
//!
//! // A block removes the follow and forbids a new one.
//! graph.block(bob, ann).await?;
//! assert_eq!(graph.counts(&[bob]).await?[0].followers, 0);
//! let err = graph.follow(ann, bob).await.unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

#![recursion_limit = "256"] // the falkordb client's async builders nest deeply

pub mod api;
pub mod events;
pub mod grpc;
pub mod model;
mod service;
pub mod store;

pub use api::GraphApi;
pub use grpc::{GraphGrpcClient, GraphGrpcServer};
pub use model::{FollowCounts, Page, Relationship, Suggestion};
pub use service::GraphService;
pub use store::{CachedGraphStore, GraphStore, SqlGraphStore};
