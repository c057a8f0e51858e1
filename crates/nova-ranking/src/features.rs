//! Feature extraction: a candidate and its context become a fixed-order vector of `f64`.
//! A separate step, so it can be tested and logged independently of any model.

use nova_core::Timestamp;

use crate::model::{AuthorSignals, Candidate, Viewer};

/// Feature names, in vector order. Models are trained on this order; a linear model's
/// config names its weights with them.
pub const FEATURES: [&str; 16] = [
    "age_hours",
    "recency",
    "author_affinity",
    "velocity",
    "is_media",
    "is_link",
    "is_reply",
    "is_repost",
    "author_followers",
    "follows_author",
    "mutual",
    "negative_feedback",
    "lang_match",
    "in_network",
    "likes",
    "replies",
];

/// How many features [`extract`] produces.
pub const N_FEATURES: usize = FEATURES.len();

/// The index of a feature by name.
pub fn index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|f| *f == name)
}

/// Recency half-life: a post loses half its freshness every 6 hours.
const RECENCY_HALF_LIFE_HOURS: f64 = 6.0;

/// Computes the features of `candidate` for `viewer` at `now`. Counts are `ln(1 + x)`,
/// flags are 0/1.
pub fn extract(
    viewer: &Viewer,
    candidate: &Candidate,
    signals: &AuthorSignals,
    now: Timestamp,
) -> [f64; N_FEATURES] {
    let age_hours = ((now - candidate.created_at).num_seconds().max(0) as f64) / 3600.0;
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let follows = viewer.follows.contains(&candidate.author_id);
    let followed_back = viewer.followers.contains(&candidate.author_id);
    let lang_match = match &candidate.lang {
        Some(lang) => viewer.langs.iter().any(|l| l.eq_ignore_ascii_case(lang)),
        None => true,
    };
    [
        age_hours,
        (-age_hours * std::f64::consts::LN_2 / RECENCY_HALF_LIFE_HOURS).exp(),
        signals.interactions.max(0.0).ln_1p(),
        candidate.velocity.max(0.0).ln_1p(),
        flag(candidate.kind.media),
        flag(candidate.kind.link),
        flag(candidate.kind.reply),
        flag(candidate.kind.repost),
        (candidate.author_followers as f64).ln_1p(),
        flag(follows),
        flag(follows && followed_back),
        signals.negative.max(0.0).ln_1p(),
        flag(lang_match),
        flag(candidate.source == crate::model::Source::InNetwork),
        (candidate.likes as f64).ln_1p(),
        (candidate.replies as f64).ln_1p(),
    ]
}
