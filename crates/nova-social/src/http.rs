//! REST under `/api/v1/social/*`, over any [`SocialApi`] (in-process service or gRPC
//! client), the caller authenticated by an [`Authenticator`] from `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | POST, DELETE | `/api/v1/social/follows/{user_id}` | follow (or request) / unfollow (or withdraw) |
//! | GET | `/api/v1/social/requests` | requests awaiting the caller |
//! | POST | `/api/v1/social/requests/{user_id}/approve`, `.../deny` | |
//! | DELETE | `/api/v1/social/followers/{user_id}` | remove a follower |
//! | POST, DELETE | `/api/v1/social/blocks/{user_id}` | |
//! | POST, DELETE | `/api/v1/social/mutes/{user_id}` | body (optional): `{"until"?, "reposts_only"?}` |
//! | GET | `/api/v1/social/users/{id}/followers`, `.../following` | `?first&after`; the caller is optional |
//! | POST | `/api/v1/social/block-lists` | `{"name", "description"?}` |
//! | PUT, DELETE | `/api/v1/social/block-lists/{list_id}/members/{user_id}` | |
//! | PUT, DELETE | `/api/v1/social/block-lists/{list_id}/subscription` | |
//!
//! Bad input is a 400 naming the field; anything the caller may not see is a 404 like
//! something missing.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use nova_auth::Body;
use nova_auth::{Authenticated, Authenticator, MaybeAuthenticated};
use nova_core::Page;
use nova_core::{Error, Timestamp, UserId};
use nova_kv::edge::{Charge, Edge};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::api::SocialApi;
use crate::model::{BlockListId, FollowRequest};

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    social: Arc<dyn SocialApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type S = State<AppState>;

/// The social REST routes.
pub fn router(social: Arc<dyn SocialApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route(
            "/api/v1/social/follows/{user_id}",
            post(follow).delete(unfollow),
        )
        .route("/api/v1/social/requests", get(pending_requests))
        .route("/api/v1/social/requests/{user_id}/approve", post(approve))
        .route("/api/v1/social/requests/{user_id}/deny", post(deny))
        .route(
            "/api/v1/social/followers/{user_id}",
            delete(remove_follower),
        )
        .route(
            "/api/v1/social/blocks/{user_id}",
            post(block).delete(unblock),
        )
        .route("/api/v1/social/mutes/{user_id}", post(mute).delete(unmute))
        .route("/api/v1/social/users/{id}/followers", get(followers))
        .route("/api/v1/social/users/{id}/following", get(following))
        .route("/api/v1/social/block-lists", post(create_block_list))
        .route(
            "/api/v1/social/block-lists/{list_id}/members/{user_id}",
            put(add_to_list).delete(remove_from_list),
        )
        .route(
            "/api/v1/social/block-lists/{list_id}/subscription",
            put(subscribe).delete(unsubscribe),
        )
        .with_state(AppState { social, auth })
}

/// An id from the path; anything else is a 400 naming `field`.
fn id<T: std::str::FromStr>(value: &str, field: &str) -> ApiResult<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be an id (UUID)"))
}

/// A JSON body that may also be left out entirely (then `T::default()`).
struct OptionalBody<T>(T);

impl<St: Send + Sync, T: DeserializeOwned + Default> FromRequest<St> for OptionalBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let empty = !headers.contains_key(axum::http::header::CONTENT_TYPE)
            && headers
                .get(axum::http::header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Ok(Self(T::default()));
        }
        Body::<T>::from_request(req, state)
            .await
            .map(|Body(v)| Self(v))
    }
}

async fn follow(
    State(s): S,
    Authenticated(p): Authenticated,
    edge: Edge,
    Path(u): Path<String>,
) -> ApiResult<Response> {
    // One operation against the caller and the address, as a GraphQL `follow` is.
    edge.charge(Some(p.user_id), Charge::operation()).await?;
    let outcome = s.social.follow(&p, id(&u, "user_id")?).await?;
    Ok(Json(serde_json::json!({ "outcome": outcome })).into_response())
}

async fn unfollow(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.unfollow(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
struct Requests {
    requests: Vec<FollowRequest>,
}

async fn pending_requests(
    State(s): S,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Requests>> {
    let requests = s.social.pending_requests(&p).await?;
    Ok(Json(Requests { requests }))
}

async fn approve(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.approve_request(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deny(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.deny_request(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_follower(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.remove_follower(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn block(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.block(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unblock(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.unblock(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MuteBody {
    #[serde(default)]
    until: Option<Timestamp>,
    #[serde(default)]
    reposts_only: bool,
}

async fn mute(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
    OptionalBody(b): OptionalBody<MuteBody>,
) -> ApiResult<StatusCode> {
    let target: UserId = id(&u, "user_id")?;
    s.social.mute(&p, target, b.until, b.reposts_only).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unmute(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(u): Path<String>,
) -> ApiResult<StatusCode> {
    s.social.unmute(&p, id(&u, "user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `first` and `after` of a list query; a bad `first` is a 400 naming it.
fn page_args(q: &HashMap<String, String>) -> ApiResult<(u32, Option<&str>)> {
    let first = match q.get("first") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid("first", "must be a whole number"))?,
    };
    Ok((first, q.get("after").map(String::as_str)))
}

async fn followers(
    State(s): S,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Path(user): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<UserId>>> {
    let (first, after) = page_args(&q)?;
    let page = s
        .social
        .followers(viewer.as_ref(), id(&user, "id")?, first, after)
        .await?;
    Ok(Json(page))
}

async fn following(
    State(s): S,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Path(user): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<UserId>>> {
    let (first, after) = page_args(&q)?;
    let page = s
        .social
        .following(viewer.as_ref(), id(&user, "id")?, first, after)
        .await?;
    Ok(Json(page))
}

#[derive(Deserialize)]
struct NewList {
    name: String,
    #[serde(default)]
    description: String,
}

async fn create_block_list(
    State(s): S,
    Authenticated(p): Authenticated,
    Body(b): Body<NewList>,
) -> ApiResult<Response> {
    let list = s
        .social
        .create_block_list(&p, &b.name, &b.description)
        .await?;
    Ok((StatusCode::CREATED, Json(list)).into_response())
}

async fn add_to_list(
    State(s): S,
    Authenticated(p): Authenticated,
    Path((list, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let list: BlockListId = id(&list, "list_id")?;
    s.social
        .add_to_block_list(&p, list, id(&user, "user_id")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_from_list(
    State(s): S,
    Authenticated(p): Authenticated,
    Path((list, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let list: BlockListId = id(&list, "list_id")?;
    s.social
        .remove_from_block_list(&p, list, id(&user, "user_id")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn subscribe(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(list): Path<String>,
) -> ApiResult<StatusCode> {
    s.social
        .subscribe_block_list(&p, id(&list, "list_id")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unsubscribe(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(list): Path<String>,
) -> ApiResult<StatusCode> {
    s.social
        .unsubscribe_block_list(&p, id(&list, "list_id")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
