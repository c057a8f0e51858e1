//! `ingest_batch` (pipelined, prefetching) leaves the engine exactly as `ingest` on each
//! event in turn would: scores, leaders, distinct accounts, caps, scopes and counters,
//! across epoch and period changes, admission into full scopes and late events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use nova_core::Timestamp;
use nova_trending::{
    Code, Engagement, EngagementKind, EntityKey, Scope, TrendingConfig, TrendingEngine, WindowSpec,
};
use proptest::prelude::*;

const KINDS: [EngagementKind; 4] = [
    EngagementKind::View,
    EngagementKind::Like,
    EngagementKind::Repost,
    EngagementKind::Comment,
];

fn at(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

fn config() -> TrendingConfig {
    TrendingConfig {
        // A short window: epochs of about 6,400 s, so streams cross several (and
        // 15-minute periods many).
        windows: vec![
            WindowSpec::new("1m", Duration::from_secs(70)),
            WindowSpec::new("1h", Duration::from_secs(3600)),
        ],
        capacity: 24,
        board_size: 6,
        max_scopes: 4,
        account_cap: 3,
        period: Duration::from_secs(900),
        trend_window: 0,
        baseline_window: 1,
        min_accounts: 2,
        ..TrendingConfig::default()
    }
}

/// (entity, account, kind, seconds step, lang, region): mostly forward in time, some
/// events late.
type Spec = (u8, u8, usize, i64, u8, u8);

fn events(specs: &[Spec]) -> Vec<Engagement> {
    let langs = ["en", "es", "ja", "de", "fr"];
    let mut t = 0i64;
    specs
        .iter()
        .map(|&(e, a, k, step, l, r)| {
            t += step;
            Engagement {
                entity: EntityKey::hashtag(&format!("tag{e}")),
                account: u128::from(a),
                kind: KINDS[k],
                at: at(t.max(0)),
                lang: (l > 0).then(|| Code::new(langs[l as usize % 5])).flatten(),
                region: (r > 0)
                    .then(|| Code::new(["US", "BR"][r as usize % 2]))
                    .flatten(),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batch_equals_one_by_one(
        specs in prop::collection::vec(
            (0u8..30, 0u8..4, 0..4usize, -50i64..400, 0u8..6, 0u8..3),
            1..700,
        ),
        split in 0usize..700,
    ) {
        let evs = events(&specs);
        let mut one = TrendingEngine::new(config()).unwrap();
        let counted_one = evs.iter().filter(|e| one.ingest(e)).count();
        let mut batch = TrendingEngine::new(config()).unwrap();
        // Two calls, so a batch also starts where an earlier one left the clock.
        let (a, b) = evs.split_at(split.min(evs.len()));
        let counted_batch = batch.ingest_batch(a) + batch.ingest_batch(b);
        prop_assert_eq!(counted_one, counted_batch);
        prop_assert_eq!(one.stats(), batch.stats());
        let now = evs.last().unwrap().at;
        prop_assert_eq!(one.snapshot(now), batch.snapshot(now));
        prop_assert_eq!(one.scopes(), batch.scopes());
        for scope in one.scopes() {
            for window in ["1m", "1h"] {
                prop_assert_eq!(
                    one.top(&scope, window, 6, now).unwrap(),
                    batch.top(&scope, window, 6, now).unwrap()
                );
            }
            prop_assert_eq!(one.trends(&scope, 6, now), batch.trends(&scope, 6, now));
        }
        // The stream did exercise what could diverge.
        let stats = batch.stats();
        prop_assume!(evs.len() < 200 || (stats.capped > 0 && stats.not_admitted > 0));
        // A long stream lists something (`min_accounts` is 2, a short one may not).
        prop_assert!(evs.len() < 200 || !batch.top(&Scope::Global, "1h", 6, now).unwrap().is_empty());
    }
}
