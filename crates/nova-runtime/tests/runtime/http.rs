//! HTTP endpoints and middleware, driven in-process with `oneshot`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use nova_runtime::{Server, check_fn};
use tower::ServiceExt;

use super::common::{ephemeral_config, get as get_req, json, spec, text};

#[tokio::test]
async fn health_is_200_with_the_service_name() {
    let app = Server::new(&spec("health-test"), &ephemeral_config()).router();
    let response = app.oneshot(get_req("/api/v1/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json(response).await,
        serde_json::json!({ "status": "ok", "service": "health-test" })
    );
}

#[tokio::test]
async fn ready_is_200_when_every_check_passes() {
    let app = Server::new(&spec("ready-ok-test"), &ephemeral_config())
        .readiness_check("postgres", check_fn(|| async { Ok(()) }))
        .router();
    let response = app.oneshot(get_req("/api/v1/ready")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"][0]["name"], "postgres");
    assert_eq!(body["checks"][0]["status"], "ok");
}

#[tokio::test]
async fn ready_is_503_naming_failed_checks_without_leaking_details() {
    let app = Server::new(&spec("ready-fail-test"), &ephemeral_config())
        .readiness_check("postgres", check_fn(|| async { Ok(()) }))
        .readiness_check(
            "redis",
            check_fn(|| async {
                Err(nova_core::Error::unavailable(
                    "redis://:hunter2@cache:6379 connection refused",
                ))
            }),
        )
        .readiness_timeout(std::time::Duration::from_millis(100))
        .readiness_check(
            "kafka",
            check_fn(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                Ok(())
            }),
        )
        .router();
    let response = app.oneshot(get_req("/api/v1/ready")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body = text(response).await;
    assert!(
        !body.contains("hunter2") && !body.contains("redis://"),
        "{body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["failed"], serde_json::json!(["redis", "kafka"]));
    assert_eq!(body["checks"][2]["status"], "timed_out");
}

#[tokio::test]
async fn metrics_use_the_route_template_and_service_label() {
    let app = Server::new(&spec("metrics-test"), &ephemeral_config())
        .http_routes(Router::new().route("/api/v1/items/{id}", get(|| async { "item" })))
        .router();
    let response = app
        .clone()
        .oneshot(get_req("/api/v1/items/42"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app.oneshot(get_req("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let metrics = text(response).await;
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("nova_http_requests_total{")
                && l.contains(r#"service="metrics-test""#)
                && l.contains(r#"route="/api/v1/items/{id}""#)
        })
        .unwrap_or_else(|| panic!("no request counter in:\n{metrics}"));
    assert!(
        line.contains(r#"method="GET""#) && line.contains(r#"status="200""#),
        "{line}"
    );
    assert!(
        !metrics.contains("/api/v1/items/42"),
        "raw path leaked into labels"
    );
    assert!(metrics.contains("nova_http_request_duration_seconds_bucket{"));
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = Server::new(&spec("request-id-test"), &ephemeral_config()).router();
    let request = http::Request::get("/api/v1/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");

    let response = app.oneshot(get_req("/api/v1/health")).await.unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    uuid::Uuid::parse_str(generated).unwrap();
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = Server::new(&spec("body-limit-test"), &ephemeral_config())
        .http_routes(Router::new().route("/echo", post(|body: Bytes| async move { body })))
        .body_limit(16)
        .router();
    let small = http::Request::post("/echo")
        .body(Body::from(vec![b'a'; 16]))
        .unwrap();
    assert_eq!(app.clone().oneshot(small).await.unwrap().status(), 200);
    let large = http::Request::post("/echo")
        .header("content-length", "32")
        .body(Body::from(vec![b'a'; 32]))
        .unwrap();
    assert_eq!(app.clone().oneshot(large).await.unwrap().status(), 413);
    // Without a Content-Length the limit applies while reading the body.
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 32]))]);
    let chunked = http::Request::post("/echo")
        .body(Body::from_stream(stream))
        .unwrap();
    assert_eq!(app.oneshot(chunked).await.unwrap().status(), 413);
}

#[tokio::test]
async fn streamed_routes_cap_their_own_bodies() {
    // An upload route reads its body as a stream (with its own cap); the server's body
    // limit still holds everywhere else, the streamed route's own prefix included.
    let count = post(|body: Body| async move {
        use futures::StreamExt;
        let mut n = 0;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            n += chunk.unwrap().len();
        }
        n.to_string()
    });
    let app = Server::new(&spec("streamed-test"), &ephemeral_config())
        .http_routes(Router::new().route("/echo", post(|body: Bytes| async move { body })))
        .streamed_routes(Router::new().route("/upload", count))
        .body_limit(16)
        .router();
    let big = || Body::from(vec![b'a'; 4096]);
    let upload = http::Request::post("/upload")
        .header("content-length", "4096")
        .body(big())
        .unwrap();
    let response = app.clone().oneshot(upload).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(text(response).await, "4096");
    let echo = http::Request::post("/echo").body(big()).unwrap();
    assert_eq!(app.oneshot(echo).await.unwrap().status(), 413);
}

#[tokio::test]
async fn panics_become_500_json() {
    let app = Server::new(&spec("panic-test"), &ephemeral_config())
        .http_routes(Router::new().route(
            "/boom",
            get(|| async {
                if true {
                    panic!("secret internal detail");
                }
                "unreachable"
            }),
        ))
        .router();
    let response = app.oneshot(get_req("/boom")).await.unwrap();
    assert_eq!(response.status(), 500);
    let body = text(response).await;
    assert!(!body.contains("secret"), "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "INTERNAL");
}

#[tokio::test]
async fn unknown_paths_are_404_under_one_route_label() {
    let app = Server::new(&spec("not-found-test"), &ephemeral_config()).router();
    let response = app.clone().oneshot(get_req("/wp-admin/xyz")).await.unwrap();
    assert_eq!(response.status(), 404);
    let metrics = text(app.oneshot(get_req("/metrics")).await.unwrap()).await;
    assert!(!metrics.contains("wp-admin"));
    assert!(
        metrics.lines().any(
            |l| l.contains(r#"service="not-found-test""#) && l.contains(r#"route="unmatched""#)
        )
    );
}

/// A request from `peer` (as `into_make_service_with_connect_info` records it) with an
/// `X-Forwarded-For`.
fn from_peer(peer: &str, forwarded: &str) -> http::Request<Body> {
    let mut request = http::Request::get("/who")
        .header("x-forwarded-for", forwarded)
        .body(Body::empty())
        .unwrap();
    let peer: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    request
}

fn who_router(trusted: &str) -> Router {
    let config =
        nova_core::config::NovaConfig::from_source(&nova_core::config::ConfigSource::from_pairs([
            ("NOVA_TRUSTED_PROXIES", trusted),
        ]))
        .unwrap();
    let who = get(|request: axum::extract::Request| async move {
        nova_core::client::ClientAddr::from_extensions(request.extensions())
            .map_or_else(|| "none".to_owned(), |c| c.bucket())
    });
    Server::new(&spec("client-test"), &config)
        .http_routes(Router::new().route("/who", who))
        .router()
}

#[tokio::test]
async fn every_route_gets_the_client_address_by_the_trusted_proxy_rule() {
    // No trusted proxy: X-Forwarded-For is the client's own claim.
    let app = who_router("");
    let response = app
        .oneshot(from_peer("127.0.0.1:4000", "203.0.113.7"))
        .await
        .unwrap();
    assert_eq!(text(response).await, "127.0.0.1");
    // Behind a trusted proxy: the right-most hop that is not one.
    let app = who_router("127.0.0.1/32, 10.0.0.0/8");
    let response = app
        .clone()
        .oneshot(from_peer(
            "127.0.0.1:4000",
            "6.6.6.6, 203.0.113.7, 10.0.0.9",
        ))
        .await
        .unwrap();
    assert_eq!(text(response).await, "203.0.113.7");
    // An untrusted peer: its own address, IPv6 by /64.
    let response = app
        .clone()
        .oneshot(from_peer("[2001:db8:5:6:7::1]:4000", "203.0.113.7"))
        .await
        .unwrap();
    assert_eq!(text(response).await, "2001:db8:5:6::/64");
    // Unknown peer (no connect info): none.
    let response = app.oneshot(get_req("/who")).await.unwrap();
    assert_eq!(text(response).await, "none");
}

#[tokio::test]
async fn a_bad_rate_variable_stops_the_server_naming_it() {
    let config =
        nova_core::config::NovaConfig::from_source(&nova_core::config::ConfigSource::from_pairs([
            ("NOVA_HTTP_PORT", "0"),
            ("GATEWAY_RATE_PER_IP", "zero"),
        ]))
        .unwrap();
    let error = Server::new(&spec("limits-test"), &config)
        .bind()
        .await
        .err()
        .unwrap();
    assert!(error.to_string().contains("GATEWAY_RATE_PER_IP"), "{error}");
}
