//! Graceful shutdown over real TCP listeners.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use nova_runtime::Server;
use tokio::sync::{mpsc, oneshot};

use super::common::{ephemeral_config, raw_get, spec};

/// A router whose `/slow` handler reports that it started, then sleeps for `delay`.
fn slow_router(delay: Duration) -> (Router, mpsc::Receiver<()>) {
    let (started_tx, started_rx) = mpsc::channel(1);
    let router = Router::new().route(
        "/slow",
        get(move || {
            let started = started_tx.clone();
            async move {
                let _ = started.send(()).await;
                tokio::time::sleep(delay).await;
                "done"
            }
        }),
    );
    (router, started_rx)
}

#[tokio::test]
async fn in_flight_requests_drain_and_new_connections_are_refused() {
    let (router, mut started) = slow_router(Duration::from_millis(2500));
    let bound = Server::new(&spec("drain-test"), &ephemeral_config())
        .http_routes(router)
        .shutdown_grace(Duration::from_secs(10))
        .bind()
        .await
        .unwrap();
    let (http_addr, grpc_addr) = (bound.http_addr(), bound.grpc_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));

    let in_flight = tokio::spawn(raw_get(http_addr, "/slow"));
    started.recv().await.unwrap();
    stop.send(()).unwrap();

    // The listeners close promptly, while the slow request is still running.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let http_closed = tokio::net::TcpStream::connect(http_addr).await.is_err();
        let grpc_closed = tokio::net::TcpStream::connect(grpc_addr).await.is_err();
        if http_closed && grpc_closed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "listeners still accept after shutdown"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !in_flight.is_finished(),
        "slow request ended before the drain was observed"
    );

    let response = in_flight.await.unwrap().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("done"), "{response}");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn requests_outliving_the_grace_period_are_abandoned() {
    let (router, mut started) = slow_router(Duration::from_secs(60));
    let bound = Server::new(&spec("grace-test"), &ephemeral_config())
        .http_routes(router)
        .shutdown_grace(Duration::from_millis(200))
        .bind()
        .await
        .unwrap();
    let http_addr = bound.http_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    let _in_flight = tokio::spawn(raw_get(http_addr, "/slow"));
    started.recv().await.unwrap();
    let begun = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server did not stop after the grace period")
        .unwrap()
        .unwrap();
    assert!(begun.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn ready_turns_503_during_the_shutdown_delay() {
    let bound = Server::new(&spec("ready-shutdown-test"), &ephemeral_config())
        .shutdown_delay(Duration::from_millis(1500))
        .bind()
        .await
        .unwrap();
    let http_addr = bound.http_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    let ready = raw_get(http_addr, "/api/v1/ready").await.unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Still accepting during the delay, but no longer ready; liveness is unaffected.
    let ready = raw_get(http_addr, "/api/v1/ready").await.unwrap();
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains(r#""status":"shutting_down""#), "{ready}");
    let health = raw_get(http_addr, "/api/v1/health").await.unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(raw_get(http_addr, "/api/v1/health").await.is_err());
}

#[tokio::test]
async fn grpc_health_turns_not_serving_during_the_shutdown_delay() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

    let bound = Server::new(&spec("grpc-shutdown-test"), &ephemeral_config())
        .shutdown_delay(Duration::from_millis(1500))
        .bind()
        .await
        .unwrap();
    let grpc_addr = bound.grpc_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let check = HealthCheckRequest {
        service: "grpc-shutdown-test".into(),
    };
    let status = health
        .check(check.clone())
        .await
        .unwrap()
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = health.check(check).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::NotServing);
    drop(health);
    server.await.unwrap().unwrap();
}
