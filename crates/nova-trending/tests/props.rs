//! Properties of the decayed scores and the leaderboards, against direct float computation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use nova_core::Timestamp;
use nova_trending::{
    Engagement, EngagementKind, EntityKey, Scope, TrendingConfig, TrendingEngine, WindowSpec,
};
use proptest::prelude::*;

const BASE: i64 = 1_750_000_000;
const KINDS: [EngagementKind; 4] = [
    EngagementKind::View,
    EngagementKind::Like,
    EngagementKind::Repost,
    EngagementKind::Comment,
];

fn at(secs: i64) -> Timestamp {
    Utc.timestamp_opt(BASE + secs, 0).unwrap()
}

fn config() -> TrendingConfig {
    TrendingConfig {
        windows: vec![
            WindowSpec::new("10m", Duration::from_secs(600)),
            WindowSpec::new("1h", Duration::from_secs(3600)),
        ],
        account_cap: 254,
        board_size: 16,
        // Every event has its own account: list every entity (top-K accuracy is tested
        // here, the distinct-account rule in engine.rs).
        min_accounts: 1,
        trend_window: 0,
        baseline_window: 1,
        ..TrendingConfig::default()
    }
}

fn key(i: u8) -> EntityKey {
    EntityKey::hashtag(&format!("tag{i}"))
}

/// (entity, kind, second offset) — offsets unsorted, so late events are covered.
fn events(entities: u8, len: usize) -> impl Strategy<Value = Vec<(u8, usize, i64)>> {
    prop::collection::vec((0..entities, 0..KINDS.len(), 0i64..40_000), 1..len)
}

fn ingest(engine: &mut TrendingEngine, events: &[(u8, usize, i64)]) {
    for (n, &(e, kind, t)) in events.iter().enumerate() {
        engine.ingest(&Engagement {
            entity: key(e),
            account: n as u128,
            kind: KINDS[kind],
            at: at(t),
            lang: None,
            region: None,
        });
    }
}

/// Σ w·exp(−λ·(now − t)) computed directly.
fn direct(
    cfg: &TrendingConfig,
    window: usize,
    events: &[(u8, usize, i64)],
    e: u8,
    now: i64,
) -> f64 {
    let lambda = std::f64::consts::LN_2 / cfg.windows[window].half_life.as_secs_f64();
    events
        .iter()
        .filter(|ev| ev.0 == e)
        .map(|&(_, kind, t)| cfg.weights[KINDS[kind] as usize] * (-lambda * (now - t) as f64).exp())
        .sum()
}

proptest! {
    #[test]
    fn log_space_sum_matches_direct(evs in events(6, 200), extra in 0i64..20_000) {
        let cfg = config();
        let mut engine = TrendingEngine::new(cfg.clone()).unwrap();
        ingest(&mut engine, &evs);
        let now = evs.iter().map(|e| e.2).max().unwrap() + extra;
        for (w, window) in ["10m", "1h"].iter().enumerate() {
            for e in 0..6u8 {
                let expected = direct(&cfg, w, &evs, e, now);
                let got = engine.log_score(&Scope::Global, &key(e), window, at(now)).unwrap();
                match got {
                    None => prop_assert!(expected == 0.0),
                    Some(log) if expected > 1e-250 => {
                        prop_assert!((log - expected.ln()).abs() < 1e-9, "{log} vs {}", expected.ln());
                    }
                    Some(_) => {}
                }
            }
        }
    }

    #[test]
    fn decay_is_monotone_and_order_preserving(
        evs in events(5, 100),
        d1 in 0i64..50_000,
        d2 in 0i64..50_000,
    ) {
        let mut engine = TrendingEngine::new(config()).unwrap();
        ingest(&mut engine, &evs);
        let last = evs.iter().map(|e| e.2).max().unwrap();
        let (t1, t2) = (last + d1.min(d2), last + d1.max(d2));
        let scores = |now: i64| -> Vec<f64> {
            (0..5u8)
                .map(|e| engine
                    .log_score(&Scope::Global, &key(e), "1h", at(now))
                    .unwrap()
                    .unwrap_or(f64::NEG_INFINITY))
                .collect()
        };
        let (s1, s2) = (scores(t1), scores(t2));
        for e in 0..5 {
            prop_assert!(s2[e] <= s1[e] + 1e-12);
            for f in 0..5 {
                if s1[e] > s1[f] + 1e-9 {
                    prop_assert!(s2[e] >= s2[f], "order of {e} and {f} flipped");
                }
            }
        }
    }

    #[test]
    fn top_k_matches_exact(evs in events(40, 400), k in 1usize..12) {
        let cfg = config();
        let mut engine = TrendingEngine::new(cfg.clone()).unwrap();
        ingest(&mut engine, &evs);
        let now = evs.iter().map(|e| e.2).max().unwrap();
        let mut exact: Vec<(f64, EntityKey)> = (0..40u8)
            .map(|e| (direct(&cfg, 1, &evs, e, now), key(e)))
            .filter(|(s, _)| *s > 0.0)
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top = engine.top(&Scope::Global, "1h", k, at(now)).unwrap();
        prop_assert_eq!(top.len(), exact.len().min(k));
        for (i, r) in top.iter().enumerate() {
            prop_assert!((r.score - exact[i].0).abs() <= 1e-9 * exact[i].0, "rank {i}");
            // Same entity unless tied with a neighbour.
            let tied = exact.iter().any(|(s, key)| *key == r.entity && (s - exact[i].0).abs() <= 1e-9 * s);
            prop_assert!(tied, "rank {i}: {:?} is not the exact entity", r.entity);
        }
    }
}
