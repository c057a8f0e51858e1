//! gRPC adapters for [`ContentApi`]: [`ContentGrpcServer`] serves any implementation
//! (normally [`ContentService`](crate::ContentService)) as
//! `nova.content.v1.ContentService`, and [`ContentGrpcClient`] implements
//! [`ContentApi`] over the network.
//!
//! Methods taking a `&Principal` carry the caller's access token
//! (`authorization: Bearer`, plus `nova-session-id`); the server authenticates it with
//! its [`Authenticator`] and acts for the principal *it* verified. The client sends the
//! token given to [`ContentGrpcClient::with_token`]; without one such calls fail with
//! `Unauthenticated` before anything is sent. Reads take the token when there is a
//! viewer (anonymous otherwise).

/// Social's access answer on the wire (it travels with hydrated posts).
pub use nova_social::grpc::{access_from_pb, access_to_pb};

mod client;
mod convert;

use nova_core::error::{GrpcResult, cap, grpc_answer};

pub use crate::service::MAX_GET_POSTS;
use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{Authenticator, authenticate_metadata, authenticate_metadata_optional};
use nova_core::{PostId, Principal, Result, UserId};
use nova_proto::nova::content::v1 as pb;
use pb::content_service_server::{ContentService as GrpcContentService, ContentServiceServer};
use tonic::Request;
use tonic::metadata::MetadataMap;

pub use client::ContentGrpcClient;

use crate::api::ContentApi;
use convert::id_arg;

/// Page size when a request leaves `first` at 0 (the REST default too).
const DEFAULT_PAGE: u32 = 20;

/// Serves a [`ContentApi`] as the `nova.content.v1.ContentService` gRPC service.
#[derive(Clone)]
pub struct ContentGrpcServer {
    api: Arc<dyn ContentApi>,
    auth: Arc<dyn Authenticator>,
}

impl ContentGrpcServer {
    /// A server in front of `content`, authenticating callers with `auth`.
    pub fn new(content: Arc<dyn ContentApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api: content, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> ContentServiceServer<Self> {
        ContentServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }

    /// The caller when the request carries a token; anonymous otherwise.
    async fn viewer(&self, metadata: &MetadataMap) -> Result<Option<Principal>> {
        authenticate_metadata_optional(self.auth.as_ref(), metadata).await
    }

    /// Runs an action on the post named by the request for the authenticated caller.
    async fn on_post<F, Fut, T>(&self, request: Request<pb::PostTarget>, action: F) -> Result<T>
    where
        F: FnOnce(Arc<dyn ContentApi>, Principal, PostId) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let p = self.principal(request.metadata()).await?;
        let post = id_arg(&request.get_ref().post_id, "post_id")?;
        action(self.api.clone(), p, post).await
    }
}

fn changed(result: Result<bool>) -> GrpcResult<pb::ChangedResponse> {
    grpc_answer(result.map(|changed| pb::ChangedResponse { changed }))
}

fn first_or_default(first: u32) -> u32 {
    if first == 0 { DEFAULT_PAGE } else { first }
}

#[async_trait]
impl GrpcContentService for ContentGrpcServer {
    async fn create_post(&self, request: Request<pb::CreatePostRequest>) -> GrpcResult<pb::Post> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let new = convert::new_post_arg(request.into_inner())?;
            self.api.create_post(&p, new).await
        };
        grpc_answer(result.await.map(convert::post))
    }

    async fn get_post(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::Post> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let id = id_arg(&request.get_ref().post_id, "post_id")?;
            self.api.post(viewer.as_ref(), id).await
        };
        grpc_answer(result.await.map(convert::post))
    }

    async fn get_posts(&self, request: Request<pb::GetPostsRequest>) -> GrpcResult<pb::PostList> {
        let result = async {
            cap("post_ids", request.get_ref().post_ids.len(), MAX_GET_POSTS)?;
            let viewer = self.viewer(request.metadata()).await?;
            let ids = request
                .get_ref()
                .post_ids
                .iter()
                .map(|id| id_arg(id, "post_ids"))
                .collect::<Result<Vec<PostId>>>()?;
            self.api.posts(viewer.as_ref(), &ids).await
        };
        grpc_answer(result.await.map(|posts| pb::PostList {
            posts: posts.into_iter().map(convert::post).collect(),
        }))
    }

    async fn edit_post(&self, request: Request<pb::EditPostRequest>) -> GrpcResult<pb::Post> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let r = request.get_ref();
            let id = id_arg(&r.post_id, "post_id")?;
            self.api.edit_post(&p, id, &r.text).await
        };
        grpc_answer(result.await.map(convert::post))
    }

    async fn edit_history(
        &self,
        request: Request<pb::PostTarget>,
    ) -> GrpcResult<pb::EditHistoryResponse> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let id = id_arg(&request.get_ref().post_id, "post_id")?;
            self.api.edit_history(viewer.as_ref(), id).await
        };
        grpc_answer(result.await.map(|edits| pb::EditHistoryResponse {
            edits: edits.into_iter().map(convert::edit).collect(),
        }))
    }

    async fn delete_post(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::Empty> {
        let result = self
            .on_post(request, |api, p, id| async move {
                api.delete_post(&p, id).await
            })
            .await;
        grpc_answer(result.map(|()| pb::Empty {}))
    }

    async fn like(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(request, |api, p, id| async move { api.like(&p, id).await })
                .await,
        )
    }

    async fn unlike(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(
                request,
                |api, p, id| async move { api.unlike(&p, id).await },
            )
            .await,
        )
    }

    async fn bookmark(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(
                request,
                |api, p, id| async move { api.bookmark(&p, id).await },
            )
            .await,
        )
    }

    async fn unbookmark(
        &self,
        request: Request<pb::PostTarget>,
    ) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(
                request,
                |api, p, id| async move { api.unbookmark(&p, id).await },
            )
            .await,
        )
    }

    async fn bookmarks(&self, request: Request<pb::BookmarksRequest>) -> GrpcResult<pb::PostList> {
        let result = async {
            let p = self.principal(request.metadata()).await?;
            let first = first_or_default(request.get_ref().first);
            self.api.bookmarks(&p, first).await
        };
        grpc_answer(result.await.map(|posts| pb::PostList {
            posts: posts.into_iter().map(convert::post).collect(),
        }))
    }

    async fn thread(&self, request: Request<pb::ThreadRequest>) -> GrpcResult<pb::PostPage> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let r = request.into_inner();
            let root = id_arg(&r.root_id, "root_id")?;
            let page = r.page.unwrap_or_default();
            let after = (!page.after.is_empty()).then_some(page.after.as_str());
            self.api
                .thread(viewer.as_ref(), root, first_or_default(page.first), after)
                .await
        };
        grpc_answer(result.await.map(convert::page))
    }

    async fn author_timeline(
        &self,
        request: Request<pb::AuthorTimelineRequest>,
    ) -> GrpcResult<pb::PostPage> {
        let result = async {
            let viewer = self.viewer(request.metadata()).await?;
            let r = request.into_inner();
            let author: UserId = id_arg(&r.author_id, "author_id")?;
            let kind = convert::timeline_kind_arg(r.kind)?;
            let page = r.page.unwrap_or_default();
            let after = (!page.after.is_empty()).then_some(page.after.as_str());
            self.api
                .author_timeline(
                    viewer.as_ref(),
                    author,
                    kind,
                    first_or_default(page.first),
                    after,
                )
                .await
        };
        grpc_answer(result.await.map(convert::page))
    }

    async fn repost(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(
                request,
                |api, p, id| async move { api.repost(&p, id).await },
            )
            .await,
        )
    }

    async fn unrepost(&self, request: Request<pb::PostTarget>) -> GrpcResult<pb::ChangedResponse> {
        changed(
            self.on_post(
                request,
                |api, p, id| async move { api.unrepost(&p, id).await },
            )
            .await,
        )
    }
}
