//! [`TrendingGrpcClient`]: [`TrendingApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::channel::ServiceChannel;
use nova_core::{Principal, Result};
use nova_proto::nova::ranking::v1 as pb;
use pb::trending_service_client::TrendingServiceClient;

use super::{engagement, ranked_from, review, trend_from};
use crate::api::TrendingApi;
use crate::model::{Engagement, EntityKey, Ranked, ReviewState, Scope, Trend};

/// [`TrendingApi`] implemented by calling a remote ranking-service over gRPC.
///
/// Cloning is cheap and shares the connection. [`review`](TrendingApi::review) sends the
/// token set with [`with_token`](Self::with_token); without one it fails with
/// `Unauthenticated` before any call.
#[derive(Clone)]
pub struct TrendingGrpcClient {
    inner: TrendingServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for TrendingGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrendingGrpcClient").finish_non_exhaustive()
    }
}

impl TrendingGrpcClient {
    /// Connects to `endpoint` (e.g. `http://ranking-service:9092`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: TrendingServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one moderator that sends `access_token` with Review (it shares the
    /// connection).
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn rpc(&self) -> TrendingServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

#[async_trait]
impl TrendingApi for TrendingGrpcClient {
    async fn ingest(&self, events: &[Engagement]) -> Result<usize> {
        let mut counted = 0;
        for chunk in events.chunks(super::MAX_INGEST) {
            let request = pb::IngestRequest {
                events: chunk.iter().map(engagement).collect(),
            };
            counted += self.rpc().ingest(request).await?.into_inner().counted as usize;
        }
        Ok(counted)
    }

    async fn trends(&self, scope: Scope, limit: usize) -> Result<Vec<Trend>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = pb::TrendsRequest {
            scope: scope.key(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        };
        let response = self.rpc().trends(request).await?.into_inner();
        response.trends.iter().map(trend_from).collect()
    }

    async fn top(&self, scope: Scope, window: &str, limit: usize) -> Result<Vec<Ranked>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = pb::TopRequest {
            scope: scope.key(),
            window: window.to_owned(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        };
        let response = self.rpc().top(request).await?.into_inner();
        response.items.iter().map(ranked_from).collect()
    }

    async fn review(&self, by: &Principal, entity: EntityKey, state: ReviewState) -> Result<()> {
        let message = pb::ReviewRequest {
            entity: entity.to_string(),
            state: review(state) as i32,
        };
        let request = bearer_request(self.token.as_deref(), by, message)?;
        self.rpc().review(request).await?;
        Ok(())
    }

    async fn velocity(&self, entity: EntityKey) -> Result<f64> {
        let request = pb::EntityTarget {
            entity: entity.to_string(),
        };
        Ok(self.rpc().velocity(request).await?.into_inner().per_hour)
    }
}
