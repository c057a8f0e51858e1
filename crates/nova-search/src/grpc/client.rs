//! [`SearchGrpcClient`]: [`SearchApi`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::bearer_request;
use nova_core::channel::ServiceChannel;
use nova_core::{Page, Principal, Result};
use nova_proto::nova::search::v1 as pb;
use pb::search_service_client::SearchServiceClient;
use tonic::Request;

use super::page_from_pb;
use crate::api::SearchApi;
use crate::model::{SearchHit, SearchRequest};

/// [`SearchApi`] implemented by calling a remote search-service over gRPC. A viewer is
/// sent as the token given to [`with_token`](Self::with_token); without one the search
/// runs as anonymous.
#[derive(Clone)]
pub struct SearchGrpcClient {
    inner: SearchServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for SearchGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchGrpcClient").finish_non_exhaustive()
    }
}

impl SearchGrpcClient {
    /// Connects to `endpoint` (e.g. `http://search-service:9087`).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: SearchServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` (it shares the connection).
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }
}

#[async_trait]
impl SearchApi for SearchGrpcClient {
    async fn search(
        &self,
        viewer: Option<&Principal>,
        request: SearchRequest,
    ) -> Result<Page<SearchHit>> {
        let message = pb::SearchRequest {
            query: request.query,
            r#type: request.kind.as_str().to_owned(),
            first: request.first,
            after: request.after.unwrap_or_default(),
        };
        let request = match (viewer, self.token.as_deref()) {
            (Some(p), Some(token)) => bearer_request(Some(token), p, message)?,
            _ => Request::new(message),
        };
        page_from_pb(self.inner.clone().search(request).await?.into_inner())
    }
}
