//! [`ContentGrpcClient`]: [`ContentApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::Page;
use nova_core::channel::ServiceChannel;
use nova_core::{PostId, Principal, Result, UserId};
use nova_proto::nova::common::v1::PageRequest;
use nova_proto::nova::content::v1 as pb;
use pb::content_service_client::ContentServiceClient;

use super::convert;
use crate::api::ContentApi;
use crate::model::{Edit, NewPost, Post};
use crate::store::TimelineKind;

/// [`ContentApi`] implemented by calling a remote content service over gRPC.
///
/// Cloning is cheap and shares the connection. Methods taking a `&Principal` send the
/// token set with [`with_token`](Self::with_token); without one they fail with
/// `Unauthenticated` before any call. Reads with a viewer send it too; anonymous reads
/// send none.
#[derive(Clone)]
pub struct ContentGrpcClient {
    inner: ContentServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for ContentGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentGrpcClient").finish_non_exhaustive()
    }
}

impl ContentGrpcClient {
    /// Connects to `endpoint` (e.g. `http://content-service:9082`); `Unavailable` if the
    /// address is malformed or nothing answers.
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: ContentServiceClient::new(channel.into()),
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

    /// A read: with the viewer's token when there is a viewer, anonymous otherwise.
    fn read<T>(&self, viewer: Option<&Principal>, message: T) -> Result<tonic::Request<T>> {
        match viewer {
            Some(p) => self.authed(p, message),
            None => Ok(tonic::Request::new(message)),
        }
    }

    fn rpc(&self) -> ContentServiceClient<ServiceChannel> {
        self.inner.clone()
    }

    fn target(
        &self,
        principal: &Principal,
        post: PostId,
    ) -> Result<tonic::Request<pb::PostTarget>> {
        self.authed(
            principal,
            pb::PostTarget {
                post_id: post.to_string(),
            },
        )
    }
}

fn page_request(first: u32, after: Option<&str>) -> Option<PageRequest> {
    Some(PageRequest {
        first,
        after: after.unwrap_or_default().to_owned(),
    })
}

#[async_trait]
impl ContentApi for ContentGrpcClient {
    async fn create_post(&self, principal: &Principal, post: NewPost) -> Result<Post> {
        let request = self.authed(principal, convert::new_post(post))?;
        convert::post_from(self.rpc().create_post(request).await?.into_inner())
    }

    async fn post(&self, viewer: Option<&Principal>, id: PostId) -> Result<Post> {
        let request = self.read(
            viewer,
            pb::PostTarget {
                post_id: id.to_string(),
            },
        )?;
        convert::post_from(self.rpc().get_post(request).await?.into_inner())
    }

    async fn posts(&self, viewer: Option<&Principal>, ids: &[PostId]) -> Result<Vec<Post>> {
        let request = self.read(
            viewer,
            pb::GetPostsRequest {
                post_ids: ids.iter().map(ToString::to_string).collect(),
            },
        )?;
        convert::posts_from(self.rpc().get_posts(request).await?.into_inner().posts)
    }

    async fn edit_post(&self, principal: &Principal, id: PostId, text: &str) -> Result<Post> {
        let request = self.authed(
            principal,
            pb::EditPostRequest {
                post_id: id.to_string(),
                text: text.to_owned(),
            },
        )?;
        convert::post_from(self.rpc().edit_post(request).await?.into_inner())
    }

    async fn edit_history(&self, viewer: Option<&Principal>, id: PostId) -> Result<Vec<Edit>> {
        let request = self.read(
            viewer,
            pb::PostTarget {
                post_id: id.to_string(),
            },
        )?;
        let edits = self.rpc().edit_history(request).await?.into_inner().edits;
        edits.into_iter().map(convert::edit_from).collect()
    }

    async fn delete_post(&self, principal: &Principal, id: PostId) -> Result<()> {
        self.rpc().delete_post(self.target(principal, id)?).await?;
        Ok(())
    }

    async fn like(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().like(request).await?.into_inner().changed)
    }

    async fn unlike(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().unlike(request).await?.into_inner().changed)
    }

    async fn repost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().repost(request).await?.into_inner().changed)
    }

    async fn unrepost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().unrepost(request).await?.into_inner().changed)
    }

    async fn bookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().bookmark(request).await?.into_inner().changed)
    }

    async fn unbookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        let request = self.target(principal, id)?;
        Ok(self.rpc().unbookmark(request).await?.into_inner().changed)
    }

    async fn bookmarks(&self, principal: &Principal, first: u32) -> Result<Vec<Post>> {
        let request = self.authed(principal, pb::BookmarksRequest { first })?;
        convert::posts_from(self.rpc().bookmarks(request).await?.into_inner().posts)
    }

    async fn thread(
        &self,
        viewer: Option<&Principal>,
        root: PostId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        let request = self.read(
            viewer,
            pb::ThreadRequest {
                root_id: root.to_string(),
                page: page_request(first, after),
            },
        )?;
        convert::page_from(self.rpc().thread(request).await?.into_inner())
    }

    async fn author_timeline(
        &self,
        viewer: Option<&Principal>,
        author: UserId,
        kind: TimelineKind,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        let request = self.read(
            viewer,
            pb::AuthorTimelineRequest {
                author_id: author.to_string(),
                kind: convert::timeline_kind(kind) as i32,
                page: page_request(first, after),
            },
        )?;
        convert::page_from(self.rpc().author_timeline(request).await?.into_inner())
    }
}
