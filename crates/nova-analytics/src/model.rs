//! Plain analytics types: the stored [`Event`], the client's [`ClientEvent`], and the
//! figures the queries answer.

use chrono::{DateTime, NaiveDate};
use nova_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

/// Most events one client batch may carry (more is a 413).
pub const MAX_BATCH: usize = 500;
/// Longest client id, post id or anonymous id (characters).
pub const MAX_ID_LEN: usize = 64;
/// Below this many unique viewers a post's figures are shown as ranges.
pub const DEFAULT_K_ANONYMITY: u64 = 10;
/// Hours in a post's early series.
pub const SERIES_HOURS: i64 = 48;
/// Prefix of a signed-out viewer's actor (never counted as an active user).
pub const ANONYMOUS: &str = "anon:";
/// Prefix of a deleted account's pseudonym.
pub const FORGOTTEN: &str = "gone:";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An account was registered (actor: the new user).
    Registered,
    /// A session was opened (a login).
    Session,
    /// A post was created (actor: its author; post: the new post).
    Post,
    /// A reply (actor: the replier; post: the parent; target: the parent's author).
    Reply,
    /// A like (sign -1: unliked).
    Like,
    /// A repost (sign -1: undone).
    Repost,
    /// A follow (actor: follower; target: followee; sign -1: unfollowed).
    Follow,
    /// Chat activity, without content (actor: the sender).
    Chat,
    /// A client saw a post in a list (client event).
    Impression,
    /// A client opened a post (client event).
    View,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 10] = [
        Self::Registered,
        Self::Session,
        Self::Post,
        Self::Reply,
        Self::Like,
        Self::Repost,
        Self::Follow,
        Self::Chat,
        Self::Impression,
        Self::View,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Session => "session",
            Self::Post => "post",
            Self::Reply => "reply",
            Self::Like => "like",
            Self::Repost => "repost",
            Self::Follow => "follow",
            Self::Chat => "chat",
            Self::Impression => "impression",
            Self::View => "view",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Whether it counts as engagement with a post (likes, replies, reposts).
    pub fn engages(self) -> bool {
        matches!(self, Self::Like | Self::Reply | Self::Repost)
    }
}

/// One stored event. Ids are strings: an event-log id (UUID), or `c:<actor>:<client id>`
/// for client events, so one client cannot collide with another's ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Deduplication key: an event is stored once.
    pub id: String,
    /// When it happened.
    pub at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// Who: a user id, `anon:<client id>` for a signed-out viewer, or `gone:<pseudonym>`
    /// for a deleted account. Never an IP address.
    pub actor: String,
    /// The post it is about, or `""`.
    pub post_id: String,
    /// The account it is about (the post's author, the followee), or `""`.
    pub target: String,
    /// +1, or -1 for an undo (unlike, unfollow, ...).
    pub sign: i8,
}

impl Event {
    /// Days since 1970-01-01 (UTC) of [`at`](Self::at).
    pub fn day(&self) -> i32 {
        day_of(self.at)
    }

    /// Hours since the epoch of [`at`](Self::at).
    pub fn hour(&self) -> i64 {
        self.at.timestamp().div_euclid(3600)
    }

    /// Whether the actor is a (current or forgotten) account, not a signed-out viewer.
    pub fn is_user(&self) -> bool {
        !self.actor.is_empty() && !self.actor.starts_with(ANONYMOUS)
    }
}

/// Days since 1970-01-01 (UTC) of `at`.
pub fn day_of(at: Timestamp) -> i32 {
    i32::try_from(at.timestamp().div_euclid(86_400)).unwrap_or(i32::MAX)
}

/// The date of a day number.
pub fn date_of(day: i32) -> NaiveDate {
    DateTime::from_timestamp(i64::from(day) * 86_400, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The day number of a date.
pub fn day_number(date: NaiveDate) -> i32 {
    day_of(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// A client-reported event, as validated from a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEvent {
    /// The client's id for it (replays of the same id count once).
    pub id: String,
    /// Impression or view.
    pub kind: EventKind,
    /// The post seen.
    pub post_id: String,
    /// When, if the client said (else: when received).
    pub at: Option<Timestamp>,
    /// A signed-out client's random id (unique reach); ignored when signed in.
    pub anonymous_id: Option<String>,
}

impl ClientEvent {
    /// Validates element `index` of a JSON batch: an object with `id`, `type`
    /// (`impression` | `view`), `post_id`, and optionally `at` (RFC 3339) and
    /// `anonymous_id`. Anything else is a 400 naming `events[index].<field>`.
    pub fn from_json(index: usize, value: &serde_json::Value) -> Result<Self> {
        let field = |name: &str| format!("events[{index}].{name}");
        let object = value
            .as_object()
            .ok_or_else(|| Error::invalid(format!("events[{index}]"), "must be an object"))?;
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "id" | "type" | "post_id" | "at" | "anonymous_id"
            ) {
                return Err(Error::invalid(field(key), "unknown field"));
            }
        }
        let text = |name: &str, required: bool| -> Result<Option<String>> {
            match object.get(name) {
                None | Some(serde_json::Value::Null) if !required => Ok(None),
                None | Some(serde_json::Value::Null) => {
                    Err(Error::invalid(field(name), "is required"))
                }
                Some(serde_json::Value::String(s)) => {
                    if s.is_empty() || s.chars().count() > MAX_ID_LEN {
                        return Err(Error::invalid(
                            field(name),
                            format!("must be 1 to {MAX_ID_LEN} characters"),
                        ));
                    }
                    Ok(Some(s.clone()))
                }
                Some(_) => Err(Error::invalid(field(name), "must be a string")),
            }
        };
        let kind_name = text("type", true)?.unwrap_or_default();
        let kind = match EventKind::parse(&kind_name) {
            Some(k @ (EventKind::Impression | EventKind::View)) => k,
            _ => {
                return Err(Error::invalid(
                    field("type"),
                    format!("unknown event type {kind_name:?} (impression or view)"),
                ));
            }
        };
        let at = match object.get("at") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(
                DateTime::parse_from_rfc3339(s)
                    .map_err(|_| Error::invalid(field("at"), "must be an RFC 3339 time"))?
                    .to_utc(),
            ),
            Some(_) => return Err(Error::invalid(field("at"), "must be an RFC 3339 time")),
        };
        Ok(Self {
            id: text("id", true)?.unwrap_or_default(),
            kind,
            post_id: text("post_id", true)?.unwrap_or_default(),
            at,
            anonymous_id: text("anonymous_id", false)?,
        })
    }
}

/// A figure shown exactly, or as a range when the post's unique reach is under the
/// k-anonymity threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// Lowest possible value.
    pub min: u64,
    /// Highest possible value (equal to `min` when exact).
    pub max: u64,
}

impl Figure {
    /// An exact figure.
    pub fn exact(n: u64) -> Self {
        Self { min: n, max: n }
    }

    /// `n` banded into `[⌊n/k⌋·k, ⌊n/k⌋·k + k - 1]`.
    pub fn banded(n: u64, k: u64) -> Self {
        let k = k.max(1);
        let min = n / k * k;
        Self {
            min,
            max: min + k - 1,
        }
    }

    /// Whether this is one number.
    pub fn is_exact(&self) -> bool {
        self.min == self.max
    }
}

/// One post's raw totals, as the store answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostTotals {
    /// Impressions.
    pub impressions: u64,
    /// Distinct viewers with an impression.
    pub reach: u64,
    /// Likes net of unlikes.
    pub likes: i64,
    /// Replies.
    pub replies: i64,
    /// Reposts net of undone ones.
    pub reposts: i64,
}

/// One hour of a post's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourPoint {
    /// Hours since the post was created (0..48).
    pub hour: u32,
    /// Impressions that hour.
    pub impressions: u64,
    /// Likes + replies + reposts that hour (net).
    pub engagements: i64,
}

/// What the author of a post sees about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostInsights {
    /// The post.
    pub post_id: String,
    /// Whether the figures are exact (reach at or above the threshold).
    pub exact: bool,
    /// Impressions.
    pub impressions: Figure,
    /// Unique viewers.
    pub reach: Figure,
    /// Likes, net.
    pub likes: Figure,
    /// Replies.
    pub replies: Figure,
    /// Reposts, net.
    pub reposts: Figure,
    /// (likes + replies + reposts) / impressions; `None` when ranged or no impressions.
    pub engagement_rate: Option<f64>,
    /// The first 48 hours, hour by hour (empty when ranged).
    pub series: Vec<HourPoint>,
}

/// One day of an account's follower growth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerDay {
    /// The day.
    pub day: NaiveDate,
    /// New followers.
    pub gained: u64,
    /// Followers lost.
    pub lost: u64,
}

/// One of an account's top posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopPost {
    /// The post.
    pub post_id: String,
    /// Impressions (ranged under the threshold).
    pub impressions: Figure,
    /// Likes + replies + reposts, net (ranged under the threshold).
    pub engagements: Figure,
}

/// A post in the store's top-posts answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRank {
    /// The post.
    pub post_id: String,
    /// Impressions.
    pub impressions: u64,
    /// Unique viewers.
    pub reach: u64,
    /// Likes + replies + reposts, net.
    pub engagements: i64,
}

/// What an account's owner sees about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountInsights {
    /// Follower growth, day by day, oldest first.
    pub followers: Vec<FollowerDay>,
    /// The most engaged posts created in the period.
    pub top_posts: Vec<TopPost>,
}

/// One day of the operator's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// The day.
    pub day: NaiveDate,
    /// Distinct active accounts.
    pub active_users: u64,
    /// Posts created (replies included).
    pub posts: u64,
    /// Sessions opened.
    pub sessions: u64,
}

/// New-user retention of one registration day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// The registration day.
    pub cohort: NaiveDate,
    /// Accounts registered that day.
    pub size: u64,
    /// Of them, active on the next day.
    pub d1: u64,
    /// Active 7 days later.
    pub d7: u64,
    /// Active 30 days later.
    pub d30: u64,
}

/// Global figures for operators (the `admin` scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminStats {
    /// The day the figures end on.
    pub day: NaiveDate,
    /// Active accounts that day.
    pub dau: u64,
    /// In the 7 days ending that day.
    pub wau: u64,
    /// In the 30 days ending that day.
    pub mau: u64,
    /// The last `days` days, oldest first.
    pub daily: Vec<DayFigures>,
    /// Retention of the cohort asked for.
    pub retention: Retention,
}
