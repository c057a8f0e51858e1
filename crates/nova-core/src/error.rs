//! One error type for every domain.
//!
//! An [`Error`] carries an [`ErrorKind`] (what the caller did wrong, or what went wrong
//! for them), a message that is safe to show a client, and optionally an internal source
//! that is logged but never sent. The kind alone decides the HTTP status, the gRPC code
//! and the GraphQL `extensions.code`, so every surface answers the same way.

use std::borrow::Cow;
use std::fmt;

use axum_core::response::{IntoResponse, Response};
use serde::Serialize;

/// `Result` with Nova's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure this is, from the caller's point of view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The thing does not exist, or the caller may not know that it exists.
    NotFound,
    /// A request field is missing or malformed; `field` names it.
    InvalidArgument {
        /// The offending field, as the client spelled it (`email`, `cursor`, ...).
        field: String,
    },
    /// No valid credentials.
    Unauthenticated,
    /// Authenticated, but not allowed.
    PermissionDenied,
    /// The request conflicts with current state (duplicate, stale version, ...).
    Conflict,
    /// Too many requests; retry later.
    RateLimited,
    /// A request part is larger than allowed (the message names it); nothing was changed.
    PayloadTooLarge,
    /// A dependency is down; retry later.
    Unavailable,
    /// A bug or an unexpected failure; details are logged, not returned.
    Internal,
}

impl ErrorKind {
    /// The HTTP status code for this kind.
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::InvalidArgument { .. } => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::Conflict => 409,
            ErrorKind::RateLimited => 429,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The gRPC status code for this kind.
    pub fn grpc_code(&self) -> tonic::Code {
        match self {
            ErrorKind::NotFound => tonic::Code::NotFound,
            ErrorKind::InvalidArgument { .. } => tonic::Code::InvalidArgument,
            ErrorKind::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorKind::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorKind::Conflict => tonic::Code::AlreadyExists,
            ErrorKind::RateLimited => tonic::Code::ResourceExhausted,
            ErrorKind::PayloadTooLarge => tonic::Code::OutOfRange,
            ErrorKind::Unavailable => tonic::Code::Unavailable,
            ErrorKind::Internal => tonic::Code::Internal,
        }
    }

    /// The GraphQL `extensions.code` for this kind.
    pub fn graphql_code(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::InvalidArgument { .. } => "BAD_USER_INPUT",
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::PermissionDenied => "FORBIDDEN",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::RateLimited => "RATE_LIMITED",
            ErrorKind::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorKind::Unavailable => "UNAVAILABLE",
            ErrorKind::Internal => "INTERNAL",
        }
    }

    /// The message a client sees when the error has none of its own.
    fn default_message(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidArgument { .. } => "invalid argument",
            ErrorKind::Unauthenticated => "authentication required",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "too many requests",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::Unavailable => "service unavailable",
            ErrorKind::Internal => "internal error",
        }
    }
}

/// Nova's error: a kind, a client-safe message, and an internal source that is never sent.
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a client-safe `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// `InvalidArgument` naming `field`: "`field`: `reason`".
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        let field = field.into();
        let message = format!("{field}: {reason}");
        Self::new(ErrorKind::InvalidArgument { field }, message)
    }

    /// `NotFound` with the generic message (also used for "forbidden" reads, so the two
    /// answers are identical).
    pub fn not_found() -> Self {
        Self::from_kind(ErrorKind::NotFound)
    }

    /// An error of `kind` with its default message.
    pub fn from_kind(kind: ErrorKind) -> Self {
        let message = kind.default_message();
        Self::new(kind, message)
    }

    /// `Internal`: the `source` is logged by the serving layer, the client sees
    /// "internal error".
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::from_kind(ErrorKind::Internal).with_source(source)
    }

    /// `Unavailable` because a dependency failed; `source` is kept for the logs.
    pub fn unavailable(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::from_kind(ErrorKind::Unavailable).with_source(source)
    }

    /// Attaches an internal cause (logged, never returned to a client).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The client-safe message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field named by an `InvalidArgument` error.
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::InvalidArgument { field } => Some(field),
            _ => None,
        }
    }

    /// HTTP status for this error.
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// The JSON body a client receives: `{"error": {"code", "message", "field"?}}`.
    pub fn client_body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorBodyInner {
                code: self.kind.graphql_code(),
                message: &self.message,
                field: self.field(),
            },
        }
    }

    /// Logs the internal cause of server-side errors; client errors are not logged as errors.
    pub fn log_if_server_error(&self) {
        if matches!(self.kind, ErrorKind::Internal | ErrorKind::Unavailable) {
            tracing::error!(kind = ?self.kind, source = ?self.source, "{}", self.message);
        }
    }
}

/// The client-facing JSON shape of an error.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    error: ErrorBodyInner<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorBodyInner<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, " ({source})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// `InvalidArgument` naming `field` when a list input holds more than `max` items, so a
/// caller cannot make one request do unbounded work; checked before any other work.
pub fn cap(field: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(Error::invalid(
            field,
            format!("at most {max} per request, got {len}"),
        ));
    }
    Ok(())
}

/// What a tonic handler returns.
pub type GrpcResult<T> = std::result::Result<tonic::Response<T>, tonic::Status>;

/// A domain result as a gRPC handler's answer (errors become their status, field kept).
pub fn grpc_answer<T>(result: Result<T>) -> GrpcResult<T> {
    result
        .map(tonic::Response::new)
        .map_err(tonic::Status::from)
}

/// A channel to the gRPC server at `endpoint` (e.g. `http://graph-service:9091`), for a
/// domain's gRPC client; `Unavailable` if the address is malformed or nothing answers.
pub async fn grpc_connect(endpoint: impl Into<String>) -> Result<tonic::transport::Channel> {
    let endpoint =
        tonic::transport::Endpoint::from_shared(endpoint.into()).map_err(Error::unavailable)?;
    endpoint.connect().await.map_err(Error::unavailable)
}

impl From<Error> for tonic::Status {
    fn from(err: Error) -> Self {
        err.log_if_server_error();
        let mut status = tonic::Status::new(err.kind.grpc_code(), err.message.clone());
        if let Some(field) = err.field()
            && let Ok(value) = field.parse()
        {
            status.metadata_mut().insert("nova-field", value);
        }
        status
    }
}

impl From<tonic::Status> for Error {
    /// Maps a status received by a gRPC client back into a domain error, so a remote
    /// domain answers exactly like a local one.
    fn from(status: tonic::Status) -> Self {
        let message = status.message().to_owned();
        let kind = match status.code() {
            tonic::Code::NotFound => ErrorKind::NotFound,
            tonic::Code::InvalidArgument => ErrorKind::InvalidArgument {
                field: status
                    .metadata()
                    .get("nova-field")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("request")
                    .to_owned(),
            },
            tonic::Code::Unauthenticated => ErrorKind::Unauthenticated,
            tonic::Code::PermissionDenied => ErrorKind::PermissionDenied,
            tonic::Code::AlreadyExists | tonic::Code::Aborted => ErrorKind::Conflict,
            tonic::Code::ResourceExhausted => ErrorKind::RateLimited,
            tonic::Code::OutOfRange => ErrorKind::PayloadTooLarge,
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        if kind == ErrorKind::Internal {
            return Error::internal(format!("remote: {message}"));
        }
        Error::new(kind, message)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log_if_server_error();
        let status = http::StatusCode::from_u16(self.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.client_body()).unwrap_or_default();
        let mut response = Response::new(axum_core::body::Body::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if self.kind == ErrorKind::RateLimited {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cap_refuses_one_over_and_names_the_field() {
        assert!(cap("ids", 3, 3).is_ok());
        let err = cap("ids", 4, 3).unwrap_err();
        assert_eq!(err.field(), Some("ids"));
        assert!(err.message().contains("at most 3"), "{}", err.message());
    }

    use super::*;

    #[test]
    fn internal_details_never_reach_the_client() {
        let err = Error::internal("connection refused to 10.0.0.5:5432 password=hunter2");
        let body = serde_json::to_string(&err.client_body()).unwrap();
        assert!(!body.contains("hunter2"), "{body}");
        assert!(body.contains("internal error"));
        let status: tonic::Status = err.into();
        assert!(!status.message().contains("hunter2"));
        assert_eq!(status.code(), tonic::Code::Internal);
    }

    #[test]
    fn every_kind_maps_consistently() {
        let kinds = [
            (ErrorKind::NotFound, 404, tonic::Code::NotFound),
            (
                ErrorKind::InvalidArgument { field: "x".into() },
                400,
                tonic::Code::InvalidArgument,
            ),
            (
                ErrorKind::Unauthenticated,
                401,
                tonic::Code::Unauthenticated,
            ),
            (
                ErrorKind::PermissionDenied,
                403,
                tonic::Code::PermissionDenied,
            ),
            (ErrorKind::Conflict, 409, tonic::Code::AlreadyExists),
            (ErrorKind::RateLimited, 429, tonic::Code::ResourceExhausted),
            (ErrorKind::PayloadTooLarge, 413, tonic::Code::OutOfRange),
            (ErrorKind::Unavailable, 503, tonic::Code::Unavailable),
            (ErrorKind::Internal, 500, tonic::Code::Internal),
        ];
        for (kind, http, grpc) in kinds {
            assert_eq!(kind.http_status(), http);
            assert_eq!(kind.grpc_code(), grpc);
            // Round trip through gRPC keeps the kind (what a remote client sees).
            let back = Error::from(tonic::Status::from(Error::from_kind(kind.clone())));
            match kind {
                ErrorKind::InvalidArgument { .. } => {
                    assert!(matches!(back.kind(), ErrorKind::InvalidArgument { .. }))
                }
                other => assert_eq!(back.kind(), &other),
            }
        }
    }

    #[test]
    fn invalid_argument_field_survives_grpc() {
        let err = Error::invalid("email", "is not an email address");
        let back = Error::from(tonic::Status::from(err));
        assert_eq!(back.field(), Some("email"));
        assert_eq!(back.message(), "email: is not an email address");
    }

    #[test]
    fn http_body_names_the_field() {
        let err = Error::invalid("username", "too long");
        let json = serde_json::to_value(err.client_body()).unwrap();
        assert_eq!(json["error"]["field"], "username");
        assert_eq!(json["error"]["code"], "BAD_USER_INPUT");
    }
}
