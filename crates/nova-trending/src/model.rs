//! Plain domain types: what is engaged with, by whom, where, and what comes out.

use std::fmt;

use nova_core::{Error, Timestamp};
use uuid::Uuid;

use crate::hash::{hash_bytes128, mix64};

/// What a trend is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    /// A post.
    Post,
    /// A hashtag (case-insensitive).
    Hashtag,
    /// An author.
    Creator,
    /// A link (URL).
    Link,
}

impl EntityKind {
    /// The stored name (`post`, `hashtag`, `creator`, `link`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Post => "post",
            Self::Hashtag => "hashtag",
            Self::Creator => "creator",
            Self::Link => "link",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "post" => Ok(Self::Post),
            "hashtag" => Ok(Self::Hashtag),
            "creator" => Ok(Self::Creator),
            "link" => Ok(Self::Link),
            other => Err(Error::invalid(
                "entity_kind",
                format!("unknown kind {other:?}"),
            )),
        }
    }
}

/// An entity: its kind and a 128-bit id (a UUID, or a stable hash of a hashtag/URL).
/// `Copy` and cheap to hash, so the hot path never touches strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey {
    /// The kind.
    pub kind: EntityKind,
    /// The id.
    pub id: u128,
}

impl EntityKey {
    /// A post.
    pub fn post(id: Uuid) -> Self {
        Self {
            kind: EntityKind::Post,
            id: id.as_u128(),
        }
    }

    /// An author.
    pub fn creator(id: Uuid) -> Self {
        Self {
            kind: EntityKind::Creator,
            id: id.as_u128(),
        }
    }

    /// A hashtag, without its `#`, case-insensitively.
    pub fn hashtag(tag: &str) -> Self {
        let tag = tag.trim_start_matches('#').to_lowercase();
        Self {
            kind: EntityKind::Hashtag,
            id: hash_bytes128(tag.as_bytes()),
        }
    }

    /// A link.
    pub fn link(url: &str) -> Self {
        Self {
            kind: EntityKind::Link,
            id: hash_bytes128(url.trim().as_bytes()),
        }
    }

    /// A 64-bit hash of the key (for sketches).
    #[inline]
    pub fn hash64(&self) -> u64 {
        mix64((self.id as u64) ^ mix64((self.id >> 64) as u64 ^ self.kind as u64))
    }

    /// The id as 32 hex digits (how keys are stored).
    pub fn id_hex(&self) -> String {
        format!("{:032x}", self.id)
    }

    /// Parses a stored kind and hex id.
    pub fn parse(kind: &str, id_hex: &str) -> Result<Self, Error> {
        let id = u128::from_str_radix(id_hex, 16)
            .map_err(|e| Error::invalid("entity_id", format!("not a hex id: {e}")))?;
        Ok(Self {
            kind: EntityKind::parse(kind)?,
            id,
        })
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{:032x}", self.kind.as_str(), self.id)
    }
}

impl std::str::FromStr for EntityKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let (kind, id) = s
            .split_once(':')
            .ok_or_else(|| Error::invalid("entity", "expected kind:hexid"))?;
        Self::parse(kind, id)
    }
}

/// Kinds of engagement; each has a configurable weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngagementKind {
    /// Seen in a timeline.
    View = 0,
    /// Liked.
    Like = 1,
    /// Commented on.
    Comment = 2,
    /// Reposted.
    Repost = 3,
    /// Quoted.
    Quote = 4,
    /// Bookmarked.
    Bookmark = 5,
    /// Used (a hashtag or link in a new post).
    Use = 6,
}

impl EngagementKind {
    /// How many kinds there are.
    pub const COUNT: usize = 7;
}

/// A short language or region code (`en`, `pt-BR`, `US`), at most 8 ASCII bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Code([u8; 8]);

impl Code {
    /// A code; `None` if empty, longer than 8 bytes or not ASCII.
    pub fn new(code: &str) -> Option<Self> {
        let bytes = code.trim().as_bytes();
        if bytes.is_empty() || bytes.len() > 8 || !bytes.is_ascii() {
            return None;
        }
        let mut out = [0u8; 8];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(Self(out))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(8);
        std::str::from_utf8(&self.0[..len]).unwrap_or("")
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Where a trend is computed: everywhere, per language, or per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every event.
    Global,
    /// Events in one language.
    Lang(Code),
    /// Events tagged with one region.
    Region(Code),
}

impl Scope {
    /// The stored form: `global`, `lang:en`, `region:US`.
    pub fn key(&self) -> String {
        match self {
            Self::Global => "global".to_owned(),
            Self::Lang(c) => format!("lang:{}", c.as_str()),
            Self::Region(c) => format!("region:{}", c.as_str()),
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("scope", format!("unknown scope {s:?}"));
        match s.split_once(':') {
            None if s == "global" => Ok(Self::Global),
            Some(("lang", c)) => Code::new(c).map(Self::Lang).ok_or_else(bad),
            Some(("region", c)) => Code::new(c).map(Self::Region).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

/// One engagement: `account` did `kind` to `entity` at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Engagement {
    /// What was engaged with.
    pub entity: EntityKey,
    /// Who (a user id as `u128`); counted for distinct accounts and contribution caps.
    pub account: u128,
    /// How.
    pub kind: EngagementKind,
    /// When (second resolution).
    pub at: Timestamp,
    /// The content's language, if known.
    pub lang: Option<Code>,
    /// The region tag, if any.
    pub region: Option<Code>,
}

/// What moderators decided about an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReviewState {
    /// Not reviewed: shown unless the engine requires review.
    #[default]
    Pending,
    /// Approved: always eligible.
    Approved,
    /// Hidden: never shown.
    Hidden,
}

impl ReviewState {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Hidden => "hidden",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "pending" => Ok(Self::Pending),
            "approved" => Ok(Self::Approved),
            "hidden" => Ok(Self::Hidden),
            other => Err(Error::invalid("review_state", format!("unknown {other:?}"))),
        }
    }
}

/// An entity with its decayed score in one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// The entity.
    pub entity: EntityKey,
    /// `ln Σ wᵢ·exp(−λ·(now − tᵢ))`.
    pub log_score: f64,
    /// `exp(log_score)`: the decayed weighted count.
    pub score: f64,
}

/// An entity that is trending, with why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// The entity.
    pub entity: EntityKey,
    /// How unusual the growth is: `(observed − expected)² / expected`, per hour.
    pub score: f64,
    /// Observed weighted activity per hour (trend window).
    pub observed_per_hour: f64,
    /// Expected activity per hour (baseline window, floored).
    pub expected_per_hour: f64,
    /// Distinct accounts (estimated above the exact threshold).
    pub accounts: u64,
}
