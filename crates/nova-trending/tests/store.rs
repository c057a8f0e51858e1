//! Persistence on both engines, the service's restart path, the event consumer, and
//! sharing through sorted sets (in-process and Redis).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use nova_core::{ManualClock, SharedClock, Timestamp};
use nova_events::{EventEnvelope, EventHandler};
use nova_trending::{
    EngagementConsumer, EngagementPayload, EntityKey, ReviewState, Scope, SharedLeaderboards,
    TrendingApi, TrendingConfig, TrendingEngine, TrendingService,
};
use prost::Message;
use uuid::Uuid;

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

fn like_event(actor: Uuid, post: Uuid, tags: &[&str], lang: &str, at: Timestamp) -> EventEnvelope {
    let payload = EngagementPayload {
        actor_id: actor.to_string(),
        post_id: post.to_string(),
        author_id: Uuid::nil().to_string(),
        hashtags: tags.iter().map(|s| (*s).to_owned()).collect(),
        links: vec![],
        lang: lang.to_owned(),
        region: String::new(),
        visibility: "public".into(),
    };
    EventEnvelope::new("post.liked", post.to_string(), at, payload.encode_to_vec())
}

fn moderator() -> nova_core::Principal {
    let id = nova_core::UserId::new();
    let mut p = nova_core::Principal::user(id, nova_core::SessionId::from(id.as_uuid()));
    p.scopes.push("moderator".into());
    p
}

mod suite {
    use super::*;

    /// The periodic task saves snapshots on its own and once more on shutdown; a new
    /// instance restores the same top-K.
    pub async fn periodic_snapshots_restore_the_same_top_k(db: nova_db::Db) {
        let store = nova_trending::store::store(&db);
        let clock = Arc::new(ManualClock::new(t(0)));
        let shared: SharedClock = clock.clone();
        let service = Arc::new(
            TrendingService::start(TrendingConfig::default(), store.clone(), shared.clone())
                .await
                .unwrap(),
        );
        let stop = nova_events::CancellationToken::new();
        let task = nova_trending::setup::spawn_snapshots(
            service.clone(),
            Duration::from_millis(50),
            stop.clone(),
        );
        let consumer = EngagementConsumer::new(service.clone());
        // 40 likes by distinct accounts: each of 7 tags reaches `min_accounts` (5); the
        // posts and their authors (one account each) stay unlisted.
        for i in 0..40 {
            let tag = format!("tag{}", i % 7);
            let ev = like_event(
                Uuid::now_v7(),
                Uuid::now_v7(),
                &[tag.as_str()],
                "pt",
                t(60 * i),
            );
            consumer.handle(&ev).await.unwrap();
        }
        clock.set(t(3_600));
        let before = service.top(Scope::Global, "24h", 20).await.unwrap();
        assert!(before.len() >= 7, "{before:?}");
        // Wait for a periodic snapshot holding everything.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let rows = store.load().await.unwrap().rows.len();
            if rows >= before.len() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no periodic snapshot ({rows} rows)"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let restored =
            TrendingService::start(TrendingConfig::default(), store.clone(), shared.clone())
                .await
                .unwrap();
        let after = restored.top(Scope::Global, "24h", 20).await.unwrap();
        assert_eq!(
            before.iter().map(|r| r.entity).collect::<Vec<_>>(),
            after.iter().map(|r| r.entity).collect::<Vec<_>>()
        );
        for (a, b) in before.iter().zip(&after) {
            assert!((a.log_score - b.log_score).abs() < 1e-9);
        }

        stop.cancel();
        task.await.unwrap();

        // With an hour between ticks, only the shutdown snapshot can hold a late event.
        let stop = nova_events::CancellationToken::new();
        let task = nova_trending::setup::spawn_snapshots(
            service.clone(),
            Duration::from_secs(3_600),
            stop.clone(),
        );
        // Five accounts: enough to be listed.
        for _ in 0..5 {
            let late = like_event(Uuid::now_v7(), Uuid::now_v7(), &["late"], "", t(3_600));
            consumer.handle(&late).await.unwrap();
        }
        stop.cancel();
        task.await.unwrap();
        let restored = TrendingService::start(TrendingConfig::default(), store.clone(), shared)
            .await
            .unwrap();
        let top = restored.top(Scope::Global, "24h", 50).await.unwrap();
        assert!(
            top.iter().any(|r| r.entity == EntityKey::hashtag("late")),
            "{top:?}"
        );
    }

    pub async fn snapshots_survive_a_restart(db: nova_db::Db) {
        let store = nova_trending::store::store(&db);
        let clock = Arc::new(ManualClock::new(t(0)));
        let shared: SharedClock = clock.clone();
        let service = Arc::new(
            TrendingService::start(TrendingConfig::default(), store.clone(), shared.clone())
                .await
                .unwrap(),
        );
        let consumer = EngagementConsumer::new(service.clone());
        let post = Uuid::now_v7();
        // One unrelated event at t=0, then 20 accounts like a post tagged #Rust a day later.
        consumer
            .handle(&like_event(Uuid::now_v7(), Uuid::now_v7(), &[], "", t(0)))
            .await
            .unwrap();
        for i in 0..20 {
            let ev = like_event(Uuid::now_v7(), post, &["Rust"], "en", t(86_400 - 60 * i));
            consumer.handle(&ev).await.unwrap();
        }
        // Not an engagement: ignored.
        consumer
            .handle(&EventEnvelope::new(
                "user.registered",
                "x",
                t(1),
                vec![1, 2],
            ))
            .await
            .unwrap();
        // A malformed payload is an error (retried, then dead-lettered by the bus).
        assert!(
            consumer
                .handle(&EventEnvelope::new(
                    "post.liked",
                    "x",
                    t(1),
                    vec![0xff, 0xff]
                ))
                .await
                .is_err()
        );
        clock.set(t(86_400));
        let rust = EntityKey::hashtag("rust");
        service
            .review(&moderator(), EntityKey::post(post), ReviewState::Hidden)
            .await
            .unwrap();
        let trends = service.trends(Scope::Global, 10).await.unwrap();
        assert!(trends.iter().any(|t| t.entity == rust));
        assert!(trends.iter().all(|t| t.entity != EntityKey::post(post)));
        let en = Scope::Lang(nova_trending::Code::new("en").unwrap());
        let top_en = service.top(en, "24h", 5).await.unwrap();
        assert_eq!(top_en.len(), 2, "{top_en:?}"); // creator and tag; the post is hidden
        let before = service.top(Scope::Global, "7d", 10).await.unwrap();
        assert!(service.snapshot().await.unwrap() >= 7);
        assert!(service.velocity(rust).await.unwrap() > 10.0);

        // A new replica starts from the snapshot.
        let restarted = TrendingService::start(TrendingConfig::default(), store.clone(), shared)
            .await
            .unwrap();
        let after = restarted.top(Scope::Global, "7d", 10).await.unwrap();
        assert_eq!(before.len(), after.len());
        for (a, b) in before.iter().zip(&after) {
            assert_eq!(a.entity, b.entity);
            assert!((a.log_score - b.log_score).abs() < 1e-9);
        }
        assert!(
            restarted.top(en, "24h", 5).await.unwrap().len() == 2,
            "hidden post stays hidden"
        );
        // A second snapshot replaces the first.
        assert_eq!(
            restarted.snapshot().await.unwrap(),
            store.load().await.unwrap().rows.len()
        );
    }

    /// Whether an entity may be listed is stored with it: an entity that qualified
    /// stays listable after a restart even when its account sketch no longer shows it.
    pub async fn listing_qualification_round_trips(db: nova_db::Db) {
        let store = nova_trending::store::store(&db);
        let mut engine = TrendingEngine::new(TrendingConfig::default()).unwrap();
        // One like at t(10): ln(w·exp(λ·t)).
        let log_score = engine.lambda("7d").unwrap() * t(10).timestamp() as f64;
        let row = |tag: &str, qualified: bool| nova_trending::SnapshotRow {
            scope: Scope::Global,
            entity: EntityKey::hashtag(tag),
            log_scores: vec![("7d".to_owned(), log_score)],
            accounts: Vec::new(),
            trending: false,
            qualified,
            cooldown_until: None,
        };
        let mut rows = vec![row("listed", true), row("unlisted", false)];
        rows.sort_by_key(|r| r.entity);
        let snapshot = nova_trending::Snapshot {
            taken_at: Some(t(10)),
            observed_since: Some(0),
            rows,
            reviews: Vec::new(),
        };
        store.save(&snapshot).await.unwrap();
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded.rows, snapshot.rows);
        engine.restore(&loaded);
        let listed: Vec<_> = engine
            .top(&Scope::Global, "7d", 10, t(10))
            .unwrap()
            .into_iter()
            .map(|r| r.entity)
            .collect();
        assert_eq!(listed, [EntityKey::hashtag("listed")]);
    }

    pub async fn reviews_and_labels(db: nova_db::Db) {
        let store = nova_trending::store::store(&db);
        let tag = EntityKey::hashtag("news");
        assert_eq!(store.label(tag).await.unwrap(), None);
        store
            .set_review(tag, ReviewState::Pending, Some("#News"), t(0))
            .await
            .unwrap();
        store
            .set_review(tag, ReviewState::Approved, None, t(1))
            .await
            .unwrap();
        assert_eq!(store.label(tag).await.unwrap().as_deref(), Some("#News"));
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded.reviews, vec![(tag, ReviewState::Approved)]);
        assert!(loaded.rows.is_empty() && loaded.taken_at.is_none());
    }
}

nova_testkit::db_conformance_suite!(
    suite: snapshots_survive_a_restart,
    reviews_and_labels,
    listing_qualification_round_trips,
    periodic_snapshots_restore_the_same_top_k
);

async fn share_between_replicas(sets: Arc<dyn nova_kv::SortedSets>) {
    let config = TrendingConfig::default();
    let (mut a, mut b) = (
        TrendingEngine::new(config.clone()).unwrap(),
        TrendingEngine::new(config).unwrap(),
    );
    let tag = |s: &str| EntityKey::hashtag(s);
    let ev = |s: &str, acct: u128, secs: i64| nova_trending::Engagement {
        entity: tag(s),
        account: acct,
        kind: nova_trending::EngagementKind::Like,
        at: t(secs),
        lang: None,
        region: None,
    };
    // Each replica sees half of #both; #solo only on a.
    for i in 0..10 {
        a.ingest(&ev("both", i, 100 + i as i64));
        b.ingest(&ev("both", 100 + i, 200 + i as i64));
    }
    for i in 0..15 {
        a.ingest(&ev("solo", 200 + i, 300));
    }
    let ra = SharedLeaderboards::new(sets.clone(), "a", Duration::from_secs(600));
    let rb = SharedLeaderboards::new(sets.clone(), "b", Duration::from_secs(600));
    ra.publish(&a.leaders(), t(400)).await.unwrap();
    rb.publish(&b.leaders(), t(400)).await.unwrap();
    let lambda = a.lambda("1h").unwrap();
    let top = ra
        .top(&Scope::Global, "1h", lambda, 10, t(500))
        .await
        .unwrap();
    assert_eq!(top[0].entity, tag("both"));
    // The merged score is the sum of both replicas' decayed scores.
    let sa = a
        .log_score(&Scope::Global, &tag("both"), "1h", t(500))
        .unwrap()
        .unwrap()
        .exp();
    let sb = b
        .log_score(&Scope::Global, &tag("both"), "1h", t(500))
        .unwrap()
        .unwrap()
        .exp();
    assert!((top[0].score - (sa + sb)).abs() < 1e-9 * (sa + sb));
    assert_eq!(top[1].entity, tag("solo"));
    // A replica that stopped publishing drops out.
    let late = rb
        .top(&Scope::Global, "1h", lambda, 10, t(400 + 3_600))
        .await
        .unwrap();
    assert!(late.is_empty());
}

#[tokio::test]
async fn shares_leaders_in_process() {
    share_between_replicas(Arc::new(nova_kv::InProcessSortedSets::new())).await;
}

#[tokio::test]
async fn shares_leaders_through_redis() {
    let Some(redis) = nova_testkit::redis().await else {
        return;
    };
    let kv = nova_kv::Kv::redis(redis.url(), redis.prefix())
        .await
        .unwrap();
    share_between_replicas(kv.sorted_sets).await;
}
