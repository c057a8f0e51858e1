//! Ranking over the wire: a tonic server on 127.0.0.1 serves the in-process service and
//! [`RankingGrpcClient`] drives it through [`RankingApi`], with the same answers; bad
//! input is InvalidArgument naming the field. Also the setup's model loading by file type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use nova_core::{ErrorKind, ManualClock, PostId, SharedClock, Timestamp, UserId};
use nova_proto::nova::ranking::v1 as pb;
use nova_ranking::grpc::{RankingGrpcClient, RankingGrpcServer};
use nova_ranking::service::{MAX_CANDIDATES, MAX_VIEWER_SET};
use nova_ranking::setup::{DEFAULT_MODEL, load_model};
use nova_ranking::{
    Candidate, Interaction, LinearModel, PostKind, Preferences, Ranker, RankingApi, RankingService,
    RerankConfig, Source, Viewer, features::FEATURES,
};
use tonic::transport::Endpoint;
use tonic::transport::server::TcpIncoming;

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_750_000_000 + secs, 0).unwrap()
}

fn post(author: UserId, age_secs: i64, kind: PostKind, source: Source) -> Candidate {
    Candidate {
        post_id: PostId::new(),
        author_id: author,
        created_at: t(100_000 - age_secs),
        kind,
        lang: Some("pt".into()),
        author_followers: 120,
        likes: 4,
        replies: 1,
        velocity: 2.5,
        source,
    }
}

#[tokio::test]
async fn ranking_over_the_wire_matches_the_service() {
    let test = nova_testkit::sqlite().await;
    let clock: SharedClock = Arc::new(ManualClock::new(t(100_000)));
    let ranker = Ranker::new(
        Arc::new(LinearModel::from_toml(DEFAULT_MODEL, &FEATURES).unwrap()),
        RerankConfig::default(),
    )
    .unwrap();
    let service = Arc::new(RankingService::new(
        ranker,
        nova_ranking::store::store(test.db()),
        clock,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(RankingGrpcServer::new(service.clone()).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let channel = Endpoint::from_shared(endpoint).unwrap().connect_lazy();
    let client = RankingGrpcClient::from_channel(channel.clone());

    let (friend, stranger, pest) = (UserId::new(), UserId::new(), UserId::new());
    let mut candidates = Vec::new();
    for i in 0..6 {
        candidates.push(post(
            friend,
            600 * i,
            PostKind::default(),
            Source::InNetwork,
        ));
        let repost = PostKind {
            repost: true,
            ..PostKind::default()
        };
        candidates.push(post(stranger, 300 * i, repost, Source::OutOfNetwork));
        candidates.push(post(
            pest,
            60 * i,
            PostKind::default(),
            Source::OutOfNetwork,
        ));
    }
    let viewer = Viewer {
        user_id: UserId::new(),
        langs: vec!["pt".into()],
        follows: HashSet::from([friend]),
        followers: HashSet::from([friend]),
        seen: HashSet::from([candidates[0].post_id]),
        preferences: Preferences {
            reposts: 0.5,
            in_network: 1.5,
            ..Preferences::default()
        },
    };
    // Feature-store writes go through the client too.
    client
        .record(viewer.user_id, friend, Interaction::Positive)
        .await
        .unwrap();
    for _ in 0..2 {
        client
            .record(viewer.user_id, pest, Interaction::ShowLess)
            .await
            .unwrap();
    }

    let remote = client.rank(&viewer, &candidates, 10).await.unwrap();
    let local = service.rank(&viewer, &candidates, 10).await.unwrap();
    assert_eq!(remote, local);
    assert_eq!(remote.len(), 10);
    assert!(
        remote.iter().all(|r| r.post_id != candidates[0].post_id),
        "seen is suppressed"
    );
    assert_eq!(remote[0].author_id, friend);
    let why = client.explain(&viewer, &candidates[2]).await.unwrap();
    assert_eq!(why, service.explain(&viewer, &candidates[2]).await.unwrap());
    assert_eq!(why.contributions[0].feature, "negative_feedback");
    assert!(
        client
            .rank(&viewer, &candidates, 0)
            .await
            .unwrap()
            .is_empty()
    );

    // Bad input names the field.
    let mut raw = pb::ranking_service_client::RankingServiceClient::new(channel);
    let bad = pb::RankRequest {
        viewer: Some(pb::Viewer {
            user_id: "nope".into(),
            ..Default::default()
        }),
        candidates: vec![],
        limit: 1,
    };
    let status = raw.rank(bad).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(
        status.message().contains("viewer.user_id"),
        "{}",
        status.message()
    );
    let no_source = pb::RankRequest {
        viewer: Some(pb::Viewer {
            user_id: UserId::new().to_string(),
            ..Default::default()
        }),
        candidates: vec![pb::Candidate {
            post_id: PostId::new().to_string(),
            author_id: UserId::new().to_string(),
            created_at: Some(prost_types::Timestamp {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        }],
        limit: 1,
    };
    let status = raw.rank(no_source).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let err = nova_core::Error::from(status);
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));

    // List inputs: at the cap they work, one over is refused naming the field.
    let many: Vec<Candidate> = (0..MAX_CANDIDATES)
        .map(|i| post(friend, i as i64, PostKind::default(), Source::InNetwork))
        .collect();
    assert_eq!(client.rank(&viewer, &many, 5).await.unwrap().len(), 5);
    let big_viewer = Viewer {
        follows: (0..MAX_VIEWER_SET).map(|_| UserId::new()).collect(),
        ..viewer.clone()
    };
    client.rank(&big_viewer, &candidates, 5).await.unwrap();
    let over_candidates = pb::RankRequest {
        viewer: Some(pb::Viewer {
            user_id: UserId::new().to_string(),
            ..Default::default()
        }),
        candidates: vec![pb::Candidate::default(); MAX_CANDIDATES + 1],
        limit: 1,
    };
    let over_seen = pb::RankRequest {
        viewer: Some(pb::Viewer {
            user_id: UserId::new().to_string(),
            seen: vec![PostId::new().to_string(); MAX_VIEWER_SET + 1],
            ..Default::default()
        }),
        candidates: vec![],
        limit: 1,
    };
    for (request, field) in [(over_candidates, "candidates"), (over_seen, "viewer.seen")] {
        let status = raw.rank(request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
        assert_eq!(
            status
                .metadata()
                .get("nova-field")
                .unwrap()
                .to_str()
                .unwrap(),
            field
        );
    }
}

#[test]
fn models_load_by_file_type() {
    let dir = std::env::temp_dir().join(format!("nova-ranking-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let linear = dir.join("m.toml");
    std::fs::write(&linear, DEFAULT_MODEL).unwrap();
    assert_eq!(load_model(&linear).unwrap().n_features(), FEATURES.len());
    let lgbm = dir.join("m.txt");
    std::fs::write(&lgbm, include_str!("data/lgbm_model.txt")).unwrap();
    assert_eq!(load_model(&lgbm).unwrap().n_features(), 64);
    let xgb = dir.join("m.json");
    std::fs::write(&xgb, include_str!("data/xgb_model.json")).unwrap();
    assert_eq!(load_model(&xgb).unwrap().n_features(), 64);
    let other = dir.join("m.onnx");
    std::fs::write(&other, "x").unwrap();
    assert!(
        load_model(&other)
            .err()
            .unwrap()
            .to_string()
            .contains(".json")
    );
    assert!(load_model(&dir.join("missing.txt")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
