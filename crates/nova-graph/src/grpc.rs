//! gRPC adapters for [`GraphApi`]: [`GraphGrpcServer`] serves any implementation
//! (normally [`GraphService`](crate::GraphService)) as `nova.graph.v1.GraphService`, and
//! [`GraphGrpcClient`] implements [`GraphApi`] over the network, so callers holding an
//! `Arc<dyn GraphApi>` do not care where the graph runs.
//!
//! The API is internal (service to service) and does no viewer authorization, so
//! graph-service must only be reachable from other Nova services.

mod client;

use nova_core::error::{GrpcResult, cap, grpc_answer};
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_proto::nova::common::v1::PageInfo;
use nova_proto::nova::graph::v1 as pb;
use pb::graph_service_server::{GraphService as GrpcGraphService, GraphServiceServer};
use tonic::Request;

pub use client::GraphGrpcClient;

use crate::api::GraphApi;
use crate::model::{MAX_BATCH, Page};

/// Serves a [`GraphApi`] as the `nova.graph.v1.GraphService` gRPC service.
#[derive(Clone)]
pub struct GraphGrpcServer {
    api: Arc<dyn GraphApi>,
}

impl std::fmt::Debug for GraphGrpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphGrpcServer").finish_non_exhaustive()
    }
}

impl GraphGrpcServer {
    /// A server in front of `api`.
    pub fn new(api: Arc<dyn GraphApi>) -> Self {
        Self { api }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service` or a
    /// `tonic::transport::Server`.
    pub fn into_service(self) -> GraphServiceServer<Self> {
        GraphServiceServer::new(self)
    }
}

fn user(id: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(id, field)
}

fn edge(req: &pb::EdgeRequest) -> Result<(UserId, UserId)> {
    Ok((user(&req.from_id, "from_id")?, user(&req.to_id, "to_id")?))
}

pub(crate) fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn timestamp_from(t: &prost_types::Timestamp, field: &str) -> Result<Timestamp> {
    u32::try_from(t.nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(t.seconds, nanos))
        .ok_or_else(|| Error::invalid(field, "is not a valid timestamp"))
}

fn page(page: Page<UserId>) -> pb::UserPage {
    pb::UserPage {
        user_ids: page.items.iter().map(ToString::to_string).collect(),
        page_info: Some(PageInfo {
            end_cursor: page.end_cursor.unwrap_or_default(),
            has_next_page: page.has_next_page,
        }),
    }
}

fn list_args(req: &pb::ListRequest) -> Result<(UserId, u32, Option<&str>)> {
    let (first, after) = req
        .page
        .as_ref()
        .map_or((0, None), |p| (p.first, Some(p.after.as_str())));
    Ok((
        user(&req.user_id, "user_id")?,
        first,
        after.filter(|a| !a.is_empty()),
    ))
}

fn changed(result: Result<bool>) -> GrpcResult<pb::ChangeResponse> {
    grpc_answer(result.map(|changed| pb::ChangeResponse { changed }))
}

#[async_trait]
impl GrpcGraphService for GraphGrpcServer {
    async fn follow(&self, req: Request<pb::EdgeRequest>) -> GrpcResult<pb::ChangeResponse> {
        let (a, b) = edge(req.get_ref())?;
        changed(self.api.follow(a, b).await)
    }

    async fn unfollow(&self, req: Request<pb::EdgeRequest>) -> GrpcResult<pb::ChangeResponse> {
        let (a, b) = edge(req.get_ref())?;
        changed(self.api.unfollow(a, b).await)
    }

    async fn block(&self, req: Request<pb::EdgeRequest>) -> GrpcResult<pb::ChangeResponse> {
        let (a, b) = edge(req.get_ref())?;
        changed(self.api.block(a, b).await)
    }

    async fn unblock(&self, req: Request<pb::EdgeRequest>) -> GrpcResult<pb::ChangeResponse> {
        let (a, b) = edge(req.get_ref())?;
        changed(self.api.unblock(a, b).await)
    }

    async fn mute(&self, req: Request<pb::MuteRequest>) -> GrpcResult<pb::ChangeResponse> {
        let req = req.into_inner();
        let muter = user(&req.muter_id, "muter_id")?;
        let muted = user(&req.muted_id, "muted_id")?;
        let until = req
            .until
            .as_ref()
            .map(|t| timestamp_from(t, "until"))
            .transpose()?;
        changed(self.api.mute(muter, muted, until, req.reposts_only).await)
    }

    async fn unmute(&self, req: Request<pb::EdgeRequest>) -> GrpcResult<pb::ChangeResponse> {
        let (a, b) = edge(req.get_ref())?;
        changed(self.api.unmute(a, b).await)
    }

    async fn relationships(
        &self,
        req: Request<pb::RelationshipsRequest>,
    ) -> GrpcResult<pb::RelationshipsResponse> {
        cap("pairs", req.get_ref().pairs.len(), MAX_BATCH)?;
        let pairs = req
            .get_ref()
            .pairs
            .iter()
            .map(edge)
            .collect::<Result<Vec<_>>>()?;
        grpc_answer(self.api.relationships(&pairs).await.map(|rels| {
            pb::RelationshipsResponse {
                relationships: rels
                    .into_iter()
                    .map(|r| pb::Relationship {
                        from_id: r.from.to_string(),
                        to_id: r.to.to_string(),
                        following: r.following,
                        followed_by: r.followed_by,
                        blocking: r.blocking,
                        blocked_by: r.blocked_by,
                        muting: r.muting,
                        muting_reposts_only: r.muting_reposts_only,
                    })
                    .collect(),
            }
        }))
    }

    async fn followers(&self, req: Request<pb::ListRequest>) -> GrpcResult<pb::UserPage> {
        let (u, first, after) = list_args(req.get_ref())?;
        grpc_answer(self.api.followers(u, first, after).await.map(page))
    }

    async fn following(&self, req: Request<pb::ListRequest>) -> GrpcResult<pb::UserPage> {
        let (u, first, after) = list_args(req.get_ref())?;
        grpc_answer(self.api.following(u, first, after).await.map(page))
    }

    async fn mutual_follows(&self, req: Request<pb::ListRequest>) -> GrpcResult<pb::UserPage> {
        let (u, first, after) = list_args(req.get_ref())?;
        grpc_answer(self.api.mutual_follows(u, first, after).await.map(page))
    }

    async fn counts(&self, req: Request<pb::CountsRequest>) -> GrpcResult<pb::CountsResponse> {
        cap("user_ids", req.get_ref().user_ids.len(), MAX_BATCH)?;
        let users = req
            .get_ref()
            .user_ids
            .iter()
            .map(|id| user(id, "user_ids"))
            .collect::<Result<Vec<_>>>()?;
        grpc_answer(self.api.counts(&users).await.map(|counts| {
            pb::CountsResponse {
                counts: counts
                    .into_iter()
                    .map(|c| pb::FollowCounts {
                        user_id: c.user.to_string(),
                        followers: c.followers,
                        following: c.following,
                    })
                    .collect(),
            }
        }))
    }

    async fn suggestions(
        &self,
        req: Request<pb::SuggestionsRequest>,
    ) -> GrpcResult<pb::SuggestionsResponse> {
        let u = user(&req.get_ref().user_id, "user_id")?;
        grpc_answer(
            self.api
                .suggestions(u, req.get_ref().limit)
                .await
                .map(|list| pb::SuggestionsResponse {
                    suggestions: list
                        .into_iter()
                        .map(|s| pb::Suggestion {
                            user_id: s.user.to_string(),
                            mutual_connections: s.mutual_connections,
                        })
                        .collect(),
                }),
        )
    }

    async fn blocked_either_way(&self, req: Request<pb::UserRequest>) -> GrpcResult<pb::UserIds> {
        let u = user(&req.get_ref().user_id, "user_id")?;
        grpc_answer(self.api.blocked_either_way(u).await.map(|ids| pb::UserIds {
            user_ids: ids.iter().map(ToString::to_string).collect(),
        }))
    }
}
