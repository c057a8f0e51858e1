//! REST for calls and location sharing (see the table in [`crate::http`]). Signaling
//! and location updates normally travel over the live WebSocket; the REST routes are
//! the same calls for clients between connections.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use nova_auth::{Authenticated, Body};
use nova_core::UserId;
use nova_e2ee::DeviceId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, AppState, S, conversation_id};
use crate::model::{Call, CallId, LocationShare, LocationShareId, LocationUpdate, SignalKind};

/// Adds the call and location routes.
pub(super) fn routes(router: Router<AppState>) -> Router<AppState> {
    let call = "/api/v1/chat/calls/{id}";
    let share = "/api/v1/chat/location-shares/{id}";
    router
        .route("/api/v1/chat/calls", post(start))
        .route(call, get(one))
        .route(&format!("{call}/accept"), post(accept))
        .route(&format!("{call}/decline"), post(decline))
        .route(&format!("{call}/hangup"), post(hang_up))
        .route(&format!("{call}/signal"), post(signal))
        .route("/api/v1/chat/turn", get(turn))
        .route(
            "/api/v1/chat/conversations/{id}/location-shares",
            post(start_share).get(shares),
        )
        .route(share, delete(stop_share))
        .route(&format!("{share}/updates"), post(update))
}

fn call_id(value: &str) -> ApiResult<CallId> {
    CallId::parse_field(value, "call_id")
}

fn share_id(value: &str) -> ApiResult<LocationShareId> {
    LocationShareId::parse_field(value, "share_id")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    conversation_id: String,
    device_id: String,
    #[serde(default)]
    video: bool,
}

async fn start(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<StartBody>,
) -> ApiResult<(StatusCode, Json<Call>)> {
    let id = conversation_id(&b.conversation_id)?;
    let device = DeviceId::new(b.device_id)?;
    let call = s.api.start_call(&p, id, &device, b.video).await?;
    Ok((StatusCode::CREATED, Json(call)))
}

async fn one(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Call>> {
    Ok(Json(s.api.call(&p, call_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    device_id: String,
}

async fn accept(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<AcceptBody>,
) -> ApiResult<Json<Call>> {
    let id = call_id(&id)?;
    let device = DeviceId::new(b.device_id)?;
    Ok(Json(s.api.accept_call(&p, id, &device).await?))
}

async fn decline(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Call>> {
    Ok(Json(s.api.decline_call(&p, call_id(&id)?).await?))
}

async fn hang_up(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Call>> {
    Ok(Json(s.api.hang_up(&p, call_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignalBody {
    to_user_id: String,
    kind: String,
    payload: String,
}

async fn signal(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<SignalBody>,
) -> ApiResult<StatusCode> {
    let id = call_id(&id)?;
    let to = UserId::parse_field(&b.to_user_id, "to_user_id")?;
    let kind = SignalKind::parse(&b.kind)?;
    s.api.signal(&p, id, to, kind, b.payload).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn turn(s: S, Authenticated(p): Authenticated) -> ApiResult<Json<Value>> {
    let c = s.api.turn_credentials(&p).await?;
    // The shape WebRTC's RTCIceServer takes, plus the expiry.
    Ok(Json(json!({
        "urls": c.urls,
        "username": c.username,
        "credential": c.credential,
        "ttl_secs": c.ttl_secs,
        "expires_at": c.expires_at,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    duration_secs: u32,
}

async fn start_share(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<ShareBody>,
) -> ApiResult<(StatusCode, Json<LocationShare>)> {
    let id = conversation_id(&id)?;
    let share = s.api.start_location_share(&p, id, b.duration_secs).await?;
    Ok((StatusCode::CREATED, Json(share)))
}

async fn shares(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = s.api.location_shares(&p, conversation_id(&id)?).await?;
    Ok(Json(json!({ "items": items })))
}

async fn stop_share(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<LocationShare>> {
    Ok(Json(s.api.stop_location_share(&p, share_id(&id)?).await?))
}

async fn update(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<LocationUpdate>,
) -> ApiResult<StatusCode> {
    s.api.update_location(&p, share_id(&id)?, b).await?;
    Ok(StatusCode::NO_CONTENT)
}
