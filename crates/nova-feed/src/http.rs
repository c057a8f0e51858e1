//! REST under `/api/v1/feed/*`, over any [`FeedApi`] (in-process service or gRPC
//! client), the caller authenticated by an [`Authenticator`] from `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/api/v1/feed/home` | `?mode=chronological\|ranked&first&after`; the caller's home timeline |
//! | GET | `/api/v1/feed/catch-up` | `?first`; what the caller missed since their last visit, ranked |
//! | GET | `/api/v1/feed/explore` | `?first&after`; trending posts, the caller optional |
//!
//! Responses are a [`FeedPage`]: `{"items": [{"post", "reason", "score"}], "next_cursor"}`.
//! Bad input is a 400 naming the field.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nova_auth::{Authenticated, Authenticator, MaybeAuthenticated};
use nova_core::Error;

use crate::api::FeedApi;
use crate::model::{FeedMode, FeedPage};

#[derive(Clone)]
struct AppState {
    feed: Arc<dyn FeedApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;
type Q = Query<HashMap<String, String>>;

/// The feed REST routes.
pub fn router(feed: Arc<dyn FeedApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/feed/home", get(home))
        .route("/api/v1/feed/catch-up", get(catch_up))
        .route("/api/v1/feed/explore", get(explore))
        .with_state(AppState { feed, auth })
}

fn first(q: &HashMap<String, String>) -> ApiResult<u32> {
    match q.get("first") {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid("first", "must be a whole number")),
    }
}

/// `chronological` (default) or `ranked`.
pub fn parse_mode(value: Option<&str>) -> ApiResult<FeedMode> {
    match value {
        None | Some("" | "chronological") => Ok(FeedMode::Chronological),
        Some("ranked") => Ok(FeedMode::Ranked),
        Some(_) => Err(Error::invalid("mode", "must be chronological or ranked")),
    }
}

async fn home(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<FeedPage>> {
    let mode = parse_mode(q.get("mode").map(String::as_str))?;
    let page = s
        .feed
        .home(&p, mode, first(&q)?, q.get("after").map(String::as_str))
        .await?;
    Ok(Json(page))
}

async fn catch_up(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Query(q): Q,
) -> ApiResult<Json<FeedPage>> {
    Ok(Json(s.feed.catch_up(&p, first(&q)?).await?))
}

async fn explore(
    State(s): State<AppState>,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Query(q): Q,
) -> ApiResult<Json<FeedPage>> {
    let page = s
        .feed
        .explore(
            viewer.as_ref(),
            first(&q)?,
            q.get("after").map(String::as_str),
        )
        .await?;
    Ok(Json(page))
}
