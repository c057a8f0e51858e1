//! Content types.

use nova_core::{MediaId, PostId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::facets::Facet;

/// Who may see a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone who may see the author.
    #[default]
    Public,
    /// The author's followers.
    Followers,
    /// Only the accounts it mentions.
    Mentioned,
}

/// Who may reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReplyPolicy {
    /// Anyone who can see the post.
    #[default]
    Everyone,
    /// Accounts the author follows.
    Following,
    /// Accounts the post mentions.
    Mentioned,
    /// Nobody.
    Nobody,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub(crate) fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
            pub(crate) fn parse(s: &str) -> Self {
                match s { $($s => Self::$v,)+ _ => Self::default() }
            }
        }
    };
}
str_enum!(Visibility { Public => "public", Followers => "followers", Mentioned => "mentioned" });
str_enum!(ReplyPolicy { Everyone => "everyone", Following => "following", Mentioned => "mentioned", Nobody => "nobody" });

/// An image or video attached to a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaAttachment {
    /// The media object (media domain).
    pub media_id: MediaId,
    /// Description for screen readers (≤ 1,500 characters).
    #[serde(default)]
    pub alt_text: String,
}

/// What a client sends to create a post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPost {
    /// The text (≤ the configured limit in graphemes; default 500).
    pub text: String,
    /// Up to 4 attachments.
    #[serde(default)]
    pub media: Vec<MediaAttachment>,
    /// BCP 47 language tag, e.g. `en`, `pt-BR`.
    #[serde(default)]
    pub language: Option<String>,
    /// Who may see it.
    #[serde(default)]
    pub visibility: Visibility,
    /// Shown before the text.
    #[serde(default)]
    pub content_warning: Option<String>,
    /// The post this replies to.
    #[serde(default)]
    pub reply_to: Option<PostId>,
    /// The post this quotes.
    #[serde(default)]
    pub quote_of: Option<PostId>,
    /// Who may reply.
    #[serde(default)]
    pub reply_policy: ReplyPolicy,
    /// Whether others may quote it.
    #[serde(default = "yes")]
    pub quotes_allowed: bool,
    /// The same key twice creates one post (per author).
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn yes() -> bool {
    true
}

/// A post as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Id (UUIDv7: sorts by creation).
    pub id: PostId,
    /// Author.
    pub author_id: UserId,
    /// Text (empty for a deleted post).
    pub text: String,
    /// Hashtags, mentions and links in the text.
    pub facets: Vec<Facet>,
    /// Attachments.
    pub media: Vec<MediaAttachment>,
    /// Language tag.
    pub language: Option<String>,
    /// Visibility.
    pub visibility: Visibility,
    /// Content warning.
    pub content_warning: Option<String>,
    /// Labels moderators put on it (`sensitive`, `spoiler`, `misleading`), shown to
    /// every reader until the label is reversed.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Parent post for replies.
    pub reply_to: Option<PostId>,
    /// Thread root for replies.
    pub root_id: Option<PostId>,
    /// 0 for top-level posts.
    pub depth: i32,
    /// Quoted post.
    pub quote_of: Option<PostId>,
    /// Who may reply.
    pub reply_policy: ReplyPolicy,
    /// Whether quotes are allowed.
    pub quotes_allowed: bool,
    /// Likes.
    pub like_count: i64,
    /// Direct replies.
    pub reply_count: i64,
    /// Quotes.
    pub quote_count: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last edit ("edited" marker).
    pub edited_at: Option<Timestamp>,
    /// Deleted: a tombstone keeping the thread's shape.
    pub deleted: bool,
    /// How the viewer stands towards the author, as social answered when the post was
    /// read (absent when it was not asked): feed and the gateway reuse it instead of
    /// asking the graph again. Not part of the post's JSON.
    #[serde(skip)]
    pub access: Option<crate::audience::AuthorAccess>,
    /// How far moderation lets it travel beyond direct reads (reduced reach, silenced
    /// author): discovery surfaces (explore, trending, search, ranked feeds) read it.
    /// Not part of the post's JSON.
    #[serde(skip)]
    pub reach: crate::moderation::Reach,
    /// The viewer liked it.
    pub liked_by_viewer: bool,
    /// The viewer bookmarked it.
    pub bookmarked_by_viewer: bool,
}

/// One earlier version of an edited post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// When it was replaced.
    pub edited_at: Timestamp,
    /// Who edited.
    pub editor_id: UserId,
    /// The text before the edit.
    pub previous_text: String,
}

/// Which of an author's posts a timeline shows (`ContentApi::author_timeline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    /// Top-level posts and quotes.
    Posts,
    /// Replies.
    Replies,
    /// Posts with media.
    Media,
}
