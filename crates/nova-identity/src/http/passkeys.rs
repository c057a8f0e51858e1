//! `/api/v1/auth/passkeys/*`: WebAuthn registration and sign-in, and the caller's
//! passkeys.
//!
//! ```text
//! POST   /api/v1/auth/passkeys/register/start    (bearer)  -> {ceremony, options, expires_at}
//! POST   /api/v1/auth/passkeys/register/finish   (bearer)  {ceremony, credential, name} -> 201 passkey
//! POST   /api/v1/auth/passkeys/login/start       {username?} -> {ceremony, options, expires_at}
//! POST   /api/v1/auth/passkeys/login/finish      {ceremony, credential} -> token pair
//! GET    /api/v1/auth/passkeys                   (bearer)  -> [passkey]
//! PATCH  /api/v1/auth/passkeys/{id}              (bearer)  {name} -> passkey
//! DELETE /api/v1/auth/passkeys/{id}?end_sessions=true (bearer) -> {ended_sessions}
//! ```

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use nova_kv::edge::{Charge, Edge};
use serde::Deserialize;

use super::{Api, ApiResult, Body, Caller, Client};
use crate::model::PasskeyId;

/// The passkey routes (merged into [`router`](super::router)).
pub(super) fn routes() -> Router<Api> {
    Router::new()
        .route("/api/v1/auth/passkeys", get(list))
        .route("/api/v1/auth/passkeys/{id}", patch(rename).delete(remove))
        .route("/api/v1/auth/passkeys/register/start", post(register_start))
        .route(
            "/api/v1/auth/passkeys/register/finish",
            post(register_finish),
        )
        .route("/api/v1/auth/passkeys/login/start", post(login_start))
        .route("/api/v1/auth/passkeys/login/finish", post(login_finish))
}

async fn register_start(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    Ok(Json(api.passkey_register_start(&p).await?).into_response())
}

/// `name` may be left out: the passkey is then called "Passkey".
#[derive(Deserialize)]
struct RegisterFinishBody {
    ceremony: String,
    credential: serde_json::Value,
    #[serde(default)]
    name: Option<String>,
}

async fn register_finish(
    State(api): State<Api>,
    Caller(p): Caller,
    Body(b): Body<RegisterFinishBody>,
) -> ApiResult<Response> {
    let name = b.name.unwrap_or_else(|| "Passkey".to_owned());
    let passkey = api
        .passkey_register_finish(&p, &b.ceremony, &b.credential, &name)
        .await?;
    Ok((StatusCode::CREATED, Json(passkey)).into_response())
}

#[derive(Deserialize)]
struct LoginStartBody {
    #[serde(default)]
    username: Option<String>,
}

async fn login_start(
    State(api): State<Api>,
    Client(ctx): Client,
    Body(b): Body<LoginStartBody>,
) -> ApiResult<Response> {
    Ok(Json(api.passkey_login_start(b.username.as_deref(), &ctx).await?).into_response())
}

#[derive(Deserialize)]
struct LoginFinishBody {
    ceremony: String,
    credential: serde_json::Value,
}

async fn login_finish(
    State(api): State<Api>,
    Client(ctx): Client,
    edge: Edge,
    Body(b): Body<LoginFinishBody>,
) -> ApiResult<Response> {
    // The gateway's `login` budget: the same bucket whichever door is used.
    edge.charge(None, Charge::logins(1)).await?;
    Ok(Json(
        api.passkey_login_finish(&b.ceremony, &b.credential, &ctx)
            .await?,
    )
    .into_response())
}

async fn list(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    Ok(Json(api.passkeys(&p).await?).into_response())
}

#[derive(Deserialize)]
struct RenameBody {
    name: String,
}

async fn rename(
    State(api): State<Api>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(b): Body<RenameBody>,
) -> ApiResult<Response> {
    let id = PasskeyId::parse_field(&id, "id")?;
    Ok(Json(api.rename_passkey(&p, id, &b.name).await?).into_response())
}

#[derive(Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    end_sessions: bool,
}

async fn remove(
    State(api): State<Api>,
    Caller(p): Caller,
    Path(id): Path<String>,
    query: Result<Query<RemoveQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let id = PasskeyId::parse_field(&id, "id")?;
    let Query(q) =
        query.map_err(|_| nova_core::Error::invalid("end_sessions", "must be true or false"))?;
    let ended = api.delete_passkey(&p, id, q.end_sessions).await?;
    Ok(Json(serde_json::json!({ "ended_sessions": ended })).into_response())
}
