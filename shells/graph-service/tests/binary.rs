//! The real `graph-service` binary: it starts on an empty data directory with the ports it is
//! given, answers health and readiness, and serves its routes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, Service, free_port, get};

#[test]
fn starts_on_an_empty_data_dir_and_answers_health() {
    let service = Service::start(env!("CARGO_BIN_EXE_graph-service"), "graph-service", &[]);
    let (http, data) = (service.http, &service.data);
    assert!(
        data.path().join("nova.db").exists(),
        "SQLite lives in NOVA_DATA_DIR"
    );
    let (status, _) = get(http, "/api/v1/social/requests").unwrap();
    assert_eq!(status, 404, "graph is internal: no REST routes");
}

#[tokio::test]
async fn serves_the_graph_api_over_grpc_to_services_only() {
    use std::sync::Arc;

    use nova_core::ErrorKind;
    use nova_core::channel::ServiceChannel;
    use nova_graph::GraphApi;
    use nova_graph::grpc::GraphGrpcClient;
    use nova_identity::fixtures::{StaticToken, TestAuthority};

    let authority = TestAuthority::start("graph-test-service-secret-0123456789").unwrap();
    let data = tempfile::tempdir().unwrap();
    let grpc = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_graph-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", free_port().to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("IDENTITY_JWKS_URL", &authority.jwks_url)
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let endpoint = format!("http://127.0.0.1:{grpc}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let channel = loop {
        match nova_core::error::grpc_connect(endpoint.clone()).await {
            Ok(channel) => break channel,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("graph-service did not come up: {e}"),
        }
    };
    let (a, b) = (nova_core::UserId::new(), nova_core::UserId::new());

    // No service identity, or a user's token in its place: refused, nothing changes.
    let anonymous = GraphGrpcClient::from_channel(channel.clone());
    let err = anonymous.follow(a, b).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{err:?}");
    let user_token = authority
        .user_token(&nova_core::Principal::user(a, nova_core::SessionId::new()))
        .unwrap();
    let as_user = GraphGrpcClient::from_channel(ServiceChannel::new(
        channel.clone(),
        Arc::new(StaticToken(user_token.into())),
    ));
    let err = as_user.follow(a, b).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated, "{err:?}");

    // With a service token identity signed: served.
    let token = authority.service_token("social-service").unwrap();
    let graph = GraphGrpcClient::from_channel(ServiceChannel::new(
        channel,
        Arc::new(StaticToken(token.into())),
    ));
    assert_eq!(graph.counts(&[b]).await.unwrap()[0].followers, 0);
    assert!(graph.follow(a, b).await.unwrap());
    assert_eq!(graph.counts(&[b]).await.unwrap()[0].followers, 1);
    let page = graph.followers(b, 0, None).await.unwrap();
    assert_eq!(page.items, [a]);
    // Cursors are signed with the key kept in the data directory.
    assert!(data.path().join("cursor.key").exists());
}
