//! Plain search types: what is indexed ([`PostDoc`], [`UserDoc`]) and what a search
//! answers ([`SearchHit`]).

use nova_core::{Error, PostId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    /// Posts (free text with operators).
    #[default]
    Posts,
    /// Accounts (username, display name, bio; the last word is a prefix).
    Users,
    /// Hashtags by prefix, with their public usage counts.
    Hashtags,
}

impl SearchKind {
    /// `posts` (also the empty string), `users` or `hashtags`; anything else is an
    /// invalid-argument error naming the field `type`.
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value.trim() {
            "" | "posts" => Ok(Self::Posts),
            "users" => Ok(Self::Users),
            "hashtags" => Ok(Self::Hashtags),
            _ => Err(Error::invalid("type", "must be users, posts or hashtags")),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Posts => "posts",
            Self::Users => "users",
            Self::Hashtags => "hashtags",
        }
    }
}

/// Who may see a post, as the content domain says (`public`, `followers`, `mentioned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostVisibility {
    /// Anyone who may see the author.
    Public,
    /// The author's followers.
    Followers,
    /// Only the accounts it mentions.
    Mentioned,
}

impl PostVisibility {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Followers => "followers",
            Self::Mentioned => "mentioned",
        }
    }

    /// From the wire name.
    pub fn parse(value: &str) -> Result<Self, Error> {
        match value {
            "public" => Ok(Self::Public),
            "followers" => Ok(Self::Followers),
            "mentioned" => Ok(Self::Mentioned),
            _ => Err(Error::invalid(
                "visibility",
                "public, followers or mentioned",
            )),
        }
    }
}

/// A post as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostDoc {
    /// The post.
    pub id: PostId,
    /// Its author.
    pub author_id: UserId,
    /// The text.
    pub text: String,
    /// Hashtags, lowercased, without `#`.
    pub hashtags: Vec<String>,
    /// Mentioned usernames as written (without `@`).
    pub mentions: Vec<String>,
    /// The mentioned accounts that exist (they may see `mentioned` posts).
    pub mention_ids: Vec<UserId>,
    /// Language tag, if known.
    pub language: Option<String>,
    /// Visibility.
    pub visibility: PostVisibility,
    /// The author's account is private (its posts are for approved followers only, so
    /// never shown to anonymous viewers nor counted in public hashtag counts).
    pub author_private: bool,
    /// Attachments present.
    pub has_media: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Likes (ranking).
    pub like_count: i64,
    /// Reposts, replies and quotes (ranking).
    pub repost_count: i64,
}

/// An account as indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDoc {
    /// The user.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Bio.
    pub bio: String,
    /// Private account (its posts are indexed as such).
    pub private_account: bool,
    /// Appears in user search (a setting; off means "not findable").
    pub discoverable: bool,
}

/// A post found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostHit {
    /// The post.
    pub id: PostId,
    /// Its author.
    pub author_id: UserId,
    /// The text.
    pub text: String,
    /// The matched words in context, `<b>`-marked, HTML-escaped.
    pub highlight: String,
    /// Hashtags.
    pub hashtags: Vec<String>,
    /// Language.
    pub language: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Likes when indexed.
    pub like_count: i64,
    /// Reposts, replies and quotes when indexed.
    pub repost_count: i64,
    /// Relevance (BM25 with recency and engagement boosts).
    pub score: f32,
}

/// An account found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserHit {
    /// The user.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Bio.
    pub bio: String,
    /// Relevance.
    pub score: f32,
}

/// A hashtag found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashtagHit {
    /// The tag, lowercased, without `#`.
    pub name: String,
    /// Public posts by public accounts using it.
    pub usage_count: u64,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SearchHit {
    /// A post.
    Post(PostHit),
    /// An account.
    User(UserHit),
    /// A hashtag.
    Hashtag(HashtagHit),
}

/// A search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchRequest {
    /// The query text (with operators for posts).
    pub query: String,
    /// What to look for.
    pub kind: SearchKind,
    /// Page size (0 = default 20; at most 100).
    pub first: u32,
    /// The cursor of the previous page.
    pub after: Option<String>,
}
