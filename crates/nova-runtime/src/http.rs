//! The HTTP side: built-in endpoints and the middleware stack every shell shares.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use nova_core::client::{ClientAddr, TrustedProxies};
use nova_kv::edge::EdgeGuard;
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::metrics::track_http;
use crate::readiness::{CheckStatus, Checks, all_ok};

/// Liveness path.
pub const HEALTH_PATH: &str = "/api/v1/health";
/// Readiness path.
pub const READY_PATH: &str = "/api/v1/ready";
/// Prometheus scrape path.
pub const METRICS_PATH: &str = "/metrics";
/// Default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// State behind the built-in endpoints.
pub(crate) struct HttpState {
    pub(crate) service: &'static str,
    pub(crate) checks: Checks,
    pub(crate) shutting_down: AtomicBool,
}

/// What every request is handed in its extensions: its client (one rule for every door)
/// and the edge rate limits.
#[derive(Clone)]
pub(crate) struct EdgeState {
    pub(crate) trusted: Arc<TrustedProxies>,
    pub(crate) guard: EdgeGuard,
}

/// Puts the request's [`ClientAddr`] (when the peer is known: served with connect info)
/// and the [`EdgeGuard`] into its extensions.
async fn edge(State(edge): State<EdgeState>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = ClientAddr::resolve(peer, request.headers(), &edge.trusted);
        request.extensions_mut().insert(client);
    }
    request.extensions_mut().insert(edge.guard);
    next.run(request).await
}

/// The full HTTP application: built-in endpoints, the domain's routes, and middleware
/// (outermost first): request id, tracing span, request id propagation, metrics, panic
/// catcher, body limit, client address and edge rate limits. The body limit applies to
/// every route but the `streamed` ones (uploads that cap their own streams).
pub(crate) fn app(
    state: Arc<HttpState>,
    edge_state: EdgeState,
    domain: Router,
    streamed: Router,
    body_limit: usize,
) -> Router {
    let service = state.service;
    Router::new()
        .route(HEALTH_PATH, get(health))
        .route(READY_PATH, get(ready))
        .route(METRICS_PATH, get(metrics_text))
        .with_state(state)
        .merge(domain)
        .layer(RequestBodyLimitLayer::new(body_limit))
        .merge(streamed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(move |req: &Request| {
                        let route = req
                            .extensions()
                            .get::<MatchedPath>()
                            .map_or("unmatched", MatchedPath::as_str);
                        let request_id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "http_request",
                            service,
                            method = %req.method(),
                            route,
                            request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn_with_state(service, track_http))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(DefaultBodyLimit::max(body_limit))
                .layer(axum::middleware::from_fn_with_state(edge_state, edge)),
        )
}

/// `GET /api/v1/health`: the process is alive.
async fn health(State(state): State<Arc<HttpState>>) -> Response {
    axum::Json(json!({ "status": "ok", "service": state.service })).into_response()
}

/// `GET /api/v1/ready`: every readiness check passes (503 listing the failed ones).
async fn ready(State(state): State<Arc<HttpState>>) -> Response {
    let shutting_down = || {
        let body = json!({ "status": "shutting_down", "service": state.service });
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    };
    if state.shutting_down.load(Ordering::SeqCst) {
        return shutting_down();
    }
    let outcomes = state.checks.run().await;
    // Shutdown may have started while the checks ran.
    if state.shutting_down.load(Ordering::SeqCst) {
        return shutting_down();
    }
    if all_ok(&outcomes) {
        let body = json!({ "status": "ready", "service": state.service, "checks": outcomes });
        return axum::Json(body).into_response();
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status != CheckStatus::Ok)
        .map(|o| o.name.as_str())
        .collect();
    let body = json!({
        "status": "not_ready",
        "service": state.service,
        "failed": failed,
        "checks": outcomes,
    });
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text exposition.
async fn metrics_text() -> Response {
    let text = nova_core::telemetry::prometheus().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The 500 answered when a handler panics; the panic message is logged, not returned.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> http::Response<Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    let body = json!({ "error": { "code": "INTERNAL", "message": "internal error" } });
    let mut response = http::Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
