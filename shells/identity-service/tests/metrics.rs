//! The real `identity-service` binary exports the gRPC metrics the alerts and dashboard
//! query (`monitoring/`), which the all-in-one `nova` cannot (it serves no gRPC): after one
//! gRPC call its `/metrics` has every gRPC name of `nova_runtime::metrics_names`, and
//! every `nova_*` name it exports is in `metrics_names::ALL`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nova_identity::IdentityApi;
use nova_identity::grpc::IdentityGrpcClient;
use nova_identity::model::{RegisterRequest, RequestContext};
use nova_runtime::metrics_names;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

#[tokio::test]
async fn exports_the_grpc_metrics_monitoring_queries() {
    let data = tempfile::tempdir().unwrap();
    let (http, grpc) = (free_port(), free_port());
    let _running = Running(
        Command::new(env!("CARGO_BIN_EXE_identity-service"))
            .env_clear()
            .env("NOVA_DATA_DIR", data.path())
            .env("NOVA_LOG", "warn")
            .env("IDENTITY_SERVICE_HTTP_PORT", http.to_string())
            .env("IDENTITY_SERVICE_GRPC_PORT", grpc.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
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
    let register = RegisterRequest {
        email: "metrics@example.com".into(),
        username: "metrics".into(),
        password: "violet-harbour-tram-42".into(),
    };
    client
        .register(register, &RequestContext::new(None, "metrics-test"))
        .await
        .unwrap();

    let wanted = [
        metrics_names::GRPC_REQUESTS_TOTAL,
        metrics_names::GRPC_REQUEST_DURATION_SECONDS,
        metrics_names::HTTP_REQUESTS_TOTAL,
        metrics_names::DB_POOL_CONNECTIONS,
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    let names: BTreeSet<String> = loop {
        let text = get(http, "/metrics").unwrap();
        let names: BTreeSet<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        if wanted.iter().all(|n| names.contains(*n)) || Instant::now() > deadline {
            break names;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for name in wanted {
        assert!(names.contains(name), "/metrics lacks {name}: {names:?}");
    }
    for name in names.iter().filter(|n| n.starts_with("nova_")) {
        assert!(
            metrics_names::ALL.contains(&name.as_str()),
            "identity-service exports {name}, which metrics_names::ALL does not list"
        );
    }
}
