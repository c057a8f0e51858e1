//! gRPC adapters for [`FeedApi`]: [`FeedGrpcServer`] serves any implementation (normally
//! [`FeedService`](crate::FeedService)) as `nova.feed.v1.FeedService`, and
//! [`FeedGrpcClient`] implements [`FeedApi`] over the network.
//!
//! Calls for a viewer carry the caller's access token (`authorization: Bearer`, plus
//! `nova-session-id`); the server authenticates it with its [`Authenticator`] and acts
//! for the principal *it* verified. The client sends the token given to
//! [`FeedGrpcClient::with_token`]; without one such calls fail with `Unauthenticated`
//! before anything is sent. Explore sends the token when there is one.

use nova_core::error::{GrpcResult, grpc_answer};
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{BoxStream, Stream, StreamExt};
use nova_auth::{
    Authenticator, authenticate_metadata, authenticate_metadata_optional, bearer_request,
};
use nova_core::channel::ServiceChannel;
use nova_core::{Error, PostId, Principal, Result};
use nova_proto::nova::feed::v1 as pb;
use pb::feed_service_client::FeedServiceClient;
use pb::feed_service_server::{FeedService as GrpcFeedService, FeedServiceServer};
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::api::FeedApi;
use crate::model::{FeedItem, FeedMode, FeedPage, FeedReason};

fn mode_to_pb(mode: FeedMode) -> pb::FeedMode {
    match mode {
        FeedMode::Chronological => pb::FeedMode::Chronological,
        FeedMode::Ranked => pb::FeedMode::Ranked,
    }
}

fn mode_from_pb(mode: i32) -> Result<FeedMode> {
    match pb::FeedMode::try_from(mode) {
        Ok(pb::FeedMode::Chronological) => Ok(FeedMode::Chronological),
        Ok(pb::FeedMode::Ranked) => Ok(FeedMode::Ranked),
        Err(_) => Err(Error::invalid("mode", "unknown feed mode")),
    }
}

fn reason_to_pb(reason: FeedReason) -> pb::FeedReason {
    match reason {
        FeedReason::Following => pb::FeedReason::Following,
        FeedReason::Popular => pb::FeedReason::Popular,
        FeedReason::Trending => pb::FeedReason::Trending,
    }
}

fn reason_from_pb(reason: i32) -> Result<FeedReason> {
    match pb::FeedReason::try_from(reason) {
        Ok(pb::FeedReason::Following) => Ok(FeedReason::Following),
        Ok(pb::FeedReason::Popular) => Ok(FeedReason::Popular),
        Ok(pb::FeedReason::Trending) => Ok(FeedReason::Trending),
        Err(_) => Err(Error::internal(format!("unknown feed reason {reason}"))),
    }
}

fn page_to_pb(page: FeedPage) -> Result<pb::FeedPage> {
    let items = page
        .items
        .into_iter()
        .map(|item| {
            Ok(pb::FeedItem {
                access: item
                    .post
                    .access
                    .as_ref()
                    .map(nova_content::grpc::access_to_pb),
                post_json: serde_json::to_vec(&item.post).map_err(Error::internal)?,
                reason: reason_to_pb(item.reason) as i32,
                score: item.score,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(pb::FeedPage {
        items,
        next_cursor: page.next_cursor.unwrap_or_default(),
    })
}

fn page_from_pb(page: pb::FeedPage) -> Result<FeedPage> {
    let items = page
        .items
        .into_iter()
        .map(|item| {
            let mut post: nova_content::model::Post =
                serde_json::from_slice(&item.post_json).map_err(Error::internal)?;
            post.access = match &item.access {
                Some(a) if a.author_id != post.author_id.to_string() => {
                    return Err(Error::internal("feed item: access for another author"));
                }
                Some(a) => Some(nova_content::grpc::access_from_pb(post.author_id, a)),
                None => None,
            };
            Ok(FeedItem {
                post,
                reason: reason_from_pb(item.reason)?,
                score: item.score,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FeedPage {
        items,
        next_cursor: Some(page.next_cursor).filter(|c| !c.is_empty()),
    })
}

fn opt(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// Serves a [`FeedApi`] as the `nova.feed.v1.FeedService` gRPC service.
#[derive(Clone)]
pub struct FeedGrpcServer {
    api: Arc<dyn FeedApi>,
    auth: Arc<dyn Authenticator>,
}

impl FeedGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn FeedApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> FeedServiceServer<Self> {
        FeedServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }
}

type NewPostStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::NewPost, Status>> + Send>>;

#[async_trait]
impl GrpcFeedService for FeedGrpcServer {
    async fn home(&self, request: Request<pb::HomeRequest>) -> GrpcResult<pb::FeedPage> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let r = request.get_ref();
                let page = self
                    .api
                    .home(&p, mode_from_pb(r.mode)?, r.first, opt(&r.after))
                    .await?;
                page_to_pb(page)
            }
            .await,
        )
    }

    async fn catch_up(&self, request: Request<pb::CatchUpRequest>) -> GrpcResult<pb::FeedPage> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                page_to_pb(self.api.catch_up(&p, request.get_ref().first).await?)
            }
            .await,
        )
    }

    async fn explore(&self, request: Request<pb::ExploreRequest>) -> GrpcResult<pb::FeedPage> {
        grpc_answer(
            async {
                let viewer =
                    authenticate_metadata_optional(self.auth.as_ref(), request.metadata()).await?;
                let r = request.get_ref();
                let page = self
                    .api
                    .explore(viewer.as_ref(), r.first, opt(&r.after))
                    .await?;
                page_to_pb(page)
            }
            .await,
        )
    }

    type NewPostsStream = NewPostStream;

    async fn new_posts(
        &self,
        request: Request<pb::NewPostsRequest>,
    ) -> GrpcResult<Self::NewPostsStream> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let ids = self.api.new_posts(&p).await?;
                let stream: NewPostStream = Box::pin(ids.map(|id| {
                    Ok(pb::NewPost {
                        post_id: id.to_string(),
                    })
                }));
                Ok(stream)
            }
            .await,
        )
    }
}

/// [`FeedApi`] implemented by calling a remote feed service over gRPC.
///
/// Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct FeedGrpcClient {
    inner: FeedServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for FeedGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedGrpcClient").finish_non_exhaustive()
    }
}

impl FeedGrpcClient {
    /// Connects to `endpoint` (e.g. `http://feed-service:9084`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: FeedServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` with every call.
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn authed<T>(&self, principal: &Principal, message: T) -> Result<Request<T>> {
        bearer_request(self.token.as_deref(), principal, message)
    }
}

#[async_trait]
impl FeedApi for FeedGrpcClient {
    async fn home(
        &self,
        viewer: &Principal,
        mode: FeedMode,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        let request = self.authed(
            viewer,
            pb::HomeRequest {
                mode: mode_to_pb(mode) as i32,
                first,
                after: after.unwrap_or_default().to_owned(),
            },
        )?;
        page_from_pb(self.inner.clone().home(request).await?.into_inner())
    }

    async fn catch_up(&self, viewer: &Principal, first: u32) -> Result<FeedPage> {
        let request = self.authed(viewer, pb::CatchUpRequest { first })?;
        page_from_pb(self.inner.clone().catch_up(request).await?.into_inner())
    }

    async fn explore(
        &self,
        viewer: Option<&Principal>,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        let message = pb::ExploreRequest {
            first,
            after: after.unwrap_or_default().to_owned(),
        };
        let request = match (viewer, self.token.is_some()) {
            (Some(p), true) => self.authed(p, message)?,
            _ => Request::new(message),
        };
        page_from_pb(self.inner.clone().explore(request).await?.into_inner())
    }

    async fn new_posts(&self, viewer: &Principal) -> Result<BoxStream<'static, PostId>> {
        let request = self.authed(viewer, pb::NewPostsRequest {})?;
        let stream = self.inner.clone().new_posts(request).await?.into_inner();
        Ok(stream
            .filter_map(|m| async move { m.ok().and_then(|m| m.post_id.parse::<PostId>().ok()) })
            .boxed())
    }
}
