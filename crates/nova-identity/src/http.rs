//! REST under `/api/v1/auth/*` and `GET /.well-known/jwks.json`, over any
//! [`IdentityApi`] (in-process service or gRPC client).
//!
//! Bad input is a 400 naming the field (malformed JSON included) and changes nothing;
//! errors carry `{"error": {"code", "message", "field"?}}`. Passkeys: `http/passkeys.rs`.

mod passkeys;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use nova_core::client::ClientAddr;
use nova_core::{Error, ErrorKind, Principal, SessionId};
use nova_kv::edge::{Charge, Edge};
use serde::Deserialize;

use crate::api::IdentityApi;
use crate::model::{LoginRequest, RegisterRequest, RequestContext};

type Api = Arc<dyn IdentityApi>;
type ApiResult<T> = Result<T, Error>;

/// The identity REST routes.
pub fn router(api: Arc<dyn IdentityApi>) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route(nova_auth::service::SERVICE_TOKEN_PATH, post(service_token))
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/verify-email", post(verify_email))
        .route(
            "/api/v1/auth/verify-email/resend",
            post(resend_verification),
        )
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/login/2fa", post(login_two_factor))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout-all", post(logout_everywhere))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/sessions", get(sessions))
        .route("/api/v1/auth/sessions/{id}", delete(revoke_session))
        .route("/api/v1/auth/password/change", post(change_password))
        .route(
            "/api/v1/auth/password/reset-request",
            post(request_password_reset),
        )
        .route("/api/v1/auth/password/reset", post(reset_password))
        .route("/api/v1/auth/2fa/enroll", post(enroll_totp))
        .route("/api/v1/auth/2fa/confirm", post(confirm_totp))
        .route("/api/v1/auth/2fa/disable", post(disable_totp))
        .route("/api/v1/auth/oauth/{provider}/start", get(oauth_start))
        .route(
            "/api/v1/auth/oauth/{provider}/callback",
            get(oauth_callback).post(oauth_callback),
        )
        .route("/api/v1/auth/oauth/{provider}/link", post(oauth_link))
        .route("/api/v1/admin/roles", post(set_role))
        .merge(passkeys::routes())
        .layer(axum::middleware::map_response(retry_after_when_busy))
        .with_state(api)
}

/// A 503 (the password hashing queue is full, a dependency is down) says when to retry.
async fn retry_after_when_busy(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(axum::http::HeaderValue::from_static("1"));
    }
    response
}

pub use nova_auth::Body;

/// The caller, from `Authorization: Bearer <access token>`.
pub struct Caller(pub Principal);

impl FromRequestParts<Api> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        api.verify_access_token(token.trim()).await.map(Caller)
    }
}

/// Address and user agent of the client. The address is nova-runtime's
/// [`ClientAddr`]: forwarding headers count only from `NOVA_TRUSTED_PROXIES`, the same
/// rule as the GraphQL gateway's.
pub struct Client(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = ClientAddr::from_extensions(&parts.extensions).map(|c| c.ip());
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(Client(RequestContext::new(ip, user_agent)))
    }
}

/// Client credentials for Nova services: a short-lived service token.
async fn service_token(
    State(api): State<Api>,
    Body(req): Body<nova_auth::service::ServiceTokenRequest>,
) -> ApiResult<Json<nova_auth::service::ServiceTokenResponse>> {
    let issued = api
        .issue_service_token(&req.service, &req.credential)
        .await?;
    Ok(Json(nova_auth::service::ServiceTokenResponse {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: nova_auth::service::SERVICE_TOKEN_TTL.num_seconds(),
    }))
}

async fn jwks(State(api): State<Api>) -> ApiResult<Response> {
    let body = api.jwks().await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(body),
    )
        .into_response())
}

async fn register(
    State(api): State<Api>,
    Client(ctx): Client,
    edge: Edge,
    Body(req): Body<RegisterRequest>,
) -> ApiResult<Response> {
    // The gateway's `register` budget: the same bucket whichever door is used.
    edge.charge(None, Charge::registrations(1)).await?;
    let account = api.register(req, &ctx).await?;
    Ok((StatusCode::CREATED, Json(account)).into_response())
}

#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

async fn verify_email(
    State(api): State<Api>,
    Body(body): Body<TokenBody>,
) -> ApiResult<StatusCode> {
    api.verify_email(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn resend_verification(State(api): State<Api>, Caller(p): Caller) -> ApiResult<StatusCode> {
    api.resend_verification(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn login(
    State(api): State<Api>,
    Client(ctx): Client,
    edge: Edge,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Response> {
    edge.charge(None, Charge::logins(1)).await?;
    Ok(Json(api.login(req, &ctx).await?).into_response())
}

#[derive(Deserialize)]
struct TwoFactorBody {
    challenge: String,
    code: String,
}

async fn login_two_factor(
    State(api): State<Api>,
    Client(ctx): Client,
    edge: Edge,
    Body(b): Body<TwoFactorBody>,
) -> ApiResult<Response> {
    edge.charge(None, Charge::logins(1)).await?;
    Ok(Json(api.login_two_factor(&b.challenge, &b.code, &ctx).await?).into_response())
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    State(api): State<Api>,
    Client(ctx): Client,
    Body(b): Body<RefreshBody>,
) -> ApiResult<Response> {
    Ok(Json(api.refresh(&b.refresh_token, &ctx).await?).into_response())
}

async fn logout(State(api): State<Api>, Caller(p): Caller) -> ApiResult<StatusCode> {
    api.logout(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout_everywhere(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    let ended = api.logout_everywhere(&p).await?;
    Ok(Json(serde_json::json!({ "ended_sessions": ended })).into_response())
}

async fn me(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    Ok(Json(api.account(&p).await?).into_response())
}

async fn sessions(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    Ok(Json(api.sessions(&p).await?).into_response())
}

async fn revoke_session(
    State(api): State<Api>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = SessionId::parse_field(&id, "id")?;
    api.revoke_session(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(api): State<Api>,
    Caller(p): Caller,
    Body(b): Body<ChangePasswordBody>,
) -> ApiResult<StatusCode> {
    api.change_password(&p, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EmailBody {
    email: String,
}

async fn request_password_reset(
    State(api): State<Api>,
    Client(ctx): Client,
    Body(b): Body<EmailBody>,
) -> ApiResult<StatusCode> {
    api.request_password_reset(&b.email, &ctx).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
struct ResetBody {
    token: String,
    new_password: String,
}

async fn reset_password(State(api): State<Api>, Body(b): Body<ResetBody>) -> ApiResult<StatusCode> {
    api.reset_password(&b.token, &b.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enroll_totp(State(api): State<Api>, Caller(p): Caller) -> ApiResult<Response> {
    Ok(Json(api.enroll_totp(&p).await?).into_response())
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

async fn confirm_totp(
    State(api): State<Api>,
    Caller(p): Caller,
    Body(b): Body<CodeBody>,
) -> ApiResult<Response> {
    let codes = api.confirm_totp(&p, &b.code).await?;
    Ok(Json(serde_json::json!({ "recovery_codes": codes })).into_response())
}

async fn disable_totp(
    State(api): State<Api>,
    Caller(p): Caller,
    Body(b): Body<CodeBody>,
) -> ApiResult<StatusCode> {
    api.disable_totp(&p, &b.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RoleBody {
    user_id: String,
    role: String,
    granted: bool,
    reason: String,
}

/// `POST /api/v1/admin/roles`: an admin grants or revokes a staff role. Anyone else
/// (no token, a bad one, a non-admin) gets exactly what a missing route answers, before
/// the body is read.
async fn set_role(
    State(api): State<Api>,
    caller: Result<Caller, Error>,
    body: axum::body::Bytes,
) -> Response {
    let p = match caller {
        Ok(Caller(p)) if p.has_scope(crate::ROLE_ADMIN) => p,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let answer = async {
        let b: RoleBody = serde_json::from_slice(&body)
            .map_err(|e| Error::invalid("body", format!("is not a valid role change: {e}")))?;
        let user = nova_core::id::parse_uuid(&b.user_id, "user_id")?;
        let changed = api
            .set_role(
                &p,
                nova_core::UserId::from_uuid(user),
                &b.role,
                b.granted,
                &b.reason,
            )
            .await?;
        Ok::<_, Error>(Json(serde_json::json!({ "changed": changed })))
    };
    match answer.await {
        Ok(json) => json.into_response(),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct StartQuery {
    redirect_uri: String,
}

async fn oauth_start(
    State(api): State<Api>,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> ApiResult<Response> {
    Ok(Json(api.oauth_start(&provider, &q.redirect_uri).await?).into_response())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: String,
    state: String,
}

async fn oauth_callback(
    State(api): State<Api>,
    Client(ctx): Client,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    Ok(Json(
        api.oauth_callback(&provider, &q.code, &q.state, &ctx)
            .await?,
    )
    .into_response())
}

#[derive(Deserialize)]
struct LinkBody {
    code: String,
    state: String,
}

/// From account settings: links the provider identity of a finished authorization to
/// the caller's account.
async fn oauth_link(
    State(api): State<Api>,
    Caller(p): Caller,
    Path(provider): Path<String>,
    Body(b): Body<LinkBody>,
) -> ApiResult<StatusCode> {
    api.oauth_link(&p, &provider, &b.code, &b.state).await?;
    Ok(StatusCode::NO_CONTENT)
}
