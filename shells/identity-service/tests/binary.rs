//! The real `identity-service` binary: gRPC and HTTP on the configured ports, and a bad
//! setting stops it with one line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, free_port};

use nova_identity::IdentityApi;
use nova_identity::grpc::IdentityGrpcClient;
use nova_identity::model::{LoginOutcome, LoginRequest, RegisterRequest, RequestContext};

fn command(data: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_identity-service"));
    command
        .env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_LOG", "warn");
    command
}

#[tokio::test]
async fn serves_the_identity_api_over_grpc() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let child = command(data.path())
        .env("IDENTITY_SERVICE_HTTP_PORT", http.to_string())
        .env("IDENTITY_SERVICE_GRPC_PORT", grpc.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _running = Running(child);

    let endpoint = format!("http://127.0.0.1:{grpc}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = loop {
        match IdentityGrpcClient::connect(endpoint.clone()).await {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("identity-service did not come up: {e}"),
        }
    };
    let ctx = RequestContext::new(None, "binary-test");
    let register = RegisterRequest {
        email: "dora@example.com".into(),
        username: "dora".into(),
        password: "violet-harbour-tram-42".into(),
    };
    let account = client.register(register, &ctx).await.unwrap();
    let login = LoginRequest {
        identifier: "dora@example.com".into(),
        password: "violet-harbour-tram-42".into(),
        device_token: None,
        code: None,
    };
    let LoginOutcome::Authenticated(pair) = client.login(login, &ctx).await.unwrap() else {
        panic!("no second factor was enrolled");
    };
    let principal = client
        .verify_access_token(&pair.access_token)
        .await
        .unwrap();
    assert_eq!(client.account(&principal).await.unwrap(), account);
}

#[test]
fn a_bad_port_stops_it_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let output = command(data.path())
        .env("IDENTITY_SERVICE_GRPC_PORT", "nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("identity-service: "), "{stderr}");
    assert!(stderr.contains("IDENTITY_SERVICE_GRPC_PORT"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
