//! Feature extraction, per-user weights, re-ranking rules and explanations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use nova_core::{PostId, Timestamp, UserId};
use nova_ranking::features::{self, FEATURES, N_FEATURES};
use nova_ranking::rerank::rerank;
use nova_ranking::{
    AuthorSignals, Candidate, LinearModel, Link, PostKind, RankedItem, Ranker, RerankConfig,
    Source, Viewer,
};
use proptest::prelude::*;

fn now() -> Timestamp {
    Utc.timestamp_opt(1_750_000_000, 0).unwrap()
}

fn candidate(author: UserId, hours_old: i64, source: Source) -> Candidate {
    Candidate {
        post_id: PostId::new(),
        author_id: author,
        created_at: now() - Duration::hours(hours_old),
        kind: PostKind::default(),
        lang: Some("en".into()),
        author_followers: 99,
        likes: 0,
        replies: 0,
        velocity: 0.0,
        source,
    }
}

fn weights(pairs: &[(&str, f64)]) -> Vec<f64> {
    let mut w = vec![0.0; N_FEATURES];
    for (name, v) in pairs {
        w[features::index(name).unwrap()] = *v;
    }
    w
}

#[test]
fn extracts_documented_features() {
    let author = UserId::new();
    let mut viewer = Viewer {
        langs: vec!["EN".into()],
        ..Viewer::default()
    };
    viewer.follows.insert(author);
    viewer.followers.insert(author);
    let mut c = candidate(author, 6, Source::InNetwork);
    c.kind.media = true;
    c.velocity = 9.0;
    let signals = AuthorSignals {
        interactions: 3.0,
        negative: 0.0,
    };
    let f = features::extract(&viewer, &c, &signals, now());
    let get = |n: &str| f[features::index(n).unwrap()];
    assert_eq!(get("age_hours"), 6.0);
    assert!((get("recency") - 0.5).abs() < 1e-12);
    assert!((get("author_affinity") - 4f64.ln()).abs() < 1e-12);
    assert!((get("velocity") - 10f64.ln()).abs() < 1e-12);
    assert!((get("author_followers") - 100f64.ln()).abs() < 1e-12);
    for flag in [
        "is_media",
        "follows_author",
        "mutual",
        "lang_match",
        "in_network",
    ] {
        assert_eq!(get(flag), 1.0, "{flag}");
    }
    for flag in ["is_link", "is_reply", "is_repost", "negative_feedback"] {
        assert_eq!(get(flag), 0.0, "{flag}");
    }
    c.lang = Some("de".into());
    assert_eq!(features::extract(&viewer, &c, &signals, now())[12], 0.0);
}

#[test]
fn ranks_by_model_then_rules_and_explains() {
    let model = LinearModel::new(
        weights(&[
            ("recency", 1.0),
            ("author_affinity", 1.0),
            ("negative_feedback", -5.0),
        ]),
        0.0,
        Link::Identity,
    );
    let ranker = Ranker::new(Arc::new(model), RerankConfig::default()).unwrap();
    let (ann, bob, cat) = (UserId::new(), UserId::new(), UserId::new());
    let viewer = Viewer::default();
    // Ann posted the three freshest posts; Bob is liked; Cat got "show less".
    let cands = vec![
        candidate(ann, 0, Source::InNetwork),
        candidate(ann, 1, Source::InNetwork),
        candidate(ann, 2, Source::InNetwork),
        candidate(bob, 10, Source::InNetwork),
        candidate(cat, 0, Source::InNetwork),
    ];
    let signals = HashMap::from([
        (
            bob,
            AuthorSignals {
                interactions: 20.0,
                negative: 0.0,
            },
        ),
        (
            cat,
            AuthorSignals {
                interactions: 0.0,
                negative: 2.0,
            },
        ),
    ]);
    let out = ranker.rank(&viewer, &cands, &signals, now(), 10);
    let authors: Vec<UserId> = out.iter().map(|i| i.author_id).collect();
    // Bob (affinity 3.04 + recency 0.31) first; Ann's three split after two in a row; Cat last.
    assert_eq!(authors, [bob, ann, ann, cat, ann]);
    let e = ranker.explain(&viewer, &cands[4], &signals[&cat], now());
    assert_eq!(e.contributions[0].feature, "negative_feedback");
    assert!(e.contributions[0].contribution < 0.0);
    assert!((e.raw - out.iter().find(|i| i.author_id == cat).unwrap().model_score).abs() < 1e-12);

    // A model of the wrong width is refused.
    let narrow = LinearModel::new(vec![1.0; 3], 0.0, Link::Identity);
    assert_eq!(
        Ranker::new(Arc::new(narrow), RerankConfig::default())
            .unwrap_err()
            .field(),
        Some("model")
    );
}

#[test]
fn per_user_weights_and_seen_suppression() {
    let model = LinearModel::new(weights(&[("recency", 1.0)]), 0.0, Link::Identity);
    let ranker = Ranker::new(Arc::new(model), RerankConfig::default()).unwrap();
    let friend = candidate(UserId::new(), 3, Source::InNetwork);
    let stranger = candidate(UserId::new(), 0, Source::OutOfNetwork);
    let mut repost = candidate(UserId::new(), 0, Source::OutOfNetwork);
    repost.kind.repost = true;
    let seen = candidate(UserId::new(), 0, Source::InNetwork);
    let mut viewer = Viewer::default();
    viewer.seen.insert(seen.post_id);
    let all = [
        friend.clone(),
        stranger.clone(),
        repost.clone(),
        seen.clone(),
    ];
    let first = |v: &Viewer| ranker.rank(v, &all, &HashMap::new(), now(), 10);
    let out = first(&viewer);
    assert_eq!(out.len(), 3, "the seen post is suppressed");
    assert_eq!(out[0].source, Source::OutOfNetwork);
    // "More from people I follow" and "fewer reposts".
    viewer.preferences.in_network = 3.0;
    viewer.preferences.reposts = 0.1;
    let out = first(&viewer);
    assert_eq!(out[0].post_id, friend.post_id);
    assert_eq!(out[2].post_id, repost.post_id);
}

fn item(author: u8, source: bool, score: f64, authors: &[UserId]) -> RankedItem {
    RankedItem {
        post_id: PostId::new(),
        author_id: authors[author as usize],
        model_score: score,
        score,
        source: if source {
            Source::InNetwork
        } else {
            Source::OutOfNetwork
        },
    }
}

proptest! {
    #[test]
    fn rerank_keeps_the_rules(
        spec in prop::collection::vec((0u8..4, any::<bool>(), 0.0f64..1.0), 0..60),
        limit in 0usize..80,
    ) {
        let authors: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
        let items: Vec<RankedItem> = spec.iter().map(|&(a, s, x)| item(a, s, x, &authors)).collect();
        let config = RerankConfig::default();
        let out = rerank(items.clone(), &Viewer::default(), &config, limit);
        prop_assert_eq!(out.len(), limit.min(items.len()));
        let mut ids: Vec<_> = out.iter().map(|i| i.post_id).collect();
        ids.sort_by_key(|p| p.as_uuid());
        ids.dedup();
        prop_assert_eq!(ids.len(), out.len());
        // The first item is the best one whenever the rules allow it (always, first).
        if let (Some(first), Some(best)) = (out.first(), items.iter().max_by(|a, b| a.score.total_cmp(&b.score))) {
            prop_assert_eq!(first.score, best.score);
        }
        // Author runs beyond the cap only when every remaining item was by that author.
        for (i, w) in out.windows(3).enumerate() {
            if w.iter().all(|x| x.author_id == w[0].author_id) {
                let rest = &out[i + 2..];
                prop_assert!(rest.iter().all(|x| x.author_id == w[0].author_id));
            }
        }
    }
}

#[test]
fn feature_names_are_unique() {
    let mut names = FEATURES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), N_FEATURES);
}
