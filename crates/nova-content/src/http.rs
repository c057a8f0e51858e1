//! REST for content: `/api/v1/posts/*`, `/api/v1/users/{id}/posts`, `/api/v1/bookmarks`,
//! `/api/v1/social/reposts/{post_id}` (POST, DELETE: `{"changed": bool}`).
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
use nova_kv::edge::{Charge, Edge};
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
        // Reposts moved here from social with the post they point at; the path stays.
        .route(
            "/api/v1/social/reposts/{post_id}",
            post(repost).delete(unrepost),
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
    edge: Edge,
    Body(new): Body<NewPost>,
) -> ApiResult<Response> {
    // The gateway's post-creation budget: one bucket for GraphQL and REST.
    edge.charge(Some(p.user_id), Charge::posts(1)).await?;
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
    edge: Edge,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    edge.charge(Some(p.user_id), Charge::operation()).await?;
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

async fn repost(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(post): Path<String>,
) -> ApiResult<Response> {
    let post = PostId::parse_field(&post, "post_id")?;
    let changed = s.content.repost(&p, post).await?;
    let status = if changed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(serde_json::json!({ "changed": changed }))).into_response())
}

async fn unrepost(
    State(s): S,
    Authenticated(p): Authenticated,
    Path(post): Path<String>,
) -> ApiResult<Response> {
    let post = PostId::parse_field(&post, "post_id")?;
    let changed = s.content.unrepost(&p, post).await?;
    Ok(Json(serde_json::json!({ "changed": changed })).into_response())
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
