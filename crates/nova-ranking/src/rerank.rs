//! Re-ranking: the model's order, adjusted for the feed's rules — per-user weights,
//! already-seen suppression, author diversity and in-/out-of-network balance.

use crate::model::{Candidate, Preferences, RankedItem, Source, Viewer};

/// The rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankConfig {
    /// At most this many posts in a row by one author.
    pub max_consecutive_per_author: usize,
    /// At most this share of the feed (at every prefix) from outside the network.
    pub max_out_of_network: f64,
    /// Drop posts the viewer has seen.
    pub suppress_seen: bool,
}

impl Default for RerankConfig {
    fn default() -> Self {
        Self {
            max_consecutive_per_author: 2,
            max_out_of_network: 0.5,
            suppress_seen: true,
        }
    }
}

/// The per-user multiplier for a candidate.
pub fn preference_weight(prefs: &Preferences, candidate: &Candidate) -> f64 {
    let mut w = 1.0;
    if candidate.source == Source::InNetwork {
        w *= prefs.in_network;
    }
    if candidate.kind.repost {
        w *= prefs.reposts;
    }
    if candidate.kind.reply {
        w *= prefs.replies;
    }
    if candidate.kind.media {
        w *= prefs.media;
    }
    w
}

/// Orders `items` (any order) into at most `limit` feed positions. Greedy: at each
/// position the best-scored item that keeps every rule; if none does, the best item
/// that keeps author diversity; if none, the best item.
pub fn rerank(
    mut items: Vec<RankedItem>,
    viewer: &Viewer,
    config: &RerankConfig,
    limit: usize,
) -> Vec<RankedItem> {
    if config.suppress_seen {
        items.retain(|i| !viewer.seen.contains(&i.post_id));
    }
    items.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.post_id.as_uuid().cmp(&b.post_id.as_uuid()))
    });
    let mut out: Vec<RankedItem> = Vec::with_capacity(limit.min(items.len()));
    let mut out_of_network = 0usize;
    while out.len() < limit && !items.is_empty() {
        let run_ok = |item: &RankedItem| {
            let run = out
                .iter()
                .rev()
                .take_while(|o| o.author_id == item.author_id)
                .count();
            run < config.max_consecutive_per_author
        };
        let allowed = (config.max_out_of_network * (out.len() + 1) as f64).ceil() as usize;
        let mix_ok =
            |item: &RankedItem| item.source == Source::InNetwork || out_of_network < allowed;
        let pick = items
            .iter()
            .position(|i| run_ok(i) && mix_ok(i))
            .or_else(|| items.iter().position(run_ok))
            .unwrap_or(0);
        let item = items.remove(pick);
        if item.source == Source::OutOfNetwork {
            out_of_network += 1;
        }
        out.push(item);
    }
    out
}
