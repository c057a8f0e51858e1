//! The real `ranking-service` binary: it starts on an empty data directory, serves
//! trending over gRPC and REST and ranking over gRPC, writes its trending snapshot on
//! SIGTERM and restores it when started again on the same data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use nova_core::{PostId, UserId};
use nova_ranking::grpc::RankingGrpcClient;
use nova_ranking::{Candidate, PostKind, RankingApi, Source, Viewer};
use nova_testkit::process::{Running, free_port, get, wait_for_http};
use nova_trending::grpc::TrendingGrpcClient;
use nova_trending::{Engagement, EngagementKind, EntityKey, TrendingApi};

/// The stand-in identity whose keys the service verifies callers with.
static AUTHORITY: std::sync::LazyLock<nova_identity::fixtures::TestAuthority> =
    std::sync::LazyLock::new(|| {
        nova_identity::fixtures::TestAuthority::start("ranking-test-secret-0123456789abcdef")
            .unwrap()
    });

/// A channel to `endpoint` carrying feed-service's service token.
async fn as_feed_service(endpoint: &str) -> nova_core::channel::ServiceChannel {
    let channel = nova_core::error::grpc_connect(endpoint.to_owned())
        .await
        .unwrap();
    let token = AUTHORITY.service_token("feed-service").unwrap();
    nova_core::channel::ServiceChannel::new(
        channel,
        std::sync::Arc::new(nova_identity::fixtures::StaticToken(token.into())),
    )
}

fn start(data: &Path, http: u16, grpc: u16) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_ranking-service"))
        .env_clear()
        .env("IDENTITY_JWKS_URL", &AUTHORITY.jwks_url)
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_HTTP_PORT", http.to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let running = Running(child);
    let (status, body) = wait_for_http(http, "/api/v1/health", "ranking-service");
    assert_eq!(status, 200, "{body}");
    running
}

/// SIGTERM, then the exit status (an orderly shutdown exits 0).
fn terminate(mut running: Running) -> std::process::ExitStatus {
    let pid = running.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit 30 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn top_entities(http: u16) -> Vec<String> {
    let (status, body) = get(http, "/api/v1/trending?window=24h&limit=20").unwrap();
    assert_eq!(status, 200, "{body}");
    let mut out = Vec::new();
    for part in body.split("\"entity\":\"").skip(1) {
        out.push(part.split('"').next().unwrap().to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_trending_and_ranking_and_keeps_trending_across_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let running = start(data.path(), http, grpc);
    let (status, body) = get(http, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    assert!(top_entities(http).is_empty());
    let (status, _) = get(http, "/api/v1/trending?scope=nowhere").unwrap();
    assert_eq!(status, 400);

    // Trending over gRPC, read back over REST.
    let endpoint = format!("http://127.0.0.1:{grpc}");
    // Ingest is internal: refused without a service identity, served with one.
    let anonymous = TrendingGrpcClient::connect(endpoint.clone()).await.unwrap();
    let trending = TrendingGrpcClient::from_channel(as_feed_service(&endpoint).await);
    let now = Utc::now();
    // An entity is listed once 5 distinct accounts engaged with it: "quiet", liked by 4,
    // must stay off the list however the others rank.
    let mut events = Vec::new();
    let mut account = 0u128;
    for (tag, likes) in [("storm", 8), ("calm", 6), ("rust", 5), ("quiet", 4)] {
        for _ in 0..likes {
            account += 1;
            events.push(Engagement {
                entity: EntityKey::hashtag(tag),
                account,
                kind: EngagementKind::Like,
                at: now - chrono::Duration::minutes(1),
                lang: None,
                region: None,
            });
        }
    }
    let refused = anonymous.ingest(&events).await.unwrap_err();
    assert_eq!(refused.kind(), &nova_core::ErrorKind::Unauthenticated);
    assert_eq!(trending.ingest(&events).await.unwrap(), events.len());
    let before = top_entities(http);
    let expected: Vec<String> = ["storm", "calm", "rust"]
        .iter()
        .map(|t| EntityKey::hashtag(t).to_string())
        .collect();
    assert_eq!(before, expected);

    // Ranking over gRPC with the default model.
    let ranking = RankingGrpcClient::from_channel(as_feed_service(&endpoint).await);
    let author = UserId::new();
    let candidate = |hours: i64| Candidate {
        post_id: PostId::new(),
        author_id: author,
        created_at: now - chrono::Duration::hours(hours),
        kind: PostKind::default(),
        lang: None,
        author_followers: 10,
        likes: 1,
        replies: 0,
        velocity: 0.0,
        source: Source::OutOfNetwork,
    };
    let (old, fresh) = (candidate(30), candidate(0));
    let viewer = Viewer::default();
    let ranked = ranking
        .rank(&viewer, &[old.clone(), fresh.clone()], 10)
        .await
        .unwrap();
    assert_eq!(ranked.len(), 2);
    assert_eq!(
        ranked[0].post_id, fresh.post_id,
        "the default model prefers fresh posts"
    );
    let why = ranking.explain(&viewer, &fresh).await.unwrap();
    assert!(!why.contributions.is_empty());

    // SIGTERM writes the last snapshot; a new process on the same data restores it.
    assert!(terminate(running).success());
    let http = free_port();
    let _running = start(data.path(), http, free_port());
    assert_eq!(top_entities(http), before);
}

#[test]
fn a_bad_snapshot_interval_stops_it_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ranking-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_GRPC_PORT", free_port().to_string())
        .env("TRENDING_SNAPSHOT_INTERVAL_SECS", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("ranking-service: "), "{stderr}");
    assert!(
        stderr.contains("TRENDING_SNAPSHOT_INTERVAL_SECS"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
