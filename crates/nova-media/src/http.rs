//! REST under `/api/v1/media` and the delivery of locally stored files, the caller
//! authenticated by an [`Authenticator`] from `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/media` | the file as the raw body (any `Content-Type`: the type comes from its bytes); 201 + the media |
//! | GET | `/api/v1/media/{id}` | the media, variants with signed URLs |
//! | PATCH | `/api/v1/media/{id}` | `{"alt_text"?, "focus"?: {"x", "y"}}` |
//! | DELETE | `/api/v1/media/{id}` | 204 |
//! | GET, HEAD | `/media/files/{key}?exp&sig` | a variant (local disk only): signed URL, range requests |
//!
//! The upload route reads its body as a stream with its own per-kind caps, so it is
//! mounted apart ([`upload_router`]) from the routes under the server's body limit
//! ([`router`]). Bad input is a 400 naming the field; what the caller may not see is a
//! 404 like a missing one; a tampered or expired file URL is a 403.

use std::sync::Arc;

use axum::body::Body as RawBody;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::{Authenticated, Authenticator, Body};
use nova_core::{Error, ErrorKind};
use serde::Deserialize;

use crate::api::MediaApi;
use crate::model::{Media, MediaId, MediaUpdate};
use crate::service::MediaService;
use crate::storage::FILES_PATH;

#[derive(Clone)]
struct AppState {
    service: Arc<MediaService>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type S = State<AppState>;

/// The media REST routes (under the server's body limit) and, when files are on local
/// disk, their delivery.
pub fn router(service: Arc<MediaService>, auth: Arc<dyn Authenticator>) -> Router {
    let local = service.storage().is_local();
    let mut router = Router::new().route(
        "/api/v1/media/{id}",
        get(get_one).patch(update).delete(delete),
    );
    if local {
        router = router.route(&format!("{FILES_PATH}/{{*key}}"), get(file).head(file));
    }
    router.with_state(AppState { service, auth })
}

/// `POST /api/v1/media`: the streamed upload (its caps are the service's, per kind).
pub fn upload_router(service: Arc<MediaService>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/media", post(upload))
        .with_state(AppState { service, auth })
}

fn media_id(id: &str) -> ApiResult<MediaId> {
    MediaId::parse_field(id, "id")
}

async fn upload(
    s: S,
    Authenticated(p): Authenticated,
    headers: HeaderMap,
    body: RawBody,
) -> ApiResult<(StatusCode, Json<Media>)> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let media = s
        .service
        .upload(&p, body.into_data_stream(), declared)
        .await?;
    Ok((StatusCode::CREATED, Json(media)))
}

async fn get_one(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Media>> {
    Ok(Json(s.service.get(&p, media_id(&id)?).await?))
}

async fn update(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<MediaUpdate>,
) -> ApiResult<Json<Media>> {
    Ok(Json(s.service.update(&p, media_id(&id)?, b).await?))
}

async fn delete(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.service.delete(&p, media_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?exp=<unix seconds>&sig=<base64url HMAC>`.
#[derive(Deserialize)]
struct Signed {
    exp: Option<i64>,
    sig: Option<String>,
}

fn forbidden() -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        "this media link is invalid or has expired",
    )
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("webp") => "image/webp",
        Some("jpeg") | Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("mp4") => "video/mp4",
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("m4a") => "audio/mp4",
        _ => "application/octet-stream",
    }
}

/// A single `bytes=` range of an object of `len` bytes: `Ok(None)` means the whole
/// object (no header, or one this server ignores, like several ranges); `Err` means
/// unsatisfiable (416).
fn parse_range(value: Option<&HeaderValue>, len: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // The last `end` bytes.
        let n: u64 = end.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        len.saturating_sub(n)..len
    } else {
        let start: u64 = start.parse().map_err(|_| ())?;
        let end = if end.is_empty() {
            len
        } else {
            end.parse::<u64>()
                .map_err(|_| ())?
                .saturating_add(1)
                .min(len)
        };
        start..end
    };
    if range.start >= len || range.start >= range.end {
        return Err(());
    }
    Ok(Some(range))
}

async fn file(
    s: S,
    method: Method,
    Path(key): Path<String>,
    Query(q): Query<Signed>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let storage = s.service.storage();
    let signer = storage
        .url_signer()
        .ok_or_else(|| Error::from_kind(ErrorKind::NotFound))?;
    let (Some(exp), Some(sig)) = (q.exp, q.sig) else {
        return Err(forbidden());
    };
    let now = s.service.now().timestamp();
    if let Err(why) = signer.verify(&key, exp, &sig, now) {
        tracing::debug!(key, ?why, "media link refused");
        return Err(forbidden());
    }
    let Some(len) = storage.size(&key).await? else {
        return Err(Error::from_kind(ErrorKind::NotFound));
    };
    let range = match parse_range(headers.get(header::RANGE), len) {
        Ok(r) => r,
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response());
        }
    };
    let name = key.rsplit('/').take(2).collect::<Vec<_>>();
    let filename = match name.as_slice() {
        [file, id] => format!("{id}-{file}"),
        _ => "media".to_owned(),
    };
    let max_age = (exp - now).clamp(0, 86_400);
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, content_type(&key))
        .header(
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        )
        .header(header::CACHE_CONTROL, format!("private, max-age={max_age}"))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        );
    let (status, span) = match &range {
        Some(r) => {
            response = response.header(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{len}", r.start, r.end - 1),
            );
            (StatusCode::PARTIAL_CONTENT, r.end - r.start)
        }
        None => (StatusCode::OK, len),
    };
    response = response.status(status).header(header::CONTENT_LENGTH, span);
    let body = if method == Method::HEAD {
        RawBody::empty()
    } else {
        let Some(got) = storage.get(&key, range).await? else {
            return Err(Error::from_kind(ErrorKind::NotFound));
        };
        RawBody::from_stream(got.into_stream())
    };
    response.body(body).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some(&h("bytes=0-3")), 10), Ok(Some(0..4)));
        assert_eq!(parse_range(Some(&h("bytes=4-")), 10), Ok(Some(4..10)));
        assert_eq!(parse_range(Some(&h("bytes=-3")), 10), Ok(Some(7..10)));
        assert_eq!(parse_range(Some(&h("bytes=5-100")), 10), Ok(Some(5..10)));
        assert_eq!(parse_range(Some(&h("bytes=10-")), 10), Err(()));
        assert_eq!(parse_range(Some(&h("bytes=0-1,4-5")), 10), Ok(None));
        assert_eq!(parse_range(Some(&h("bytes=x-1")), 10), Err(()));
    }
}
