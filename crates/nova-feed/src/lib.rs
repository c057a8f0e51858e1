//! # nova-feed
//!
//! Home timelines for a social network:
//!
//! - hybrid fan-out: a new post is pushed into each active follower's timeline (capped,
//!   trimmed on write), except for authors with more followers than a threshold, whose
//!   recent posts are pulled and merged at read time;
//! - chronological and ranked reads, stable cursor pagination, catch-up and explore.
//!
//! ```
//! use nova_feed::{FeedMode, FeedPage};
//! assert_eq!(FeedMode::default(), FeedMode::Chronological);
//! assert!(FeedPage::default().items.is_empty());
//! ```

pub mod api;
pub mod model;

pub use api::FeedApi;
pub use model::{FeedItem, FeedMode, FeedPage, FeedReason};
