//! The feature store on every backend (SQLite, PostgreSQL, ClickHouse), and the service
//! reading it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use nova_core::{ManualClock, PostId, SharedClock, Timestamp, UserId};
use nova_ranking::features::{self, N_FEATURES};
use nova_ranking::{
    Candidate, FeatureStore, Interaction, LinearModel, Link, PostKind, Ranker, RankingApi,
    RankingService, RerankConfig, Source, Viewer,
};

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

async fn signals_aggregate(store: Arc<dyn FeatureStore>) {
    let (viewer, ann, bob, cat) = (UserId::new(), UserId::new(), UserId::new(), UserId::new());
    for i in 0..3 {
        store
            .record(viewer, ann, Interaction::Positive, t(i))
            .await
            .unwrap();
    }
    store
        .record(viewer, bob, Interaction::ShowLess, t(5))
        .await
        .unwrap();
    store
        .record(viewer, bob, Interaction::Positive, t(6))
        .await
        .unwrap();
    // Another viewer's interactions do not leak.
    store
        .record(UserId::new(), cat, Interaction::Positive, t(7))
        .await
        .unwrap();
    let got = store
        .author_signals(viewer, &[ann, bob, cat])
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[&ann].interactions, 3.0);
    assert_eq!(got[&ann].negative, 0.0);
    assert_eq!((got[&bob].interactions, got[&bob].negative), (1.0, 1.0));
    assert!(store.author_signals(viewer, &[]).await.unwrap().is_empty());
}

async fn service_ranks_with_stored_signals(store: Arc<dyn FeatureStore>) {
    let mut w = vec![0.0; N_FEATURES];
    w[features::index("author_affinity").unwrap()] = 1.0;
    w[features::index("negative_feedback").unwrap()] = -3.0;
    let ranker = Ranker::new(
        Arc::new(LinearModel::new(w, 0.0, Link::Identity)),
        RerankConfig::default(),
    )
    .unwrap();
    let clock: SharedClock = Arc::new(ManualClock::new(t(100)));
    let service = RankingService::new(ranker, store, clock);
    let viewer = Viewer::default();
    let (liked, muted, other) = (UserId::new(), UserId::new(), UserId::new());
    service
        .record(viewer.user_id, liked, Interaction::Positive)
        .await
        .unwrap();
    service
        .record(viewer.user_id, muted, Interaction::ShowLess)
        .await
        .unwrap();
    let post = |author| Candidate {
        post_id: PostId::new(),
        author_id: author,
        created_at: t(0),
        kind: PostKind::default(),
        lang: None,
        author_followers: 0,
        likes: 0,
        replies: 0,
        velocity: 0.0,
        source: Source::InNetwork,
    };
    let cands = [post(muted), post(other), post(liked)];
    let feed = service.rank(&viewer, &cands, 10).await.unwrap();
    let order: Vec<UserId> = feed.iter().map(|i| i.author_id).collect();
    assert_eq!(order, [liked, other, muted]);
    let why = service.explain(&viewer, &cands[0]).await.unwrap();
    assert_eq!(why.contributions[0].feature, "negative_feedback");
}

mod suite {
    use super::*;

    pub async fn aggregates_signals(db: nova_db::Db) {
        signals_aggregate(nova_ranking::store::store(&db)).await;
    }

    pub async fn service_reads_the_store(db: nova_db::Db) {
        service_ranks_with_stored_signals(nova_ranking::store::store(&db)).await;
    }
}

nova_testkit::db_conformance_suite!(suite: aggregates_signals, service_reads_the_store);

#[cfg(feature = "clickhouse")]
mod clickhouse {
    use super::*;
    use nova_ranking::store::ClickHouseFeatureStore;

    /// A fresh database on the server of `NOVA_TEST_CLICKHOUSE_URL`, dropped afterwards.
    async fn with_database<F, Fut>(test: F)
    where
        F: FnOnce(Arc<dyn FeatureStore>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Some(url) = nova_testkit::backend_url("NOVA_TEST_CLICKHOUSE_URL") else {
            return;
        };
        let name = format!("nova_test_{}", uuid::Uuid::now_v7().simple());
        let admin = ::clickhouse::Client::default()
            .with_url(&url)
            .with_validation(false);
        admin
            .query(&format!("CREATE DATABASE {name}"))
            .execute()
            .await
            .unwrap_or_else(|e| panic!("cannot reach ClickHouse at {url}: {e}"));
        let store = ClickHouseFeatureStore::connect(&url, &name).await.unwrap();
        test(Arc::new(store)).await;
        admin
            .query(&format!("DROP DATABASE {name}"))
            .execute()
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn aggregates_signals() {
        with_database(signals_aggregate).await;
    }

    #[tokio::test]
    async fn service_reads_the_store() {
        with_database(service_ranks_with_stored_signals).await;
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable() {
        let err = ClickHouseFeatureStore::connect("http://127.0.0.1:1", "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &nova_core::ErrorKind::Unavailable);
    }
}
