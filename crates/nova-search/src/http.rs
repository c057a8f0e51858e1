//! REST over any [`SearchApi`], the caller optional (anonymous viewers see public posts
//! of public accounts only).
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/api/v1/search?q=&type=users\|posts\|hashtags&first=&after=` | one page: `{"items": [...], "end_cursor", "has_next_page"}` |
//!
//! Bad input is a 400 naming the parameter (`type`, `first`, `after`, `q`, `before`, ...).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nova_auth::{Authenticator, MaybeAuthenticated};
use nova_core::{Error, Page};

use crate::api::SearchApi;
use crate::model::{SearchHit, SearchKind, SearchRequest};

#[derive(Clone)]
struct AppState {
    search: Arc<dyn SearchApi>,
    auth: Arc<dyn Authenticator>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

/// The search REST routes.
pub fn router(search: Arc<dyn SearchApi>, auth: Arc<dyn Authenticator>) -> Router {
    Router::new()
        .route("/api/v1/search", get(search_route))
        .with_state(AppState { search, auth })
}

async fn search_route(
    State(s): State<AppState>,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Page<SearchHit>>, Error> {
    let kind = SearchKind::parse(q.get("type").map_or("", String::as_str))?;
    let first = match q.get("first") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| Error::invalid("first", "must be a whole number"))?,
    };
    let request = SearchRequest {
        query: q.get("q").cloned().unwrap_or_default(),
        kind,
        first,
        after: q.get("after").filter(|a| !a.is_empty()).cloned(),
    };
    Ok(Json(s.search.search(viewer.as_ref(), request).await?))
}
