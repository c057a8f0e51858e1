//! [`GraphGrpcClient`]: [`GraphApi`] over the network.

use async_trait::async_trait;
use nova_core::channel::ServiceChannel;
use nova_core::{Error, Result, Timestamp, UserId};
use nova_proto::nova::common::v1::PageRequest;
use nova_proto::nova::graph::v1 as pb;
use pb::graph_service_client::GraphServiceClient;

use super::timestamp;
use crate::api::GraphApi;
use crate::model::{FollowCounts, Page, Relationship, Suggestion};

/// [`GraphApi`] implemented by calling a remote graph service over gRPC. Cloning is cheap
/// and shares the connection.
#[derive(Debug, Clone)]
pub struct GraphGrpcClient {
    inner: GraphServiceClient<ServiceChannel>,
}

/// Ids in a response are the server's: a malformed one is the server's fault.
fn id(s: &str) -> Result<UserId> {
    UserId::parse_field(s, "user_id").map_err(Error::internal)
}

fn edge(from: UserId, to: UserId) -> pb::EdgeRequest {
    pb::EdgeRequest {
        from_id: from.to_string(),
        to_id: to.to_string(),
    }
}

fn list(user: UserId, first: u32, after: Option<&str>) -> pb::ListRequest {
    pb::ListRequest {
        user_id: user.to_string(),
        page: Some(PageRequest {
            first,
            after: after.unwrap_or_default().to_owned(),
        }),
    }
}

fn page(page: pb::UserPage) -> Result<Page<UserId>> {
    let info = page.page_info.unwrap_or_default();
    Ok(Page {
        items: page.user_ids.iter().map(|s| id(s)).collect::<Result<_>>()?,
        end_cursor: Some(info.end_cursor).filter(|c| !c.is_empty()),
        has_next_page: info.has_next_page,
    })
}

impl GraphGrpcClient {
    /// Connects to `endpoint` (e.g. `http://graph-service:9091`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel (e.g. `Endpoint::connect_lazy()`).
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: GraphServiceClient::new(channel.into()),
        }
    }

    fn client(&self) -> GraphServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

#[async_trait]
impl GraphApi for GraphGrpcClient {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        let reply = self.client().follow(edge(follower, followee)).await?;
        Ok(reply.into_inner().changed)
    }

    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        let reply = self.client().unfollow(edge(follower, followee)).await?;
        Ok(reply.into_inner().changed)
    }

    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let reply = self.client().block(edge(blocker, blocked)).await?;
        Ok(reply.into_inner().changed)
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let reply = self.client().unblock(edge(blocker, blocked)).await?;
        Ok(reply.into_inner().changed)
    }

    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<bool> {
        let req = pb::MuteRequest {
            muter_id: muter.to_string(),
            muted_id: muted.to_string(),
            until: until.map(timestamp),
            reposts_only,
        };
        Ok(self.client().mute(req).await?.into_inner().changed)
    }

    async fn unmute(&self, muter: UserId, muted: UserId) -> Result<bool> {
        let reply = self.client().unmute(edge(muter, muted)).await?;
        Ok(reply.into_inner().changed)
    }

    async fn relationships(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<Relationship>> {
        let req = pb::RelationshipsRequest {
            pairs: pairs.iter().map(|&(a, b)| edge(a, b)).collect(),
        };
        let reply = self.client().relationships(req).await?.into_inner();
        reply
            .relationships
            .iter()
            .map(|r| {
                Ok(Relationship {
                    from: id(&r.from_id)?,
                    to: id(&r.to_id)?,
                    following: r.following,
                    followed_by: r.followed_by,
                    blocking: r.blocking,
                    blocked_by: r.blocked_by,
                    muting: r.muting,
                    muting_reposts_only: r.muting_reposts_only,
                })
            })
            .collect()
    }

    async fn followers(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        page(
            self.client()
                .followers(list(user, first, after))
                .await?
                .into_inner(),
        )
    }

    async fn following(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        page(
            self.client()
                .following(list(user, first, after))
                .await?
                .into_inner(),
        )
    }

    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        let req = pb::CountsRequest {
            user_ids: users.iter().map(ToString::to_string).collect(),
        };
        let reply = self.client().counts(req).await?.into_inner();
        reply
            .counts
            .iter()
            .map(|c| {
                Ok(FollowCounts {
                    user: id(&c.user_id)?,
                    followers: c.followers,
                    following: c.following,
                })
            })
            .collect()
    }

    async fn mutual_follows(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        let reply = self
            .client()
            .mutual_follows(list(user, first, after))
            .await?;
        page(reply.into_inner())
    }

    async fn suggestions(&self, user: UserId, limit: u32) -> Result<Vec<Suggestion>> {
        let req = pb::SuggestionsRequest {
            user_id: user.to_string(),
            limit,
        };
        let reply = self.client().suggestions(req).await?.into_inner();
        reply
            .suggestions
            .iter()
            .map(|s| {
                Ok(Suggestion {
                    user: id(&s.user_id)?,
                    mutual_connections: s.mutual_connections,
                })
            })
            .collect()
    }

    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        let req = pb::UserRequest {
            user_id: user.to_string(),
        };
        let reply = self.client().blocked_either_way(req).await?.into_inner();
        reply.user_ids.iter().map(|s| id(s)).collect()
    }
}
