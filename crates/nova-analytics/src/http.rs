//! REST under `/api/v1/analytics`, over any [`AnalyticsApi`], the caller authenticated
//! by an [`Authenticator`] from `Authorization: Bearer` (optional for the event batch).
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/analytics/events` | `{"events": [{"id", "type": "impression"\|"view", "post_id", "at"?, "anonymous_id"?}]}` (≤ 500; more is 413); `202 {"accepted"}` |
//! | GET | `/api/v1/analytics/posts/{id}` | the caller's post's insights |
//! | GET | `/api/v1/analytics/me` | `?days`; the caller's follower growth and top posts |
//! | GET | `/api/v1/analytics/admin` | `?day&days&cohort` (dates `YYYY-MM-DD`); global figures (`admin` scope) |
//!
//! A bad event is a 400 naming `events[i].field`; someone else's post is a 404 like a
//! missing one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use nova_auth::{Authenticated, Authenticator, Body, MaybeAuthenticated};
use nova_core::Error;
use serde_json::{Value, json};

use crate::api::AnalyticsApi;
use crate::model::{AccountInsights, AdminStats, ClientEvent, MAX_BATCH, PostInsights};

#[derive(Clone)]
struct AppState {
    api: Arc<dyn AnalyticsApi>,
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

/// The analytics REST routes.
pub fn router(api: Arc<dyn AnalyticsApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/analytics/events", post(record))
        .route("/api/v1/analytics/posts/{id}", get(post_insights))
        .route("/api/v1/analytics/me", get(account_insights))
        .route("/api/v1/analytics/admin", get(admin_stats))
        .with_state(AppState { api, auth })
}

/// Reads a batch body: `{"events": [...]}`, each element validated with its index.
/// `Err(None)` means too many events (413).
pub fn parse_batch(body: &Value) -> Result<Vec<ClientEvent>, Option<Error>> {
    let object = body
        .as_object()
        .ok_or_else(|| Some(Error::invalid("body", "must be an object with `events`")))?;
    if let Some(key) = object.keys().find(|k| k.as_str() != "events") {
        return Err(Some(Error::invalid(key.clone(), "unknown field")));
    }
    let events = object
        .get("events")
        .ok_or_else(|| Some(Error::invalid("events", "is required")))?
        .as_array()
        .ok_or_else(|| Some(Error::invalid("events", "must be an array")))?;
    if events.len() > MAX_BATCH {
        return Err(None);
    }
    events
        .iter()
        .enumerate()
        .map(|(i, e)| ClientEvent::from_json(i, e).map_err(Some))
        .collect()
}

async fn record(
    s: S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Body(body): Body<Value>,
) -> Response {
    let events = match parse_batch(&body) {
        Ok(events) => events,
        Err(Some(error)) => return error.into_response(),
        Err(None) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({
                    "error": {
                        "code": "PAYLOAD_TOO_LARGE",
                        "message": format!("at most {MAX_BATCH} events per batch"),
                        "field": "events",
                    }
                })),
            )
                .into_response();
        }
    };
    match s.api.record(p.as_ref(), events).await {
        Ok(accepted) => {
            (StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))).into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn post_insights(
    s: S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<PostInsights>> {
    Ok(Json(s.api.post_insights(p.as_ref(), &id).await?))
}

fn number(q: &HashMap<String, String>, name: &str) -> ApiResult<u32> {
    match q.get(name) {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid(name, "must be a whole number")),
    }
}

fn date(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<NaiveDate>> {
    q.get(name)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| Error::invalid(name, "must be a date YYYY-MM-DD"))
        })
        .transpose()
}

async fn account_insights(
    s: S,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<AccountInsights>> {
    Ok(Json(
        s.api
            .account_insights(Some(&p), number(&q, "days")?)
            .await?,
    ))
}

async fn admin_stats(
    s: S,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<AdminStats>> {
    let stats = s
        .api
        .admin_stats(
            Some(&p),
            date(&q, "day")?,
            number(&q, "days")?,
            date(&q, "cohort")?,
        )
        .await?;
    Ok(Json(stats))
}
