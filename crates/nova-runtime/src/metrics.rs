//! Metric names shared by every shell and by `monitoring/`, plus the recording helpers.
//!
//! Every metric carries a `service` label. HTTP metrics use the matched route template
//! (`/api/v1/users/{id}`), never the raw path, to keep label cardinality bounded.

use std::sync::Once;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The names of Nova's shared metrics (generators of `monitoring/` read these).
pub mod metrics_names {
    /// Counter `{service, method, route, status}`: HTTP requests answered.
    pub const HTTP_REQUESTS_TOTAL: &str = "nova_http_requests_total";
    /// Histogram `{service, method, route}`: HTTP request latency in seconds.
    pub const HTTP_REQUEST_DURATION_SECONDS: &str = "nova_http_request_duration_seconds";
    /// Counter `{service, method, code}`: gRPC calls answered (`code` as `OK`, `NOT_FOUND`, ...).
    pub const GRPC_REQUESTS_TOTAL: &str = "nova_grpc_requests_total";
    /// Histogram `{service, method}`: gRPC call latency in seconds (until response headers).
    pub const GRPC_REQUEST_DURATION_SECONDS: &str = "nova_grpc_request_duration_seconds";
    /// Gauge `{service, state="idle"|"active"}`: database pool connections.
    pub const DB_POOL_CONNECTIONS: &str = "nova_db_pool_connections";
    /// Counter `{service, event_type}`: domain events published to the bus.
    pub const EVENTS_PUBLISHED_TOTAL: &str = "nova_events_published_total";
    /// Gauge `{service, consumer_group, topic}`: events not yet processed by a consumer.
    pub const EVENTS_CONSUMER_LAG: &str = "nova_events_consumer_lag";

    /// Every shared metric name.
    pub const ALL: &[&str] = &[
        HTTP_REQUESTS_TOTAL,
        HTTP_REQUEST_DURATION_SECONDS,
        GRPC_REQUESTS_TOTAL,
        GRPC_REQUEST_DURATION_SECONDS,
        DB_POOL_CONNECTIONS,
        EVENTS_PUBLISHED_TOTAL,
        EVENTS_CONSUMER_LAG,
    ];
}

use metrics_names::*;

/// Registers HELP texts for the shared metrics with the installed recorder (once).
pub fn describe_metrics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        metrics::describe_counter!(HTTP_REQUESTS_TOTAL, "HTTP requests answered");
        metrics::describe_histogram!(
            HTTP_REQUEST_DURATION_SECONDS,
            metrics::Unit::Seconds,
            "HTTP request latency"
        );
        metrics::describe_counter!(GRPC_REQUESTS_TOTAL, "gRPC calls answered");
        metrics::describe_histogram!(
            GRPC_REQUEST_DURATION_SECONDS,
            metrics::Unit::Seconds,
            "gRPC call latency until response headers"
        );
        metrics::describe_gauge!(DB_POOL_CONNECTIONS, "Database pool connections by state");
        metrics::describe_counter!(EVENTS_PUBLISHED_TOTAL, "Domain events published");
        metrics::describe_gauge!(
            EVENTS_CONSUMER_LAG,
            "Events not yet processed by a consumer"
        );
    });
}

/// Records a database pool's size: `nova_db_pool_connections{service, state}` with
/// `state="idle"` = `idle` and `state="active"` = `size - idle`. Call it periodically
/// (e.g. every 15 s) from the crate that owns the pool.
pub fn record_db_pool(service: &str, size: u32, idle: u32) {
    let active = size.saturating_sub(idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service.to_owned(), "state" => "idle")
        .set(f64::from(idle));
    metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service.to_owned(), "state" => "active")
        .set(f64::from(active));
}

/// The route label of a request: its matched template, or `unmatched` for 404s (so
/// scanners cannot create one series per probed path).
fn route_label(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

/// axum middleware recording the HTTP request counter and latency histogram.
pub(crate) async fn track_http(
    State(service): State<&'static str>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = route_label(&req);
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "service" => service,
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "service" => service,
        "method" => method,
        "route" => route
    )
    .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed() {
        let mut names = metrics_names::ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), metrics_names::ALL.len());
        assert!(names.iter().all(|n| n.starts_with("nova_")));
    }

    #[test]
    fn db_pool_gauges_render() {
        let handle = nova_core::telemetry::prometheus();
        record_db_pool("pool-test-service", 10, 3);
        let text = handle.render();
        assert!(
            text.contains(
                r#"nova_db_pool_connections{service="pool-test-service",state="active"} 7"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"state="idle"} 3"#), "{text}");
    }
}
