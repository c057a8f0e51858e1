//! [`RankingGrpcClient`]: [`RankingApi`] over the network.

use async_trait::async_trait;
use nova_core::channel::ServiceChannel;
use nova_core::{Result, UserId};
use nova_proto::nova::ranking::v1 as pb;
use pb::ranking_service_client::RankingServiceClient;

use super::{candidate, explanation_from, ranked_from, viewer};
use crate::api::RankingApi;
use crate::model::{Candidate, RankedItem, Viewer};
use crate::scorer::Explanation;
use crate::store::Interaction;

/// [`RankingApi`] implemented by calling a remote ranking-service over gRPC. Cloning is
/// cheap and shares the connection.
#[derive(Clone)]
pub struct RankingGrpcClient {
    inner: RankingServiceClient<ServiceChannel>,
}

impl std::fmt::Debug for RankingGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RankingGrpcClient").finish_non_exhaustive()
    }
}

impl RankingGrpcClient {
    /// Connects to `endpoint` (e.g. `http://ranking-service:9092`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: RankingServiceClient::new(channel.into()),
        }
    }

    fn rpc(&self) -> RankingServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

#[async_trait]
impl RankingApi for RankingGrpcClient {
    async fn rank(
        &self,
        v: &Viewer,
        candidates: &[Candidate],
        limit: usize,
    ) -> Result<Vec<RankedItem>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = pb::RankRequest {
            viewer: Some(viewer(v)),
            candidates: candidates.iter().map(candidate).collect(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
        };
        let response = self.rpc().rank(request).await?.into_inner();
        response.items.iter().map(ranked_from).collect()
    }

    async fn explain(&self, v: &Viewer, c: &Candidate) -> Result<Explanation> {
        let request = pb::ExplainRequest {
            viewer: Some(viewer(v)),
            candidate: Some(candidate(c)),
        };
        Ok(explanation_from(
            self.rpc().explain(request).await?.into_inner(),
        ))
    }

    async fn record(&self, viewer: UserId, author: UserId, interaction: Interaction) -> Result<()> {
        let request = pb::RecordRequest {
            viewer_id: viewer.to_string(),
            author_id: author.to_string(),
            interaction: match interaction {
                Interaction::Positive => pb::Interaction::Positive,
                Interaction::ShowLess => pb::Interaction::ShowLess,
            } as i32,
        };
        self.rpc().record(request).await?;
        Ok(())
    }
}
