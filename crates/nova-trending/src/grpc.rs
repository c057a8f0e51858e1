//! gRPC adapters for [`TrendingApi`]: [`TrendingGrpcServer`] serves any implementation
//! (normally [`TrendingService`](crate::TrendingService)) as `nova.ranking.v1.TrendingService`,
//! and [`TrendingGrpcClient`] implements [`TrendingApi`] over the network.
//!
//! Ingest, Trends, Top and Velocity are service-to-service calls and take ids. Review acts
//! for a moderator: the server authenticates the caller's token (`authorization: Bearer`)
//! with its [`Authenticator`] and the service checks the `admin` or `moderator` scope of
//! the principal *it* verified. The client sends the token given to
//! [`TrendingGrpcClient::with_token`].

mod client;

use nova_core::error::{GrpcResult, grpc_answer};
use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{Authenticator, authenticate_metadata};
use nova_core::{Error, Result, Timestamp};
use nova_proto::nova::ranking::v1 as pb;
use pb::trending_service_server::{TrendingService as GrpcTrendingService, TrendingServiceServer};
use tonic::Request;
use uuid::Uuid;

pub use client::TrendingGrpcClient;

use crate::api::TrendingApi;
use crate::model::{
    Code, Engagement, EngagementKind, EntityKey, Ranked, ReviewState, Scope, Trend,
};

/// Most events one Ingest call may carry: about 1.2 MB on the wire, well inside tonic's
/// 4 MB message limit (the client chunks bigger batches; the consumer sends a few).
pub const MAX_INGEST: usize = 10_000;

/// Most items a Trends or Top call returns.
pub const MAX_LIMIT: usize = 1_000;

/// Serves a [`TrendingApi`] as the `nova.ranking.v1.TrendingService` gRPC service.
#[derive(Clone)]
pub struct TrendingGrpcServer {
    api: Arc<dyn TrendingApi>,
    auth: Arc<dyn Authenticator>,
}

impl TrendingGrpcServer {
    /// A server in front of `api`, authenticating moderators with `auth`.
    pub fn new(api: Arc<dyn TrendingApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> TrendingServiceServer<Self> {
        TrendingServiceServer::new(self)
    }
}

#[async_trait]
impl GrpcTrendingService for TrendingGrpcServer {
    async fn ingest(&self, request: Request<pb::IngestRequest>) -> GrpcResult<pb::IngestResponse> {
        let result = async {
            let events = request.into_inner().events;
            nova_core::error::cap("events", events.len(), MAX_INGEST)?;
            let events = events
                .iter()
                .map(engagement_from)
                .collect::<Result<Vec<_>>>()?;
            let counted = self.api.ingest(&events).await?;
            Ok(pb::IngestResponse {
                counted: counted as u64,
            })
        };
        grpc_answer(result.await)
    }

    async fn trends(&self, request: Request<pb::TrendsRequest>) -> GrpcResult<pb::TrendsResponse> {
        let r = request.into_inner();
        let result = async {
            let trends = self
                .api
                .trends(scope_from(&r.scope)?, limit(r.limit))
                .await?;
            Ok(pb::TrendsResponse {
                trends: trends.iter().map(trend).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn top(&self, request: Request<pb::TopRequest>) -> GrpcResult<pb::TopResponse> {
        let r = request.into_inner();
        let result = async {
            let top = self
                .api
                .top(scope_from(&r.scope)?, &r.window, limit(r.limit))
                .await?;
            Ok(pb::TopResponse {
                items: top.iter().map(ranked).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn review(&self, request: Request<pb::ReviewRequest>) -> GrpcResult<pb::Empty> {
        let result = async {
            let by = authenticate_metadata(self.auth.as_ref(), request.metadata()).await?;
            let r = request.get_ref();
            let entity = entity_from(&r.entity)?;
            let state = review_from(r.state)?;
            self.api.review(&by, entity, state).await
        };
        grpc_answer(result.await.map(|()| pb::Empty {}))
    }

    async fn velocity(
        &self,
        request: Request<pb::EntityTarget>,
    ) -> GrpcResult<pb::VelocityResponse> {
        let result = async {
            let entity = entity_from(&request.get_ref().entity)?;
            self.api.velocity(entity).await
        };
        grpc_answer(
            result
                .await
                .map(|per_hour| pb::VelocityResponse { per_hour }),
        )
    }
}

/// `0` means the default of 10; more than [`MAX_LIMIT`] is capped.
pub(crate) fn limit(limit: u32) -> usize {
    match limit {
        0 => 10,
        n => (n as usize).min(MAX_LIMIT),
    }
}

pub(crate) fn scope_from(scope: &str) -> Result<Scope> {
    if scope.is_empty() {
        Ok(Scope::Global)
    } else {
        Scope::parse(scope)
    }
}

pub(crate) fn entity_from(entity: &str) -> Result<EntityKey> {
    entity.parse()
}

fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn kind(kind: EngagementKind) -> pb::EngagementKind {
    match kind {
        EngagementKind::View => pb::EngagementKind::View,
        EngagementKind::Like => pb::EngagementKind::Like,
        EngagementKind::Comment => pb::EngagementKind::Comment,
        EngagementKind::Repost => pb::EngagementKind::Repost,
        EngagementKind::Quote => pb::EngagementKind::Quote,
        EngagementKind::Bookmark => pb::EngagementKind::Bookmark,
        EngagementKind::Use => pb::EngagementKind::Use,
    }
}

fn kind_from(value: i32) -> Result<EngagementKind> {
    Ok(match pb::EngagementKind::try_from(value) {
        Ok(pb::EngagementKind::View) => EngagementKind::View,
        Ok(pb::EngagementKind::Like) => EngagementKind::Like,
        Ok(pb::EngagementKind::Comment) => EngagementKind::Comment,
        Ok(pb::EngagementKind::Repost) => EngagementKind::Repost,
        Ok(pb::EngagementKind::Quote) => EngagementKind::Quote,
        Ok(pb::EngagementKind::Bookmark) => EngagementKind::Bookmark,
        Ok(pb::EngagementKind::Use) => EngagementKind::Use,
        _ => return Err(Error::invalid("kind", "an engagement kind is required")),
    })
}

pub(crate) fn review_from(value: i32) -> Result<ReviewState> {
    match pb::ReviewState::try_from(value) {
        Ok(pb::ReviewState::Pending) => Ok(ReviewState::Pending),
        Ok(pb::ReviewState::Approved) => Ok(ReviewState::Approved),
        Ok(pb::ReviewState::Hidden) => Ok(ReviewState::Hidden),
        _ => Err(Error::invalid("state", "pending, approved or hidden")),
    }
}

fn review(state: ReviewState) -> pb::ReviewState {
    match state {
        ReviewState::Pending => pb::ReviewState::Pending,
        ReviewState::Approved => pb::ReviewState::Approved,
        ReviewState::Hidden => pb::ReviewState::Hidden,
    }
}

fn engagement(e: &Engagement) -> pb::Engagement {
    pb::Engagement {
        entity: e.entity.to_string(),
        account: Uuid::from_u128(e.account).to_string(),
        kind: kind(e.kind) as i32,
        at: Some(timestamp(e.at)),
        lang: e.lang.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        region: e.region.map(|c| c.as_str().to_owned()).unwrap_or_default(),
    }
}

fn engagement_from(e: &pb::Engagement) -> Result<Engagement> {
    let at =
        e.at.as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
            .ok_or_else(|| Error::invalid("at", "a timestamp in range is required"))?;
    let code = |value: &str, field: &str| -> Result<Option<Code>> {
        if value.is_empty() {
            return Ok(None);
        }
        Code::new(value)
            .map(Some)
            .ok_or_else(|| Error::invalid(field, "at most 8 ASCII characters"))
    };
    Ok(Engagement {
        entity: entity_from(&e.entity)?,
        account: nova_core::id::parse_uuid(&e.account, "account")?.as_u128(),
        kind: kind_from(e.kind)?,
        at,
        lang: code(&e.lang, "lang")?,
        region: code(&e.region, "region")?,
    })
}

fn trend(t: &Trend) -> pb::Trend {
    pb::Trend {
        entity: t.entity.to_string(),
        score: t.score,
        observed_per_hour: t.observed_per_hour,
        expected_per_hour: t.expected_per_hour,
        accounts: t.accounts,
    }
}

fn trend_from(t: &pb::Trend) -> Result<Trend> {
    Ok(Trend {
        entity: entity_from(&t.entity)?,
        score: t.score,
        observed_per_hour: t.observed_per_hour,
        expected_per_hour: t.expected_per_hour,
        accounts: t.accounts,
    })
}

fn ranked(r: &Ranked) -> pb::Ranked {
    pb::Ranked {
        entity: r.entity.to_string(),
        log_score: r.log_score,
        score: r.score,
    }
}

fn ranked_from(r: &pb::Ranked) -> Result<Ranked> {
    Ok(Ranked {
        entity: entity_from(&r.entity)?,
        log_score: r.log_score,
        score: r.score,
    })
}
