//! # nova-feed
//!
//! Home timelines for a social network:
//!
//! - **hybrid fan-out** ([`fanout`]): a new post is pushed into each active follower's
//!   home timeline (capped, trimmed on write, one pipelined round trip per 100
//!   followers), skipping followers who block or mute the author and followers with no
//!   home read for `FEED_INACTIVE_DAYS`; authors with more than `FEED_FANOUT_THRESHOLD`
//!   followers are pulled and merged at read time instead;
//! - **timeline store** port ([`store`]): Redis lists or in-process (memory
//!   bounded), one conformance suite; a lost timeline (flushed Redis, new replica,
//!   evicted) is rebuilt from SQL on its next read;
//! - **consistency with the graph**: follow backfills, unfollow / block / mute remove the
//!   author's posts, deleted posts vanish; every read filters blocks, mutes and
//!   unfollows again, so a race never shows a hidden author;
//! - **reads** ([`FeedApi`]): chronological and ranked home pages with stable cursors,
//!   catch-up, explore, and a stream of new post ids.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use nova_core::{PostId, UserId};
//! use nova_feed::store::{Entry, MemoryTimelineStore, TimelineKey, TimelineStore};
//!
//! let store = MemoryTimelineStore::default();
//! let (alice, bob) = (UserId::new(), UserId::new());
//! let home = TimelineKey::Home(alice);
//! // Never built: fan-out skips it, a read answers None (the service rebuilds from SQL).
//! assert_eq!(store.page(home, None, 20).await?, None);
//! store.rebuild(home, &[], 800).await?;
//! let (p1, p2) = (PostId::new(), PostId::new());
//! store.push(&[home], Entry::new(p1, bob), 800).await?;
//! store.push(&[home], Entry::new(p2, bob), 800).await?;
//! let page = store.page(home, None, 20).await?.unwrap();
//! assert_eq!(page.iter().map(|e| e.post).collect::<Vec<_>>(), [p2, p1]);
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod fanout;
pub mod grpc;
pub mod http;
pub mod model;
mod ranked;
mod service;
pub mod setup;
pub mod store;

pub use api::FeedApi;
pub use fanout::{FanOut, FeedEvents};
pub use model::{FeedItem, FeedMode, FeedPage, FeedReason};
pub use service::{FeedConfig, FeedService};

use nova_core::config::EnvVar;

/// The variables the feed reads beside nova-core's.
pub const FEED_ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "FEED_FANOUT_THRESHOLD",
        description: "authors with more followers than this are merged at read time instead of fanned out",
        default: Some("10000"),
    },
    EnvVar {
        name: "FEED_TIMELINE_CAP",
        description: "entries kept per home timeline (older ones trimmed on write)",
        default: Some("800"),
    },
    EnvVar {
        name: "FEED_INACTIVE_DAYS",
        description: "followers with no home read for this many days are skipped by fan-out and rebuilt on return",
        default: Some("30"),
    },
];
