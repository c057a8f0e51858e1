//! Trend rules: growth over baseline, distinct accounts, caps, cool-down, review, scopes,
//! bounded memory, snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use nova_core::Timestamp;
use nova_trending::{
    Code, Engagement, EngagementKind, EntityKey, ReviewState, Scope, TrendingConfig, TrendingEngine,
};

const BASE: i64 = 1_750_000_000;

fn at(secs: i64) -> Timestamp {
    Utc.timestamp_opt(BASE + secs, 0).unwrap()
}

fn like(tag: &str, account: u128, secs: i64) -> Engagement {
    Engagement {
        entity: EntityKey::hashtag(tag),
        account,
        kind: EngagementKind::Like,
        at: at(secs),
        lang: None,
        region: None,
    }
}

fn engine() -> TrendingEngine {
    warm(TrendingEngine::new(TrendingConfig::default()).unwrap())
}

/// The engine has been observing since t = 0 (one unrelated event), so a burst a day
/// later is measured against a day of (near) silence.
fn warm(mut engine: TrendingEngine) -> TrendingEngine {
    engine.ingest(&like("hello", 1, 0));
    engine
}

/// `tag` used steadily: one like per `every` seconds for `days`, from rotating accounts.
fn steady(engine: &mut TrendingEngine, tag: &str, every: i64, days: i64) {
    for (n, t) in (0..days * 86_400).step_by(every as usize).enumerate() {
        engine.ingest(&like(tag, 1_000 + (n % 500) as u128, t));
    }
}

/// `accounts` accounts each like `tag` `each` times within the hour before `end`.
fn burst(engine: &mut TrendingEngine, tag: &str, accounts: u128, each: i64, end: i64) {
    for a in 0..accounts {
        for i in 0..each {
            engine.ingest(&like(
                tag,
                50_000 + a,
                end - 3_600 + (a as i64 * 7 + i * 13) % 3_600,
            ));
        }
    }
}

const DAY: i64 = 86_400;

#[test]
fn growth_beats_popularity() {
    let mut e = engine();
    // Popular but steady: ~60/h for a week.
    steady(&mut e, "weather", 60, 7);
    // Quiet, then 40 accounts at once.
    burst(&mut e, "eclipse", 40, 3, 7 * DAY);
    let top = e.top(&Scope::Global, "7d", 2, at(7 * DAY)).unwrap();
    assert_eq!(top[0].entity, EntityKey::hashtag("weather"));
    let trends = e.trends(&Scope::Global, 10, at(7 * DAY));
    assert_eq!(trends.len(), 1, "{trends:?}");
    assert_eq!(trends[0].entity, EntityKey::hashtag("eclipse"));
    assert!(
        (34..=46).contains(&trends[0].accounts),
        "{}",
        trends[0].accounts
    );
    assert!(trends[0].observed_per_hour > trends[0].expected_per_hour);
}

#[test]
fn needs_distinct_accounts_and_caps_each_account() {
    let mut e = engine();
    // Three accounts hammering a tag: capped at 5 each, and 3 < min_accounts.
    burst(&mut e, "spam", 3, 200, DAY);
    assert!(e.trends(&Scope::Global, 10, at(DAY)).is_empty());
    assert_eq!(e.stats().capped, 3 * 195);
    assert_eq!(e.stats().ingested, 1 + 15); // + the warm-up event
}

#[test]
fn cools_down_after_trending() {
    let mut e = engine();
    burst(&mut e, "flash", 20, 2, DAY);
    assert_eq!(e.trends(&Scope::Global, 10, at(DAY)).len(), 1);
    // A quiet day: no longer trending, cool-down starts.
    assert!(e.trends(&Scope::Global, 10, at(2 * DAY)).is_empty());
    // A new burst within the cool-down does not bring it back...
    burst(&mut e, "flash", 60, 2, 2 * DAY + 3_600);
    assert!(e.trends(&Scope::Global, 10, at(2 * DAY + 3_600)).is_empty());
    // ...after it, it may trend again.
    burst(&mut e, "flash", 80, 2, 2 * DAY + 8 * 3_600);
    assert_eq!(
        e.trends(&Scope::Global, 10, at(2 * DAY + 8 * 3_600)).len(),
        1
    );
}

#[test]
fn review_hides_or_gates() {
    let mut e = engine();
    burst(&mut e, "a", 10, 2, DAY);
    burst(&mut e, "b", 10, 2, DAY);
    e.set_review(EntityKey::hashtag("a"), ReviewState::Hidden);
    let shown: Vec<_> = e
        .trends(&Scope::Global, 10, at(DAY))
        .iter()
        .map(|t| t.entity)
        .collect();
    assert_eq!(shown, [EntityKey::hashtag("b")]);
    let top = e.top(&Scope::Global, "1h", 10, at(DAY)).unwrap();
    assert!(top.iter().all(|r| r.entity != EntityKey::hashtag("a")));
    assert!(top.iter().any(|r| r.entity == EntityKey::hashtag("b")));

    let mut gated = warm(
        TrendingEngine::new(TrendingConfig {
            require_review: true,
            ..TrendingConfig::default()
        })
        .unwrap(),
    );
    burst(&mut gated, "a", 10, 2, DAY);
    burst(&mut gated, "b", 10, 2, DAY);
    assert!(gated.trends(&Scope::Global, 10, at(DAY)).is_empty());
    gated.set_review(EntityKey::hashtag("a"), ReviewState::Approved);
    assert_eq!(
        gated.trends(&Scope::Global, 10, at(DAY))[0].entity,
        EntityKey::hashtag("a")
    );
}

#[test]
fn scopes_by_language_and_region() {
    let mut e = TrendingEngine::new(TrendingConfig::default()).unwrap();
    let en = Code::new("en").unwrap();
    let fr = Code::new("fr").unwrap();
    let us = Code::new("US").unwrap();
    for a in 0..10u128 {
        let mut ev = like("football", a, 100);
        ev.lang = Some(en);
        ev.region = Some(us);
        e.ingest(&ev);
        let mut ev = like("rugby", a, 100);
        ev.lang = Some(fr);
        e.ingest(&ev);
    }
    let names = |scope: Scope| -> Vec<EntityKey> {
        e.top(&scope, "24h", 10, at(200))
            .unwrap()
            .iter()
            .map(|r| r.entity)
            .collect()
    };
    assert_eq!(names(Scope::Lang(en)), [EntityKey::hashtag("football")]);
    assert_eq!(names(Scope::Lang(fr)), [EntityKey::hashtag("rugby")]);
    assert_eq!(names(Scope::Region(us)), [EntityKey::hashtag("football")]);
    assert_eq!(names(Scope::Global).len(), 2);
    assert!(names(Scope::Region(Code::new("FR").unwrap())).is_empty());
    assert_eq!(e.scopes().len(), 4);
    assert_eq!(
        Scope::parse(&Scope::Lang(en).key()).unwrap(),
        Scope::Lang(en)
    );
}

#[test]
fn memory_is_bounded_and_heavy_hitters_survive() {
    let mut e = TrendingEngine::new(TrendingConfig {
        capacity: 100,
        board_size: 10,
        ..TrendingConfig::default()
    })
    .unwrap();
    let mut account = 0u128;
    for t in 0..20_000i64 {
        account += 1;
        // A long tail of one-off tags, and five heavy ones.
        e.ingest(&like(&format!("tail{t}"), account, t / 10));
        e.ingest(&like(&format!("heavy{}", t % 5), account, t / 10));
    }
    let snap = e.snapshot(at(2_000));
    assert!(snap.rows.len() <= 100);
    assert!(e.stats().not_admitted > 0);
    let top: Vec<_> = e.top(&Scope::Global, "1h", 5, at(2_000)).unwrap();
    for i in 0..5 {
        assert!(
            top.iter()
                .any(|r| r.entity == EntityKey::hashtag(&format!("heavy{i}")))
        );
    }
}

#[test]
fn snapshot_restores_scores_and_state() {
    let mut e = engine();
    steady(&mut e, "weather", 600, 2);
    burst(&mut e, "eclipse", 12, 2, 2 * DAY);
    e.set_review(EntityKey::hashtag("weather"), ReviewState::Approved);
    let before = e.trends(&Scope::Global, 10, at(2 * DAY));
    let snap = e.snapshot(at(2 * DAY));

    let mut restored = TrendingEngine::new(TrendingConfig::default()).unwrap();
    assert_eq!(restored.restore(&snap), snap.rows.len());
    assert_eq!(
        restored.review(&EntityKey::hashtag("weather")),
        ReviewState::Approved
    );
    for tag in ["weather", "eclipse"] {
        for window in ["1h", "24h", "7d"] {
            let key = EntityKey::hashtag(tag);
            let a = e
                .log_score(&Scope::Global, &key, window, at(3 * DAY))
                .unwrap()
                .unwrap();
            let b = restored
                .log_score(&Scope::Global, &key, window, at(3 * DAY))
                .unwrap()
                .unwrap();
            assert!((a - b).abs() < 1e-9, "{tag} {window}: {a} vs {b}");
        }
    }
    assert_eq!(restored.trends(&Scope::Global, 10, at(2 * DAY)), before);
    // Cool-down survives too.
    e.trends(&Scope::Global, 10, at(3 * DAY));
    let mut again = TrendingEngine::new(TrendingConfig::default()).unwrap();
    again.restore(&e.snapshot(at(3 * DAY)));
    burst(&mut again, "eclipse", 40, 2, 3 * DAY + 3_600);
    assert!(
        again
            .trends(&Scope::Global, 10, at(3 * DAY + 3_600))
            .is_empty()
    );
}

#[test]
fn lists_only_entities_with_min_accounts_distinct_accounts() {
    let mut e = TrendingEngine::new(TrendingConfig::default()).unwrap();
    // Four accounts push a tag as hard as the caps allow; five push another once each.
    for a in 0..4u128 {
        for i in 0..20 {
            e.ingest(&like("four", 100 + a, i));
        }
    }
    for a in 0..5u128 {
        e.ingest(&like("five", 200 + a, 30 + a as i64));
    }
    let listed = |e: &TrendingEngine, window: &str, secs: i64| -> Vec<EntityKey> {
        e.top(&Scope::Global, window, 10, at(secs))
            .unwrap()
            .iter()
            .map(|r| r.entity)
            .collect()
    };
    for window in ["1h", "24h", "7d"] {
        assert_eq!(listed(&e, window, 60), [EntityKey::hashtag("five")]);
    }
    // The four keep pushing, period after period: never listed. The five-account tag
    // stays listed once its accounts have moved on.
    for hour in 1..5 {
        for a in 0..4u128 {
            e.ingest(&like("four", 100 + a, hour * 3_600));
        }
    }
    assert_eq!(listed(&e, "7d", 5 * 3_600), [EntityKey::hashtag("five")]);
    // A restarted engine keeps the difference.
    let snap = e.snapshot(at(5 * 3_600));
    let qualified = |tag: &str| {
        snap.rows
            .iter()
            .find(|r| r.entity == EntityKey::hashtag(tag))
            .unwrap()
            .qualified
    };
    assert!(qualified("five") && !qualified("four"));
    let mut restored = TrendingEngine::new(TrendingConfig::default()).unwrap();
    restored.restore(&snap);
    assert_eq!(
        listed(&restored, "7d", 5 * 3_600),
        [EntityKey::hashtag("five")]
    );
    // A fifth account makes it listable.
    e.ingest(&like("four", 999, 5 * 3_600));
    assert_eq!(listed(&e, "1h", 5 * 3_600)[0], EntityKey::hashtag("four"));
}

#[test]
fn rejects_bad_config() {
    let err = TrendingEngine::new(TrendingConfig {
        windows: vec![],
        ..TrendingConfig::default()
    })
    .unwrap_err();
    assert_eq!(err.field(), Some("windows"));
    let _ = Duration::ZERO;
}
