//! # nova-content
//!
//! Posts, replies and quotes, with the rules a social network needs on every read and
//! write:
//!
//! - text up to a configurable limit (500 graphemes by default), [`facets`] (hashtags,
//!   @mentions resolved to users, links) extracted with correct Unicode byte ranges, up to
//!   four media attachments with alt text (the author's own ready uploads, claimed
//!   through the [`Attachments`] port), language tag, content warning;
//! - visibility (public, followers-only, mentioned-only) and private authors, checked on
//!   every read through the [`Audience`] port (social, graph, users): a post the viewer may
//!   not see is `NotFound`, exactly like a post that does not exist;
//! - threads (root, parent, depth limit) with reply controls and quote controls, enforced
//!   on create; blocks make replies, quotes, likes and mentions impossible;
//! - likes with exact counts under concurrency, private bookmarks, edits with full history
//!   and an "edited" marker, soft delete leaving a tombstone in its thread;
//! - author timelines (posts, replies, media) and batch reads, cursor-paginated;
//! - events through the outbox: `post.created`, `comment.created`, `post.edited`,
//!   `post.deleted`, `like.created`, `like.removed`;
//! - client idempotency keys: the same key twice creates one post, a different body with
//!   the same key is a conflict;
//! - group commit: posts created at the same time share one write transaction (each
//!   with its rows and events; nothing is acknowledged before it commits);
//! - reposts (`repost.created`, `repost.removed`), checked like a like: the reposter must
//!   see the post;
//! - [`grpc`]: the API over the network (`ContentGrpcServer`, `ContentGrpcClient`).
//!
//! ```
//! use nova_content::facets::{extract, hashtags};
//! let facets = extract("Shipping #Nova today with @alice 🚀 https://nova.example");
//! assert_eq!(hashtags(&facets), vec!["nova".to_string()]);
//! assert_eq!(facets.len(), 3);
//! ```

pub mod api;
pub mod attachments;
pub mod audience;
mod batch;
pub mod consumer;
pub mod facets;
pub mod grpc;
pub mod http;
pub mod model;
pub mod moderation;
mod ports;
mod service;
pub mod store;

pub use api::ContentApi;
pub use attachments::Attachments;
pub use audience::{Audience, AuthorAccess, SocialAudience};
pub use model::{Edit, MediaAttachment, NewPost, Post, ReplyPolicy, TimelineKind, Visibility};
pub use moderation::{Moderation, PublishCheck, Reach, Restrictions, Screening};
pub use ports::ContentPosts;
pub use service::{ContentConfig, ContentService};
