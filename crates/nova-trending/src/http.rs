//! REST over any [`TrendingApi`] (in-process service or gRPC client). Public: no caller
//! needed.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/api/v1/trending?scope=&window=&limit=` | without `window`: what is trending (`{"trends": [...]}`); with it: the most engaged-with in that window (`{"top": [...]}`) |
//!
//! `scope` is `global` (default), `lang:en` or `region:US`; `limit` 1–1000 (default 10).
//! Entities are `kind:hexid` strings. Bad input is a 400 naming the parameter.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use nova_core::Error;
use serde::{Deserialize, Serialize};

use crate::api::TrendingApi;
use crate::grpc::{MAX_LIMIT, scope_from};

/// The query of `GET /api/v1/trending`.
#[derive(Debug, Deserialize)]
struct TrendingQuery {
    #[serde(default)]
    scope: String,
    window: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct TrendJson {
    entity: String,
    score: f64,
    observed_per_hour: f64,
    expected_per_hour: f64,
    accounts: u64,
}

#[derive(Serialize)]
struct RankedJson {
    entity: String,
    score: f64,
    log_score: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Answer {
    Trends(Vec<TrendJson>),
    Top(Vec<RankedJson>),
}

#[derive(Serialize)]
struct Body {
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<String>,
    #[serde(flatten)]
    answer: Answer,
}

/// The trending REST routes.
pub fn router(api: Arc<dyn TrendingApi>) -> Router {
    Router::new()
        .route("/api/v1/trending", get(trending))
        .with_state(api)
}

async fn trending(
    State(api): State<Arc<dyn TrendingApi>>,
    Query(q): Query<TrendingQuery>,
) -> Result<Json<Body>, Error> {
    let scope = scope_from(&q.scope)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("between 1 and {MAX_LIMIT}"),
        ));
    }
    let answer = match &q.window {
        None => Answer::Trends(
            api.trends(scope, limit)
                .await?
                .into_iter()
                .map(|t| TrendJson {
                    entity: t.entity.to_string(),
                    score: t.score,
                    observed_per_hour: t.observed_per_hour,
                    expected_per_hour: t.expected_per_hour,
                    accounts: t.accounts,
                })
                .collect(),
        ),
        Some(window) => Answer::Top(
            api.top(scope, window, limit)
                .await?
                .into_iter()
                .map(|r| RankedJson {
                    entity: r.entity.to_string(),
                    score: r.score,
                    log_score: r.log_score,
                })
                .collect(),
        ),
    };
    Ok(Json(Body {
        scope: scope.key(),
        window: q.window,
        answer,
    }))
}
