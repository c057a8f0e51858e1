//! [`SocialGrpcClient`]: [`SocialApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::Page;
use nova_core::channel::ServiceChannel;
use nova_core::{Principal, Result, Timestamp, UserId};
use nova_proto::nova::common::v1::PageRequest;
use nova_proto::nova::social::v1 as pb;
use pb::social_service_client::SocialServiceClient;

use super::convert;
use crate::api::SocialApi;
use crate::model::{BlockList, BlockListId, FollowOutcome, FollowRequest};

/// [`SocialApi`] implemented by calling a remote social service over gRPC.
///
/// Cloning is cheap and shares the connection. Methods taking a `&Principal` send the
/// token set with [`with_token`](Self::with_token); without one they fail with
/// `Unauthenticated` before any call.
#[derive(Clone)]
pub struct SocialGrpcClient {
    inner: SocialServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for SocialGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialGrpcClient").finish_non_exhaustive()
    }
}

impl SocialGrpcClient {
    /// Connects to `endpoint` (e.g. `http://social-service:9093`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: SocialServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` with every call acting for a
    /// principal (it shares the connection).
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn authed<T>(&self, principal: &Principal, message: T) -> Result<tonic::Request<T>> {
        bearer_request(self.token.as_deref(), principal, message)
    }

    fn rpc(&self) -> SocialServiceClient<ServiceChannel> {
        self.inner.clone()
    }

    fn target(
        &self,
        principal: &Principal,
        user: UserId,
    ) -> Result<tonic::Request<pb::UserTarget>> {
        self.authed(
            principal,
            pb::UserTarget {
                user_id: user.to_string(),
            },
        )
    }

    fn list(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<tonic::Request<pb::ListRequest>> {
        let message = pb::ListRequest {
            user_id: user.to_string(),
            page: Some(PageRequest {
                first,
                after: after.unwrap_or_default().to_owned(),
            }),
        };
        match viewer {
            Some(p) => self.authed(p, message),
            None => Ok(tonic::Request::new(message)),
        }
    }
}

#[async_trait]
impl SocialApi for SocialGrpcClient {
    async fn follow(&self, principal: &Principal, target: UserId) -> Result<FollowOutcome> {
        let response = self.rpc().follow(self.target(principal, target)?).await?;
        convert::outcome_from(response.into_inner().outcome)
    }

    async fn unfollow(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.rpc().unfollow(self.target(principal, target)?).await?;
        Ok(())
    }

    async fn remove_follower(&self, principal: &Principal, follower: UserId) -> Result<()> {
        self.rpc()
            .remove_follower(self.target(principal, follower)?)
            .await?;
        Ok(())
    }

    async fn pending_requests(&self, principal: &Principal) -> Result<Vec<FollowRequest>> {
        let request = self.authed(principal, pb::Empty {})?;
        let response = self.rpc().pending_requests(request).await?.into_inner();
        response
            .requests
            .into_iter()
            .map(convert::request_from)
            .collect()
    }

    async fn approve_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        self.rpc()
            .approve_request(self.target(principal, requester)?)
            .await?;
        Ok(())
    }

    async fn deny_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        self.rpc()
            .deny_request(self.target(principal, requester)?)
            .await?;
        Ok(())
    }

    async fn block(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.rpc().block(self.target(principal, target)?).await?;
        Ok(())
    }

    async fn unblock(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.rpc().unblock(self.target(principal, target)?).await?;
        Ok(())
    }

    async fn mute(
        &self,
        principal: &Principal,
        target: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<()> {
        let message = pb::MuteRequest {
            user_id: target.to_string(),
            until: until.map(convert::timestamp),
            reposts_only,
        };
        self.rpc().mute(self.authed(principal, message)?).await?;
        Ok(())
    }

    async fn unmute(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.rpc().unmute(self.target(principal, target)?).await?;
        Ok(())
    }

    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        let request = pb::CanInteractRequest {
            viewer_id: viewer.to_string(),
            target_id: target.to_string(),
        };
        Ok(self.rpc().can_interact(request).await?.into_inner().allowed)
    }

    async fn author_access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<crate::model::AuthorAccess>> {
        let request = pb::AuthorAccessRequest {
            viewer_id: viewer.map(|v| v.to_string()).unwrap_or_default(),
            author_ids: authors.iter().map(ToString::to_string).collect(),
        };
        let entries = self
            .rpc()
            .author_access(request)
            .await?
            .into_inner()
            .entries;
        if entries.len() != authors.len() {
            return Err(convert::bad_response("entries"));
        }
        entries
            .into_iter()
            .zip(authors)
            .map(|(e, author)| {
                if e.author_id != author.to_string() {
                    return Err(convert::bad_response("author_id"));
                }
                Ok(super::access_from_pb(*author, &e))
            })
            .collect()
    }

    async fn can_interact_many(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<bool>> {
        let request = pb::CanInteractManyRequest {
            viewer_id: viewer.to_string(),
            target_ids: targets.iter().map(ToString::to_string).collect(),
        };
        let allowed = self
            .rpc()
            .can_interact_many(request)
            .await?
            .into_inner()
            .allowed;
        if allowed.len() != targets.len() {
            return Err(convert::bad_response("allowed"));
        }
        Ok(allowed)
    }

    async fn can_view(&self, viewer: Option<UserId>, author: UserId) -> Result<bool> {
        let request = pb::CanViewRequest {
            viewer_id: viewer.map(|v| v.to_string()).unwrap_or_default(),
            author_id: author.to_string(),
        };
        Ok(self.rpc().can_view(request).await?.into_inner().allowed)
    }

    async fn followers(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        let request = self.list(viewer, user, first, after)?;
        convert::page_from(self.rpc().followers(request).await?.into_inner())
    }

    async fn following(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        let request = self.list(viewer, user, first, after)?;
        convert::page_from(self.rpc().following(request).await?.into_inner())
    }

    async fn create_block_list(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<BlockList> {
        let message = pb::CreateBlockListRequest {
            name: name.to_owned(),
            description: description.to_owned(),
        };
        let request = self.authed(principal, message)?;
        convert::block_list_from(self.rpc().create_block_list(request).await?.into_inner())
    }

    async fn add_to_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        let message = pb::BlockListMember {
            list_id: list.to_string(),
            user_id: user.to_string(),
        };
        self.rpc()
            .add_to_block_list(self.authed(principal, message)?)
            .await?;
        Ok(())
    }

    async fn remove_from_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        let message = pb::BlockListMember {
            list_id: list.to_string(),
            user_id: user.to_string(),
        };
        self.rpc()
            .remove_from_block_list(self.authed(principal, message)?)
            .await?;
        Ok(())
    }

    async fn subscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        let message = pb::BlockListTarget {
            list_id: list.to_string(),
        };
        self.rpc()
            .subscribe_block_list(self.authed(principal, message)?)
            .await?;
        Ok(())
    }

    async fn unsubscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        let message = pb::BlockListTarget {
            list_id: list.to_string(),
        };
        self.rpc()
            .unsubscribe_block_list(self.authed(principal, message)?)
            .await?;
        Ok(())
    }
}
