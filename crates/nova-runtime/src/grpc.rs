//! gRPC plumbing: the metrics layer, health (`grpc.health.v1`) and reflection.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use tonic::Code;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service};

use crate::metrics::metrics_names::{GRPC_REQUEST_DURATION_SECONDS, GRPC_REQUESTS_TOTAL};

/// Tower layer recording `nova_grpc_requests_total{service,method,code}` and
/// `nova_grpc_request_duration_seconds{service,method}` around a tonic server.
///
/// The code is read from the `grpc-status` response header. tonic sends failed unary
/// calls as "trailers-only" responses, so their status is in the headers and is counted
/// exactly. A status sent in the trailers after a body (a streaming call failing midway)
/// is not visible here: such a call counts as `OK` when the HTTP status is 200. Latency
/// is measured until the response headers, which for unary calls is the whole call.
#[derive(Debug, Clone, Copy)]
pub struct GrpcMetricsLayer {
    service: &'static str,
}

impl GrpcMetricsLayer {
    /// A layer labelling metrics with `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            service: self.service,
        }
    }
}

/// The service produced by [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    service: &'static str,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcMetrics<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let service = self.service;
        let method = req.uri().path().trim_start_matches('/').to_owned();
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = fut.await;
            let code = match &result {
                Ok(response) => response_code(response),
                Err(_) => Code::Internal,
            };
            // Unknown paths answer UNIMPLEMENTED; fold them into one series.
            let method = if code == Code::Unimplemented {
                "unknown".to_owned()
            } else {
                method
            };
            metrics::counter!(
                GRPC_REQUESTS_TOTAL,
                "service" => service,
                "method" => method.clone(),
                "code" => code_name(code)
            )
            .increment(1);
            metrics::histogram!(
                GRPC_REQUEST_DURATION_SECONDS,
                "service" => service,
                "method" => method
            )
            .record(start.elapsed().as_secs_f64());
            result
        })
    }
}

/// The gRPC code of a response from its `grpc-status` header, else from its HTTP status.
fn response_code<B>(response: &Response<B>) -> Code {
    if let Some(value) = response.headers().get("grpc-status") {
        return value
            .to_str()
            .ok()
            .and_then(|s| s.parse::<i32>().ok())
            .map_or(Code::Unknown, Code::from_i32);
    }
    // HTTP-to-gRPC mapping from the gRPC spec (http-grpc-status-mapping.md).
    match response.status().as_u16() {
        200 => Code::Ok,
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502..=504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The canonical upper-case name of a gRPC code (`OK`, `NOT_FOUND`, ...).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Sets every name in `names` to `status` in the health service.
pub(crate) async fn set_health(reporter: &HealthReporter, names: &[String], status: ServingStatus) {
    for name in names {
        reporter.set_service_status(name, status).await;
    }
}

/// The fully-qualified names reflection always advertises besides the domain services.
pub(crate) const BUILTIN_GRPC_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_come_from_grpc_status_first() {
        let ok = Response::builder().status(200).body(()).unwrap();
        assert_eq!(response_code(&ok), Code::Ok);
        let not_found = Response::builder()
            .status(200)
            .header("grpc-status", "5")
            .body(())
            .unwrap();
        assert_eq!(response_code(&not_found), Code::NotFound);
        let garbage = Response::builder()
            .header("grpc-status", "x")
            .body(())
            .unwrap();
        assert_eq!(response_code(&garbage), Code::Unknown);
        let bad_gateway = Response::builder().status(503).body(()).unwrap();
        assert_eq!(response_code(&bad_gateway), Code::Unavailable);
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    }
}
