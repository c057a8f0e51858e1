//! gRPC adapters for [`SocialApi`]: [`SocialGrpcServer`] serves any implementation
//! (normally [`SocialService`](crate::SocialService)) as `nova.social.v1.SocialService`,
//! and [`SocialGrpcClient`] implements [`SocialApi`] over the network.
//!
//! Methods taking a `&Principal` carry the caller's access token
//! (`authorization: Bearer`, plus `nova-session-id`); the server authenticates it with
//! its [`Authenticator`] and acts for the principal *it* verified. The client sends the
//! token given to [`SocialGrpcClient::with_token`]; without one such calls fail with
//! `Unauthenticated` before anything is sent. The follower lists take the token when
//! there is one (anonymous otherwise); the `can_*` checks take user ids.

mod client;
mod convert;

use nova_core::error::{GrpcResult, cap, grpc_answer};

/// Most ids one CanInteractMany or AuthorAccess call may carry: the gateway's loaders batch
/// at most 100, content asks for the authors of one batch read (at most 1,000 posts).
pub const MAX_BATCH: usize = 1_000;

/// An [`AuthorAccess`](crate::model::AuthorAccess) on the wire (content carries it
/// with each post it hydrates).
pub fn access_to_pb(a: &crate::model::AuthorAccess) -> pb::AuthorAccessEntry {
    pb::AuthorAccessEntry {
        author_id: a.author.to_string(),
        exists: a.exists,
        can_interact: a.can_interact,
        viewer_follows: a.viewer_follows,
        author_follows_viewer: a.author_follows_viewer,
        author_private: a.author_private,
        viewer_blocks: a.viewer_blocks,
        blocked_by_author: a.blocked_by_author,
        viewer_mutes: a.viewer_mutes,
        mutes_reposts_only: a.mutes_reposts_only,
    }
}

/// An [`AuthorAccess`](crate::model::AuthorAccess) from the wire, for `author`.
pub fn access_from_pb(author: UserId, e: &pb::AuthorAccessEntry) -> crate::model::AuthorAccess {
    crate::model::AuthorAccess {
        author,
        exists: e.exists,
        can_interact: e.can_interact,
        viewer_follows: e.viewer_follows,
        author_follows_viewer: e.author_follows_viewer,
        author_private: e.author_private,
        viewer_blocks: e.viewer_blocks,
        blocked_by_author: e.blocked_by_author,
        viewer_mutes: e.viewer_mutes,
        mutes_reposts_only: e.mutes_reposts_only,
    }
}
use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{Authenticator, authenticate_metadata, authenticate_metadata_optional};
use nova_core::{Error, Principal, Result, UserId};
use nova_proto::nova::social::v1 as pb;
use pb::social_service_server::{SocialService as GrpcSocialService, SocialServiceServer};
use tonic::Request;
use tonic::metadata::MetadataMap;

pub use client::SocialGrpcClient;

use crate::api::SocialApi;
use crate::model::BlockListId;
use convert::id_arg;

/// Serves a [`SocialApi`] as the `nova.social.v1.SocialService` gRPC service.
#[derive(Clone)]
pub struct SocialGrpcServer {
    api: Arc<dyn SocialApi>,
    auth: Arc<dyn Authenticator>,
}

impl SocialGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn SocialApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> SocialServiceServer<Self> {
        SocialServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }

    /// The caller when the request carries a token; anonymous otherwise.
    async fn viewer(&self, metadata: &MetadataMap) -> Result<Option<Principal>> {
        authenticate_metadata_optional(self.auth.as_ref(), metadata).await
    }

    /// Runs an action on the user named by `user_id` for the authenticated caller.
    async fn on_user<F, Fut, T>(&self, request: Request<pb::UserTarget>, action: F) -> Result<T>
    where
        F: FnOnce(Arc<dyn SocialApi>, Principal, UserId) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let p = self.principal(request.metadata()).await?;
        let user = id_arg(&request.get_ref().user_id, "user_id")?;
        action(self.api.clone(), p, user).await
    }
}

fn empty(result: Result<()>) -> GrpcResult<pb::Empty> {
    grpc_answer(result.map(|()| pb::Empty {}))
}

#[async_trait]
impl GrpcSocialService for SocialGrpcServer {
    async fn follow(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::FollowResponse> {
        let result = self
            .on_user(request, |api, p, u| async move { api.follow(&p, u).await })
            .await;
        grpc_answer(result.map(|o| pb::FollowResponse {
            outcome: convert::outcome(o) as i32,
        }))
    }

    async fn unfollow(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(
                request,
                |api, p, u| async move { api.unfollow(&p, u).await },
            )
            .await,
        )
    }

    async fn remove_follower(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(request, |api, p, u| async move {
                api.remove_follower(&p, u).await
            })
            .await,
        )
    }

    async fn pending_requests(
        &self,
        request: Request<pb::Empty>,
    ) -> GrpcResult<pb::PendingRequestsResponse> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let requests = self.api.pending_requests(&p).await?;
            Ok(pb::PendingRequestsResponse {
                requests: requests.into_iter().map(convert::request).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn approve_request(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(request, |api, p, u| async move {
                api.approve_request(&p, u).await
            })
            .await,
        )
    }

    async fn deny_request(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(
                request,
                |api, p, u| async move { api.deny_request(&p, u).await },
            )
            .await,
        )
    }

    async fn block(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(request, |api, p, u| async move { api.block(&p, u).await })
                .await,
        )
    }

    async fn unblock(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(request, |api, p, u| async move { api.unblock(&p, u).await })
                .await,
        )
    }

    async fn mute(&self, request: Request<pb::MuteRequest>) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let user = id_arg(&r.user_id, "user_id")?;
            let until = match &r.until {
                None => None,
                Some(t) => Some(
                    convert::timestamp_from(t)
                        .ok_or_else(|| Error::invalid("until", "is out of range"))?,
                ),
            };
            self.api.mute(&p, user, until, r.reposts_only).await
        };
        empty(result.await)
    }

    async fn unmute(&self, request: Request<pb::UserTarget>) -> GrpcResult<pb::Empty> {
        empty(
            self.on_user(request, |api, p, u| async move { api.unmute(&p, u).await })
                .await,
        )
    }

    async fn can_interact(
        &self,
        request: Request<pb::CanInteractRequest>,
    ) -> GrpcResult<pb::CanInteractResponse> {
        let r = request.into_inner();
        let result = async {
            let viewer = id_arg(&r.viewer_id, "viewer_id")?;
            let target = id_arg(&r.target_id, "target_id")?;
            self.api.can_interact(viewer, target).await
        };
        grpc_answer(
            result
                .await
                .map(|allowed| pb::CanInteractResponse { allowed }),
        )
    }

    async fn can_interact_many(
        &self,
        request: Request<pb::CanInteractManyRequest>,
    ) -> GrpcResult<pb::CanInteractManyResponse> {
        let r = request.into_inner();
        let result = async {
            cap("target_ids", r.target_ids.len(), MAX_BATCH)?;
            let viewer = id_arg(&r.viewer_id, "viewer_id")?;
            let targets = r
                .target_ids
                .iter()
                .map(|t| id_arg(t, "target_ids"))
                .collect::<Result<Vec<UserId>>>()?;
            self.api.can_interact_many(viewer, &targets).await
        };
        grpc_answer(
            result
                .await
                .map(|allowed| pb::CanInteractManyResponse { allowed }),
        )
    }

    async fn author_access(
        &self,
        request: Request<pb::AuthorAccessRequest>,
    ) -> GrpcResult<pb::AuthorAccessResponse> {
        let r = request.into_inner();
        let result = async {
            cap("author_ids", r.author_ids.len(), MAX_BATCH)?;
            let viewer = match r.viewer_id.as_str() {
                "" => None,
                v => Some(id_arg(v, "viewer_id")?),
            };
            let authors = r
                .author_ids
                .iter()
                .map(|a| id_arg(a, "author_ids"))
                .collect::<Result<Vec<UserId>>>()?;
            self.api.author_access(viewer, &authors).await
        };
        grpc_answer(result.await.map(|access| pb::AuthorAccessResponse {
            entries: access.into_iter().map(|a| access_to_pb(&a)).collect(),
        }))
    }

    async fn can_view(
        &self,
        request: Request<pb::CanViewRequest>,
    ) -> GrpcResult<pb::CanViewResponse> {
        let r = request.into_inner();
        let result = async {
            let viewer = match r.viewer_id.as_str() {
                "" => None,
                v => Some(id_arg(v, "viewer_id")?),
            };
            let author = id_arg(&r.author_id, "author_id")?;
            self.api.can_view(viewer, author).await
        };
        grpc_answer(result.await.map(|allowed| pb::CanViewResponse { allowed }))
    }

    async fn followers(&self, request: Request<pb::ListRequest>) -> GrpcResult<pb::UserPage> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let r = request.into_inner();
            let user = id_arg(&r.user_id, "user_id")?;
            let page = r.page.unwrap_or_default();
            let after = (!page.after.is_empty()).then_some(page.after.as_str());
            self.api
                .followers(viewer.as_ref(), user, page.first, after)
                .await
        };
        grpc_answer(result.await.map(convert::page))
    }

    async fn following(&self, request: Request<pb::ListRequest>) -> GrpcResult<pb::UserPage> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let r = request.into_inner();
            let user = id_arg(&r.user_id, "user_id")?;
            let page = r.page.unwrap_or_default();
            let after = (!page.after.is_empty()).then_some(page.after.as_str());
            self.api
                .following(viewer.as_ref(), user, page.first, after)
                .await
        };
        grpc_answer(result.await.map(convert::page))
    }

    async fn create_block_list(
        &self,
        request: Request<pb::CreateBlockListRequest>,
    ) -> GrpcResult<pb::BlockList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            self.api
                .create_block_list(&p, &r.name, &r.description)
                .await
        };
        grpc_answer(result.await.map(convert::block_list))
    }

    async fn add_to_block_list(
        &self,
        request: Request<pb::BlockListMember>,
    ) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let list: BlockListId = id_arg(&r.list_id, "list_id")?;
            self.api
                .add_to_block_list(&p, list, id_arg(&r.user_id, "user_id")?)
                .await
        };
        empty(result.await)
    }

    async fn remove_from_block_list(
        &self,
        request: Request<pb::BlockListMember>,
    ) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.into_inner();
            let list: BlockListId = id_arg(&r.list_id, "list_id")?;
            self.api
                .remove_from_block_list(&p, list, id_arg(&r.user_id, "user_id")?)
                .await
        };
        empty(result.await)
    }

    async fn subscribe_block_list(
        &self,
        request: Request<pb::BlockListTarget>,
    ) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let list: BlockListId = id_arg(&request.get_ref().list_id, "list_id")?;
            self.api.subscribe_block_list(&p, list).await
        };
        empty(result.await)
    }

    async fn unsubscribe_block_list(
        &self,
        request: Request<pb::BlockListTarget>,
    ) -> GrpcResult<pb::Empty> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let list: BlockListId = id_arg(&request.get_ref().list_id, "list_id")?;
            self.api.unsubscribe_block_list(&p, list).await
        };
        empty(result.await)
    }
}
