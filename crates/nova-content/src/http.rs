//! REST for content: `/api/v1/posts/*`, `/api/v1/users/{id}/posts`, `/api/v1/bookmarks`.
//! Reads take an optional bearer token (anonymous viewers see public posts); writes need
//! one. Bad input is a 400 naming the field.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::Body;
use nova_auth::{Authenticated, Authenticator, MaybeAuthenticated};
use nova_core::{Error, PostId, UserId};
use serde::Deserialize;

use crate::api::ContentApi;
use crate::model::NewPost;
use crate::store::TimelineKind;

#[derive(Clone)]
struct AppState {
    content: Arc<dyn ContentApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type S = State<AppState>;

/// The content REST routes.
pub fn router(content: Arc<dyn ContentApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/posts", post(create))
        .route("/api/v1/posts/{id}", get(read).patch(edit).delete(remove))
        .route("/api/v1/posts/{id}/thread", get(thread))
        .route("/api/v1/posts/{id}/history", get(history))
        .route("/api/v1/posts/{id}/like", post(like).delete(unlike))
        .route(
            "/api/v1/posts/{id}/bookmark",
            post(bookmark).delete(unbookmark),
        )
        .route("/api/v1/users/{id}/posts", get(timeline))
        .route("/api/v1/bookmarks", get(bookmarks))
        .with_state(AppState { content, auth })
}

fn post_id(raw: &str) -> ApiResult<PostId> {
    PostId::parse_field(raw, "id")
}

#[derive(Deserialize)]
struct PageQuery {
    first: Option<u32>,
    after: Option<String>,
    kind: Option<String>,
}

async fn create(
    State(s): S,
    Authenticated(p): Authenticated,
    Body(new): Body<NewPost>,
) -> ApiResult<Response> {
    let post = s.content.create_post(&p, new).await?;
    Ok((StatusCode::CREATED, Json(post)).into_response())
}

async fn read(
    State(s): S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.content.post(p.as_ref(), post_id(&id)?).await?).into_response())
}

#[derive(Deserialize)]
struct EditBody {
    text: String,
}

async fn edit(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
    Body(b): Body<EditBody>,
) -> ApiResult<Response> {
    Ok(Json(s.content.edit_post(&p, post_id(&id)?, &b.text).await?).into_response())
}

async fn remove(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.content.delete_post(&p, post_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn thread(
    State(s): S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let page = s
        .content
        .thread(
            p.as_ref(),
            post_id(&id)?,
            q.first.unwrap_or(20),
            q.after.as_deref(),
        )
        .await?;
    Ok(Json(page).into_response())
}

async fn history(
    State(s): S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.content.edit_history(p.as_ref(), post_id(&id)?).await?).into_response())
}

async fn like(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let created = s.content.like(&p, post_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "liked": true, "created": created })).into_response())
}

async fn unlike(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.content.unlike(&p, post_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn bookmark(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.content.bookmark(&p, post_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unbookmark(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.content.unbookmark(&p, post_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn timeline(
    State(s): S,
    MaybeAuthenticated(p): MaybeAuthenticated,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let author = UserId::parse_field(&id, "id")?;
    let kind = match q.kind.as_deref().unwrap_or("posts") {
        "posts" => TimelineKind::Posts,
        "replies" => TimelineKind::Replies,
        "media" => TimelineKind::Media,
        _ => return Err(Error::invalid("kind", "must be posts, replies or media")),
    };
    let page = s
        .content
        .author_timeline(
            p.as_ref(),
            author,
            kind,
            q.first.unwrap_or(20),
            q.after.as_deref(),
        )
        .await?;
    Ok(Json(page).into_response())
}

async fn bookmarks(
    State(s): S,
    Authenticated(p): Authenticated,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    Ok(Json(s.content.bookmarks(&p, q.first.unwrap_or(20)).await?).into_response())
}
