//! REST under `/api/v1/chat`, over any [`ChatApi`], the caller authenticated by an
//! [`Authenticator`] from `Authorization: Bearer`; and the live WebSocket
//! (`/api/v1/chat/ws`, see [`crate::ws`]).
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/chat/conversations` | `{"user_id"}` (direct) or `{"title", "member_ids"}` (group) |
//! | GET | `/api/v1/chat/conversations` | `?archived=true&first` |
//! | GET, PATCH | `/api/v1/chat/conversations/{id}` | PATCH `{"title", "avatar_media_id"}` |
//! | GET, POST | `/api/v1/chat/conversations/{id}/members` | POST `{"user_ids"}` invites |
//! | DELETE | `/api/v1/chat/conversations/{id}/members/{user_id}` | kick (own id: leave) |
//! | PUT | `/api/v1/chat/conversations/{id}/members/{user_id}/role` | `{"role"}` |
//! | POST | `/api/v1/chat/conversations/{id}/messages` | a [`NewMessage`]; 201 (200 for a retry) |
//! | GET | `/api/v1/chat/conversations/{id}/messages` | `?device_id&before&first`: history |
//! | POST | `/api/v1/chat/conversations/{id}/read` | `{"message_id"}` |
//! | PUT | `/api/v1/chat/conversations/{id}/archive` | `{"archived", "keep_archived"}` |
//! | PUT | `/api/v1/chat/conversations/{id}/mute` | `{"until"}` (RFC 3339 or null) |
//! | GET, PUT | `/api/v1/chat/settings/dm` | `{"allow": "everyone" \| "following" \| "nobody"}` |
//! | GET | `/api/v1/chat/devices/{device_id}/inbox` | `?after&limit` |
//! | POST | `/api/v1/chat/devices/{device_id}/ack` | `{"up_to"}` |
//! | POST | `/api/v1/chat/calls` | `{"conversation_id", "device_id", "video"}`: rings; 201 |
//! | GET | `/api/v1/chat/calls/{id}` | the call |
//! | POST | `/api/v1/chat/calls/{id}/accept` | `{"device_id"}` |
//! | POST | `/api/v1/chat/calls/{id}/decline`, `/hangup` | |
//! | POST | `/api/v1/chat/calls/{id}/signal` | `{"to_user_id", "kind": "offer" \| "answer" \| "ice", "payload"}`; 204 |
//! | GET | `/api/v1/chat/turn` | TURN credentials: `{"urls", "username", "credential", "ttl_secs", "expires_at"}` |
//! | POST, GET | `/api/v1/chat/conversations/{id}/location-shares` | POST `{"duration_secs": 900 \| 3600 \| 28800}`; GET the running ones |
//! | DELETE | `/api/v1/chat/location-shares/{id}` | stops it |
//! | POST | `/api/v1/chat/location-shares/{id}/updates` | `{"sender_device", "envelopes"}` (ciphertext, relayed, never stored); 204 |
//!
//! Bad input is a 400 naming the field, an oversize ciphertext a 413, a flood a 429; a
//! conversation the caller is not in, or a user they may not message, is a 404 (so is a
//! call or share the caller is not part of). An ended call or share is a 409, a second
//! location update within 5 s a 429.

mod calls;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use nova_auth::{Authenticated, Authenticator, Body};
use nova_core::{Error, Timestamp, UserId};
use nova_e2ee::DeviceId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::ChatApi;
use crate::model::{
    Conversation, ConversationId, Delivery, DmPolicy, HistoryItem, Members, NewMessage, Role, Sent,
};
use crate::ws::{self, Live, LiveOptions};

#[derive(Clone)]
struct AppState {
    api: Arc<dyn ChatApi>,
    auth: Arc<dyn Authenticator>,
    live: Arc<Live>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type Q = Query<HashMap<String, String>>;
type S = State<AppState>;

/// The chat REST routes and the live WebSocket, with default [`LiveOptions`].
pub fn router(api: Arc<dyn ChatApi>, auth: Arc<dyn Authenticator>) -> Router {
    router_with(api, auth, LiveOptions::default())
}

/// The chat routes with `options` for the WebSocket.
pub fn router_with(
    api: Arc<dyn ChatApi>,
    auth: Arc<dyn Authenticator>,
    options: LiveOptions,
) -> Router {
    let live = Arc::new(Live::new(api.clone(), auth.clone(), options));
    let c = "/api/v1/chat/conversations/{id}";
    let router = Router::new()
        .route("/api/v1/chat/conversations", post(create).get(list))
        .route(c, get(one).patch(update))
        .route(&format!("{c}/members"), get(members).post(invite))
        .route(&format!("{c}/members/{{user_id}}"), delete(remove))
        .route(&format!("{c}/members/{{user_id}}/role"), put(role))
        .route(&format!("{c}/messages"), post(send).get(history))
        .route(&format!("{c}/read"), post(read))
        .route(&format!("{c}/archive"), put(archive))
        .route(&format!("{c}/mute"), put(mute))
        .route("/api/v1/chat/settings/dm", get(dm).put(set_dm))
        .route("/api/v1/chat/devices/{device_id}/inbox", get(inbox))
        .route("/api/v1/chat/devices/{device_id}/ack", post(ack))
        .route("/api/v1/chat/ws", get(ws::upgrade));
    calls::routes(router).with_state(AppState { api, auth, live })
}

impl FromRef<AppState> for Arc<Live> {
    fn from_ref(state: &AppState) -> Self {
        state.live.clone()
    }
}

fn conversation_id(value: &str) -> ApiResult<ConversationId> {
    ConversationId::parse_field(value, "conversation_id")
}

fn user_id(value: &str, field: &str) -> ApiResult<UserId> {
    UserId::parse_field(value, field)
}

fn number<T: std::str::FromStr>(q: &HashMap<String, String>, field: &str) -> ApiResult<Option<T>> {
    q.get(field)
        .map(|v| {
            v.parse()
                .map_err(|_| Error::invalid(field, "must be a whole number"))
        })
        .transpose()
}

/// `POST /conversations`: a direct conversation (`user_id`) or a group.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    user_id: Option<String>,
    title: Option<String>,
    member_ids: Option<Vec<String>>,
}

async fn create(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<CreateBody>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    let conversation = match (b.user_id, b.member_ids) {
        (Some(other), None) if b.title.is_none() => {
            s.api.open_direct(&p, user_id(&other, "user_id")?).await?
        }
        (None, Some(ids)) => {
            let ids = ids
                .iter()
                .map(|id| user_id(id, "member_ids"))
                .collect::<ApiResult<Vec<_>>>()?;
            s.api
                .create_group(&p, b.title.as_deref().unwrap_or(""), &ids)
                .await?
        }
        _ => {
            return Err(Error::invalid(
                "user_id",
                "send user_id (direct) or title and member_ids (group)",
            ));
        }
    };
    Ok((StatusCode::CREATED, Json(conversation)))
}

async fn list(s: S, Authenticated(p): Authenticated, Query(q): Q) -> ApiResult<Json<Value>> {
    let archived = match q.get("archived").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Error::invalid("archived", "must be true or false")),
    };
    let first = number::<u32>(&q, "first")?.unwrap_or(0);
    let items = s.api.conversations(&p, archived, first).await?;
    Ok(Json(json!({ "items": items })))
}

async fn one(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(s.api.conversation(&p, conversation_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    title: String,
    #[serde(default)]
    avatar_media_id: String,
}

async fn update(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<UpdateBody>,
) -> ApiResult<Json<Conversation>> {
    let id = conversation_id(&id)?;
    Ok(Json(
        s.api
            .update_group(&p, id, &b.title, &b.avatar_media_id)
            .await?,
    ))
}

async fn members(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Members>> {
    Ok(Json(s.api.members(&p, conversation_id(&id)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    user_ids: Vec<String>,
}

async fn invite(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<InviteBody>,
) -> ApiResult<Json<Members>> {
    let id = conversation_id(&id)?;
    let users = b
        .user_ids
        .iter()
        .map(|u| user_id(u, "user_ids"))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(s.api.invite(&p, id, &users).await?))
}

async fn remove(
    s: S,
    Authenticated(p): Authenticated,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = conversation_id(&id)?;
    let user = user_id(&user, "user_id")?;
    if user == p.user_id {
        s.api.leave(&p, id).await?;
    } else {
        s.api.kick(&p, id, user).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

async fn role(
    s: S,
    Authenticated(p): Authenticated,
    Path((id, user)): Path<(String, String)>,
    Body(b): Body<RoleBody>,
) -> ApiResult<Json<Members>> {
    let id = conversation_id(&id)?;
    let user = user_id(&user, "user_id")?;
    Ok(Json(
        s.api.set_role(&p, id, user, Role::parse(&b.role)?).await?,
    ))
}

async fn send(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<NewMessage>,
) -> ApiResult<(StatusCode, Json<Sent>)> {
    let sent = s.api.send(&p, conversation_id(&id)?, b).await?;
    let status = if sent.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(sent)))
}

fn device(q: &HashMap<String, String>) -> ApiResult<DeviceId> {
    DeviceId::new(q.get("device_id").map_or("", String::as_str))
}

async fn history(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let id = conversation_id(&id)?;
    let before = number::<i64>(&q, "before")?;
    let first = number::<u32>(&q, "first")?.unwrap_or(0);
    let items: Vec<HistoryItem> = s.api.history(&p, id, &device(&q)?, before, first).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    message_id: i64,
}

async fn read(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<ReadBody>,
) -> ApiResult<StatusCode> {
    s.api
        .mark_read(&p, conversation_id(&id)?, b.message_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveBody {
    archived: bool,
    #[serde(default)]
    keep_archived: bool,
}

async fn archive(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<ArchiveBody>,
) -> ApiResult<Json<Conversation>> {
    let id = conversation_id(&id)?;
    Ok(Json(
        s.api
            .set_archived(&p, id, b.archived, b.keep_archived)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MuteBody {
    until: Option<Timestamp>,
}

async fn mute(
    s: S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<MuteBody>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(s.api.mute(&p, conversation_id(&id)?, b.until).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DmBody {
    allow: String,
}

async fn dm(s: S, Authenticated(p): Authenticated) -> ApiResult<Json<Value>> {
    let policy = s.api.dm_policy(&p).await?;
    Ok(Json(json!({ "allow": policy.as_str() })))
}

async fn set_dm(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<DmBody>,
) -> ApiResult<Json<Value>> {
    let policy = s.api.set_dm_policy(&p, DmPolicy::parse(&b.allow)?).await?;
    Ok(Json(json!({ "allow": policy.as_str() })))
}

async fn inbox(
    s: S,
    Authenticated(p): Authenticated,
    Path(device): Path<String>,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let device = DeviceId::new(device)?;
    let after = number::<i64>(&q, "after")?.unwrap_or(0);
    let limit = number::<u32>(&q, "limit")?.unwrap_or(0);
    let items: Vec<Delivery> = s.api.inbox(&p, &device, after, limit).await?;
    Ok(Json(json!({ "items": items })))
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
    let device = DeviceId::new(device)?;
    let removed = s.api.acknowledge(&p, &device, b.up_to).await?;
    Ok(Json(json!({ "acknowledged": removed })))
}
