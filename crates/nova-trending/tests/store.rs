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
    };
    EventEnvelope::new("post.liked", post.to_string(), at, payload.encode_to_vec())
}

mod suite {
    use super::*;

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
            .review(EntityKey::post(post), ReviewState::Hidden)
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

nova_testkit::db_conformance_suite!(suite: snapshots_survive_a_restart, reviews_and_labels);

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
