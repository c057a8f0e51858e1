//! Plain feed types.

use nova_content::model::Post;
use serde::{Deserialize, Serialize};

/// How a home timeline is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedMode {
    /// Newest first, only posts of accounts the viewer follows.
    #[default]
    Chronological,
    /// Scored by the ranker, with a few out-of-network posts and author diversity.
    Ranked,
}

/// Why a post is in a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedReason {
    /// Pushed into the timeline: the viewer follows the author.
    Following,
    /// Pulled at read time from a followed author with very many followers (celebrity pull).
    Popular,
    /// Out-of-network: trending right now.
    Trending,
}

/// One post of a feed page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The post, hydrated and visible to the viewer.
    pub post: Post,
    /// Why it is there.
    pub reason: FeedReason,
    /// The ranker's score in ranked views; `None` in chronological ones.
    pub score: Option<f64>,
}

/// One page of a feed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FeedPage {
    /// The items, in display order.
    pub items: Vec<FeedItem>,
    /// Opaque cursor for the next page; `None` at the end.
    pub next_cursor: Option<String>,
}
