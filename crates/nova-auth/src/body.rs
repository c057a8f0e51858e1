//! [`Body`]: a JSON request body whose problems become `InvalidArgument` naming the field.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use nova_core::Error;
use serde::de::DeserializeOwned;

/// A JSON body whose problems become `InvalidArgument` naming the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> Error {
    let text = rejection.body_text();
    // axum reports serde's path: "...target type: password: invalid type: ..." or
    // "...target type: missing field `email` at line 1 column 2".
    let detail = text
        .split_once("target type: ")
        .map_or(text.as_str(), |(_, d)| d);
    let is_path = |p: &str| {
        !p.is_empty()
            && p != "."
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    };
    let missing = detail
        .split_once("missing field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(f, _)| f);
    let field = match (missing, detail.split_once(": ")) {
        (Some(field), _) => field,
        (None, Some((path, _))) if is_path(path) => path,
        _ => "body",
    };
    let reason = match rejection {
        JsonRejection::MissingJsonContentType(_) => "must be sent as application/json",
        JsonRejection::JsonSyntaxError(_) => "is not valid JSON",
        _ if missing.is_some() => "is required",
        _ if detail.contains("invalid type") => "has the wrong type",
        _ => "is invalid",
    };
    Error::invalid(field, reason)
}
