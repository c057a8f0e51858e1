//! REST over any [`TrustSafetyApi`] (in-process service or gRPC client), the caller
//! authenticated by an [`Authenticator`] from `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST | `/api/v1/reports` | file a report (`NewReport`) |
//! | GET | `/api/v1/reports` | the caller's reports and their outcomes |
//! | GET | `/api/v1/appeals` | the caller's strikes with any appeals |
//! | POST | `/api/v1/appeals` | `{"action_id", "text"}`: appeal an action |
//! | GET | `/api/v1/moderation/queue?filter=all\|mine\|escalated&limit=` | the queue |
//! | GET | `/api/v1/moderation/reports?kind=&id=` | open reports on a target |
//! | POST | `/api/v1/moderation/queue/assign` | `{"target", "assignee"?}` |
//! | POST | `/api/v1/moderation/queue/escalate` | `{"target", "note"}` |
//! | POST | `/api/v1/moderation/queue/dismiss` | `{"target", "note"}` |
//! | POST | `/api/v1/moderation/actions` | take an action (`NewAction`) |
//! | POST | `/api/v1/moderation/actions/{id}/reverse` | `{"note"}` |
//! | GET | `/api/v1/moderation/appeals?limit=` | pending appeals |
//! | POST | `/api/v1/moderation/appeals/{id}/decide` | `{"grant", "note"}` |
//! | GET | `/api/v1/moderation/audit?subject=&before=&limit=` | the audit log |
//! | GET, POST | `/api/v1/moderation/rules` | the rules; create or change one (`RuleDraft`) |
//! | GET | `/api/v1/moderation/rules/{id}/history` | every version of a rule |
//!
//! A caller without the `moderator` or `admin` scope (or without a token) gets exactly
//! what a route that does not exist answers (an empty 404), before the request is even
//! parsed; the service checks the scope again. Other bad input is a 400 naming the field.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::Body;
use nova_auth::{Authenticated, Authenticator, MaybeAuthenticated};
use nova_core::{Error, Principal, UserId};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::api::TrustSafetyApi;
use crate::model::{AuditQuery, NewAction, NewReport, QueueFilter, RuleDraft, Target};
use crate::service::is_moderator;

#[derive(Clone)]
struct AppState {
    api: Arc<dyn TrustSafetyApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;

/// The trust & safety REST routes.
pub fn router(api: Arc<dyn TrustSafetyApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/reports", post(file_report).get(my_reports))
        .route("/api/v1/appeals", get(strikes).post(file_appeal))
        .route("/api/v1/moderation/queue", get(queue))
        .route("/api/v1/moderation/reports", get(target_reports))
        .route("/api/v1/moderation/queue/assign", post(assign))
        .route("/api/v1/moderation/queue/escalate", post(escalate))
        .route("/api/v1/moderation/queue/dismiss", post(dismiss))
        .route("/api/v1/moderation/actions", post(take_action))
        .route(
            "/api/v1/moderation/actions/{id}/reverse",
            post(reverse_action),
        )
        .route("/api/v1/moderation/appeals", get(pending_appeals))
        .route(
            "/api/v1/moderation/appeals/{id}/decide",
            post(decide_appeal),
        )
        .route("/api/v1/moderation/audit", get(audit))
        .route("/api/v1/moderation/rules", get(rules).post(save_rule))
        .route("/api/v1/moderation/rules/{id}/history", get(rule_history))
        .with_state(AppState { api, auth })
}

/// Why a moderation request failed: hidden as a missing route, or a domain error.
enum ModError {
    Hidden,
    Domain(Error),
}

impl From<Error> for ModError {
    fn from(e: Error) -> Self {
        ModError::Domain(e)
    }
}

impl IntoResponse for ModError {
    fn into_response(self) -> Response {
        match self {
            // Exactly what axum answers for a route that does not exist.
            ModError::Hidden => StatusCode::NOT_FOUND.into_response(),
            ModError::Domain(e) => e.into_response(),
        }
    }
}

type ModResult<T> = Result<T, ModError>;

/// The caller, if any; a bad token is kept as an error so that it too can be hidden.
type Caller = Result<MaybeAuthenticated, Error>;

/// The moderator behind the request, or a missing route for everyone else.
fn gate(caller: Caller) -> ModResult<Principal> {
    match caller {
        Ok(MaybeAuthenticated(Some(p))) if is_moderator(&p) => Ok(p),
        _ => Err(ModError::Hidden),
    }
}

fn json_body<T: DeserializeOwned>(body: &Bytes) -> ModResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ModError::Domain(Error::invalid("body", format!("is not valid: {e}"))))
}

fn query<T: DeserializeOwned>(uri: &Uri) -> ModResult<T> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ModError::Domain(Error::invalid("query", e.body_text())))
}

fn path_id<T: std::str::FromStr>(value: &str, field: &str) -> ModResult<T> {
    value
        .parse()
        .map_err(|_| ModError::Domain(Error::invalid(field, "must be a UUID")))
}

async fn file_report(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Body(report): Body<NewReport>,
) -> ApiResult<(StatusCode, Json<crate::model::Report>)> {
    Ok((StatusCode::CREATED, Json(s.api.report(&p, report).await?)))
}

async fn my_reports(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Vec<crate::model::Report>>> {
    Ok(Json(s.api.my_reports(&p).await?))
}

async fn strikes(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Vec<crate::model::Strike>>> {
    Ok(Json(s.api.strikes(&p).await?))
}

#[derive(Deserialize)]
struct AppealBody {
    action_id: crate::model::ActionId,
    text: String,
}

async fn file_appeal(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Body(b): Body<AppealBody>,
) -> ApiResult<(StatusCode, Json<crate::model::Appeal>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.api.appeal(&p, b.action_id, &b.text).await?),
    ))
}

#[derive(Deserialize)]
struct QueueQuery {
    #[serde(default)]
    filter: QueueFilter,
    #[serde(default)]
    limit: u32,
}

async fn queue(
    State(s): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> ModResult<Json<Vec<crate::model::QueueItem>>> {
    let p = gate(caller)?;
    let q: QueueQuery = query(&uri)?;
    Ok(Json(s.api.queue(&p, q.filter, q.limit).await?))
}

#[derive(Deserialize)]
struct TargetQuery {
    kind: String,
    id: String,
}

async fn target_reports(
    State(s): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> ModResult<Json<Vec<crate::model::Report>>> {
    let p = gate(caller)?;
    let q: TargetQuery = query(&uri)?;
    let target = Target::parse(&q.kind, &q.id)?;
    Ok(Json(s.api.target_reports(&p, target).await?))
}

#[derive(Deserialize)]
struct AssignBody {
    target: Target,
    #[serde(default)]
    assignee: Option<UserId>,
}

async fn assign(State(s): State<AppState>, caller: Caller, body: Bytes) -> ModResult<StatusCode> {
    let p = gate(caller)?;
    let b: AssignBody = json_body(&body)?;
    s.api.assign(&p, b.target, b.assignee).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TargetNote {
    target: Target,
    #[serde(default)]
    note: String,
}

async fn escalate(State(s): State<AppState>, caller: Caller, body: Bytes) -> ModResult<StatusCode> {
    let p = gate(caller)?;
    let b: TargetNote = json_body(&body)?;
    s.api.escalate(&p, b.target, &b.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn dismiss(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ModResult<Json<serde_json::Value>> {
    let p = gate(caller)?;
    let b: TargetNote = json_body(&body)?;
    let n = s.api.dismiss(&p, b.target, &b.note).await?;
    Ok(Json(serde_json::json!({ "dismissed": n })))
}

async fn take_action(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ModResult<(StatusCode, Json<crate::model::Action>)> {
    let p = gate(caller)?;
    let action: NewAction = json_body(&body)?;
    Ok((
        StatusCode::CREATED,
        Json(s.api.take_action(&p, action).await?),
    ))
}

#[derive(Deserialize)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

async fn reverse_action(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ModResult<Json<crate::model::Action>> {
    let p = gate(caller)?;
    let id = path_id(&id, "id")?;
    let b: NoteBody = json_body(&body)?;
    Ok(Json(s.api.reverse_action(&p, id, &b.note).await?))
}

#[derive(Deserialize)]
struct LimitQuery {
    #[serde(default)]
    limit: u32,
}

async fn pending_appeals(
    State(s): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> ModResult<Json<Vec<crate::model::Appeal>>> {
    let p = gate(caller)?;
    let q: LimitQuery = query(&uri)?;
    Ok(Json(s.api.pending_appeals(&p, q.limit).await?))
}

#[derive(Deserialize)]
struct DecideBody {
    grant: bool,
    #[serde(default)]
    note: String,
}

async fn decide_appeal(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ModResult<Json<crate::model::Appeal>> {
    let p = gate(caller)?;
    let id = path_id(&id, "id")?;
    let b: DecideBody = json_body(&body)?;
    Ok(Json(s.api.decide_appeal(&p, id, b.grant, &b.note).await?))
}

async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> ModResult<Json<Vec<crate::model::AuditEntry>>> {
    let p = gate(caller)?;
    let q: AuditQuery = query(&uri)?;
    Ok(Json(s.api.audit(&p, q).await?))
}

async fn rules(
    State(s): State<AppState>,
    caller: Caller,
) -> ModResult<Json<Vec<crate::model::Rule>>> {
    let p = gate(caller)?;
    Ok(Json(s.api.rules(&p).await?))
}

async fn save_rule(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ModResult<Json<crate::model::Rule>> {
    let p = gate(caller)?;
    let draft: RuleDraft = json_body(&body)?;
    Ok(Json(s.api.save_rule(&p, draft).await?))
}

async fn rule_history(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ModResult<Json<Vec<crate::model::Rule>>> {
    let p = gate(caller)?;
    let id = path_id(&id, "id")?;
    Ok(Json(s.api.rule_history(&p, id).await?))
}
