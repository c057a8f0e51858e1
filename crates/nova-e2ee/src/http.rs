//! REST under `/api/v1/e2ee`, over any [`KeyDirectory`], the caller authenticated from
//! `Authorization: Bearer` — the same calls as the gRPC service, for processes that serve
//! HTTP only (the all-in-one `nova`). Bodies are the [`crate::model`] types as JSON.
//!
//! | method | path | body → answer |
//! |---|---|---|
//! | POST | `/api/v1/e2ee/devices/{device_id}/keys` | `KeyUpload` → `KeyCounts` |
//! | GET | `/api/v1/e2ee/devices/{device_id}/keys` | → `KeyCounts` |
//! | DELETE | `/api/v1/e2ee/devices/{device_id}` | → 204 |
//! | POST | `/api/v1/e2ee/devices/{device_id}/claim` | `{"targets": [DeviceAddress]}` → `[ClaimedKey]` |
//! | POST | `/api/v1/e2ee/devices/query` | `{"user_ids"}` → `[DeviceList]` |
//! | POST | `/api/v1/e2ee/devices/versions` | `{"user_ids"}` → `[[user_id, version]]` |
//! | POST | `/api/v1/e2ee/messages` | `OutgoingMessage` → `{"id"}` |
//! | GET | `/api/v1/e2ee/devices/{device_id}/inbox` | `?after&limit` → `[EncryptedMessage]` |
//! | POST | `/api/v1/e2ee/devices/{device_id}/ack` | `{"up_to"}` → `{"acknowledged"}` |

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::{Authenticated, Authenticator, Body};
use nova_core::{Error, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::KeyDirectory;
use crate::model::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceList, EncryptedMessage, KeyCounts, KeyUpload,
    OutgoingMessage,
};

#[derive(Clone)]
struct AppState {
    api: Arc<dyn KeyDirectory>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type S = State<AppState>;

/// The key directory's REST routes.
pub fn router(api: Arc<dyn KeyDirectory>, auth: Arc<dyn Authenticator>) -> Router {
    let d = "/api/v1/e2ee/devices/{device_id}";
    Router::new()
        .route(&format!("{d}/keys"), post(upload).get(counts))
        .route(d, axum::routing::delete(remove))
        .route(&format!("{d}/claim"), post(claim))
        .route(&format!("{d}/inbox"), get(inbox))
        .route(&format!("{d}/ack"), post(ack))
        .route("/api/v1/e2ee/devices/query", post(query))
        .route("/api/v1/e2ee/devices/versions", post(versions))
        .route("/api/v1/e2ee/messages", post(send))
        .with_state(AppState { api, auth })
}

async fn upload(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
    Body(b): Body<KeyUpload>,
) -> ApiResult<Json<KeyCounts>> {
    Ok(Json(
        s.api.upload_keys(&p, &DeviceId::new(device)?, b).await?,
    ))
}

async fn counts(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
) -> ApiResult<Json<KeyCounts>> {
    Ok(Json(s.api.key_counts(&p, &DeviceId::new(device)?).await?))
}

async fn remove(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
) -> ApiResult<StatusCode> {
    s.api.remove_device(&p, &DeviceId::new(device)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimBody {
    targets: Vec<DeviceAddress>,
}

async fn claim(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
    Body(b): Body<ClaimBody>,
) -> ApiResult<Json<Vec<ClaimedKey>>> {
    let device = DeviceId::new(device)?;
    Ok(Json(s.api.claim_keys(&p, &device, &b.targets).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersBody {
    user_ids: Vec<UserId>,
}

async fn query(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<UsersBody>,
) -> ApiResult<Json<Vec<DeviceList>>> {
    Ok(Json(s.api.query_devices(&p, &b.user_ids).await?))
}

async fn versions(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<UsersBody>,
) -> ApiResult<Json<Vec<(UserId, i64)>>> {
    Ok(Json(s.api.device_list_versions(&p, &b.user_ids).await?))
}

async fn send(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<OutgoingMessage>,
) -> ApiResult<Json<Value>> {
    let id = s.api.send_message(&p, b).await?;
    Ok(Json(json!({ "id": id })))
}

fn number<T: std::str::FromStr>(q: &HashMap<String, String>, field: &str) -> ApiResult<Option<T>> {
    q.get(field)
        .map(|v| {
            v.parse()
                .map_err(|_| Error::invalid(field, "must be a whole number"))
        })
        .transpose()
}

async fn inbox(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<EncryptedMessage>>> {
    let device = DeviceId::new(device)?;
    let after = number::<i64>(&q, "after")?.unwrap_or(0);
    let limit = number::<u32>(&q, "limit")?.unwrap_or(100);
    Ok(Json(s.api.inbox(&p, &device, after, limit).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    up_to: i64,
}

async fn ack(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
    Body(b): Body<AckBody>,
) -> ApiResult<Json<Value>> {
    let n = s
        .api
        .acknowledge(&p, &DeviceId::new(device)?, b.up_to)
        .await?;
    Ok(Json(json!({ "acknowledged": n })))
}
