//! REST under `/api/v1/notifications`, over any [`NotificationApi`] (in-process service
//! or gRPC client), the caller authenticated by an [`Authenticator`] from
//! `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/api/v1/notifications` | `?folder=inbox\|requests&first&after`; `{"items", "end_cursor", "has_next_page"}` |
//! | GET | `/api/v1/notifications/unread-count` | `?folder`; `{"unread"}` |
//! | POST | `/api/v1/notifications/read` | one of `{"id"}`, `{"up_to"}` (that one and every older one in its folder), `{"all": true, "folder"?}`; `{"marked"}` |
//! | GET, PUT | `/api/v1/notifications/policy` | `{"filter_not_following"}` |
//! | GET, PUT | `/api/v1/notifications/preferences` | `{"kinds": {"like": {"in_app", "push", "email"}, ...}, "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"} \| null}` |
//!
//! Bad input is a 400 naming the field; someone else's notification is a 404 like a
//! missing one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::{Authenticated, Authenticator, Body};
use nova_core::{Error, Page};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::NotificationApi;
use crate::model::{Folder, MarkRead, Notification, NotificationId, Policy};
use crate::preferences::Preferences;

#[derive(Clone)]
struct AppState {
    api: Arc<dyn NotificationApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type Q = Query<HashMap<String, String>>;
type S = State<AppState>;

/// The notification REST routes.
pub fn router(api: Arc<dyn NotificationApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/unread-count", get(unread_count))
        .route("/api/v1/notifications/read", post(mark_read))
        .route("/api/v1/notifications/policy", get(policy).put(set_policy))
        .route(
            "/api/v1/notifications/preferences",
            get(preferences).put(set_preferences),
        )
        .with_state(AppState { api, auth })
}

fn folder(q: &HashMap<String, String>) -> ApiResult<Folder> {
    Folder::parse(q.get("folder").map_or("", String::as_str))
}

fn first(q: &HashMap<String, String>) -> ApiResult<u32> {
    match q.get("first") {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid("first", "must be a whole number")),
    }
}

async fn list(
    s: S,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<Page<Notification>>> {
    let page = s
        .api
        .list(
            &p,
            folder(&q)?,
            first(&q)?,
            q.get("after").map(String::as_str),
        )
        .await?;
    Ok(Json(page))
}

async fn unread_count(
    s: S,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<Value>> {
    let unread = s.api.unread_count(&p, folder(&q)?).await?;
    Ok(Json(json!({ "unread": unread })))
}

/// `POST /read`: exactly one of `id`, `up_to`, `all`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    id: Option<String>,
    up_to: Option<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    folder: Option<String>,
}

async fn mark_read(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<ReadBody>,
) -> ApiResult<Json<Value>> {
    let folder = Folder::parse(b.folder.as_deref().unwrap_or(""))?;
    let which = match (b.id, b.up_to, b.all) {
        (Some(id), None, false) => MarkRead::One(NotificationId::parse_field(&id, "id")?),
        (None, Some(id), false) => MarkRead::UpTo(NotificationId::parse_field(&id, "up_to")?),
        (None, None, true) => MarkRead::All,
        _ => {
            return Err(Error::invalid(
                "id",
                "send exactly one of id, up_to or all: true",
            ));
        }
    };
    let marked = s.api.mark_read(&p, folder, which).await?;
    Ok(Json(json!({ "marked": marked })))
}

async fn policy(s: S, Authenticated(p): Authenticated) -> ApiResult<Json<Policy>> {
    Ok(Json(s.api.policy(&p).await?))
}

async fn set_policy(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<Policy>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(s.api.set_policy(&p, b).await?))
}

async fn preferences(s: S, Authenticated(p): Authenticated) -> ApiResult<Json<Preferences>> {
    Ok(Json(s.api.preferences(&p).await?))
}

async fn set_preferences(
    s: S,
    Authenticated(p): Authenticated,
    Body(b): Body<Preferences>,
) -> ApiResult<Json<Preferences>> {
    Ok(Json(s.api.set_preferences(&p, b).await?))
}
