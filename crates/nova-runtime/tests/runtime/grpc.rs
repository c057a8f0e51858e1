//! gRPC health and reflection over a real server on ephemeral ports.

use nova_runtime::{Server, check_fn};
use tokio::sync::oneshot;
use tonic::transport::Endpoint;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use super::common::{ephemeral_config, spec};

#[tokio::test]
async fn health_serving_reflection_listing_and_metrics() {
    let bound = Server::new(&spec("grpc-test"), &ephemeral_config())
        .readiness_check("postgres", check_fn(|| async { Ok(()) }))
        .bind()
        .await
        .unwrap();
    let grpc_addr = bound.grpc_addr().unwrap();
    let http_addr = bound.http_addr();
    assert_ne!(grpc_addr, http_addr);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));

    let channel = Endpoint::from_shared(format!("http://{grpc_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let mut health = HealthClient::new(channel.clone());
    for name in ["", "grpc-test"] {
        let response = health
            .check(HealthCheckRequest {
                service: name.into(),
            })
            .await
            .unwrap();
        assert_eq!(
            response.into_inner().status(),
            ServingStatus::Serving,
            "{name:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");
    assert!(
        names.contains(&"grpc.reflection.v1.ServerReflection"),
        "{names:?}"
    );

    // The older v1alpha, as grpcio's Python client, Postman and evans ask it: the same list.
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("unexpected v1alpha reflection answer {response:?}");
        };
        let alpha: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(alpha, names, "v1alpha lists what v1 lists");
        assert!(
            alpha.contains(&"grpc.reflection.v1alpha.ServerReflection"),
            "{alpha:?}"
        );
    }

    let metrics = nova_core::telemetry::prometheus().render();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("nova_grpc_requests_total{")
                && l.contains(r#"service="grpc-test""#)
                && l.contains(r#"method="grpc.health.v1.Health/Check""#)
                && l.contains(r#"code="OK""#)),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("nova_grpc_requests_total{")
                && l.contains(r#"service="grpc-test""#)
                && l.contains(r#"code="NOT_FOUND""#))
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn failing_readiness_keeps_grpc_health_not_serving() {
    let bound = Server::new(&spec("grpc-not-ready-test"), &ephemeral_config())
        .readiness_check(
            "postgres",
            check_fn(|| async { Err(nova_core::Error::unavailable("down")) }),
        )
        .bind()
        .await
        .unwrap();
    let grpc_addr = bound.grpc_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    let channel = Endpoint::from_shared(format!("http://{grpc_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "grpc-not-ready-test".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::NotServing);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
