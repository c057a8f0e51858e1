//! gRPC adapters for [`KeyDirectory`]: [`KeyDirectoryGrpcServer`] serves any
//! implementation (normally `KeyDirectoryService`) as `nova.e2ee.v1.KeyDirectoryService`,
//! and [`KeyDirectoryGrpcClient`] implements [`KeyDirectory`] over the network, so the
//! client SDK does not care where the directory runs.
//!
//! # Authentication on the wire
//!
//! A [`Principal`] proves nothing across a process boundary: the client sends the
//! caller's access token (`authorization: Bearer <jwt>`), the server resolves it with its
//! [`Authenticator`] (e.g. nova-identity's JWKS-backed verifier) before every call and
//! acts for the principal *it* established.

mod client;
mod convert;

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, Result};
use nova_proto::nova::e2ee::v1 as pb;
use pb::key_directory_service_server::{
    KeyDirectoryService as GrpcKeyDirectory, KeyDirectoryServiceServer,
};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

pub use client::KeyDirectoryGrpcClient;

use crate::api::KeyDirectory;

/// Turns a bearer token into the principal it was issued to (`Unauthenticated` when it
/// does not verify).
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The token's principal.
    async fn authenticate(&self, bearer_token: &str) -> Result<Principal>;
}

type GrpcResult<T> = std::result::Result<Response<T>, Status>;

/// Serves a [`KeyDirectory`] as the `nova.e2ee.v1.KeyDirectoryService` gRPC service.
#[derive(Clone)]
pub struct KeyDirectoryGrpcServer {
    api: Arc<dyn KeyDirectory>,
    auth: Arc<dyn Authenticator>,
}

impl KeyDirectoryGrpcServer {
    /// A server in front of `api`, resolving callers with `auth`.
    pub fn new(api: Arc<dyn KeyDirectory>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service` or a
    /// `tonic::transport::Server`.
    pub fn into_service(self) -> KeyDirectoryServiceServer<Self> {
        KeyDirectoryServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        let unauthenticated = || Error::from_kind(ErrorKind::Unauthenticated);
        let header = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthenticated)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or_else(unauthenticated)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(unauthenticated());
        }
        self.auth.authenticate(token).await
    }

    /// Authenticates, then runs `f` with the principal and the request body.
    async fn call<Req, Resp, F, Fut>(&self, request: Request<Req>, f: F) -> GrpcResult<Resp>
    where
        F: FnOnce(Principal, Req) -> Fut,
        Fut: std::future::Future<Output = Result<Resp>>,
    {
        let result = async {
            let principal = self.principal(request.metadata()).await?;
            f(principal, request.into_inner()).await
        };
        result.await.map(Response::new).map_err(Status::from)
    }
}

#[async_trait]
impl GrpcKeyDirectory for KeyDirectoryGrpcServer {
    async fn upload_keys(
        &self,
        request: Request<pb::UploadKeysRequest>,
    ) -> GrpcResult<pb::KeyCounts> {
        self.call(request, |p, r| async move {
            let (device, upload) = convert::upload_from(r)?;
            self.api
                .upload_keys(&p, &device, upload)
                .await
                .map(convert::counts)
        })
        .await
    }

    async fn get_key_counts(
        &self,
        request: Request<pb::KeyCountsRequest>,
    ) -> GrpcResult<pb::KeyCounts> {
        self.call(request, |p, r| async move {
            let device = convert::device(r.device_id)?;
            self.api.key_counts(&p, &device).await.map(convert::counts)
        })
        .await
    }

    async fn query_devices(
        &self,
        request: Request<pb::QueryDevicesRequest>,
    ) -> GrpcResult<pb::QueryDevicesResponse> {
        self.call(request, |p, r| async move {
            let users = convert::users(&r.user_ids, "user_ids")?;
            let lists = self.api.query_devices(&p, &users).await?;
            Ok(pb::QueryDevicesResponse {
                lists: lists.iter().map(convert::list).collect(),
            })
        })
        .await
    }

    async fn get_device_list_versions(
        &self,
        request: Request<pb::DeviceListVersionsRequest>,
    ) -> GrpcResult<pb::DeviceListVersionsResponse> {
        self.call(request, |p, r| async move {
            let users = convert::users(&r.user_ids, "user_ids")?;
            let versions = self.api.device_list_versions(&p, &users).await?;
            Ok(pb::DeviceListVersionsResponse {
                versions: versions
                    .into_iter()
                    .map(|(u, version)| pb::DeviceListVersion {
                        user_id: u.to_string(),
                        version,
                    })
                    .collect(),
            })
        })
        .await
    }

    async fn claim_keys(
        &self,
        request: Request<pb::ClaimKeysRequest>,
    ) -> GrpcResult<pb::ClaimKeysResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(r.device_id)?;
            let targets = r
                .targets
                .into_iter()
                .map(|t| convert::address_from(Some(t), "targets"))
                .collect::<Result<Vec<_>>>()?;
            let keys = self.api.claim_keys(&p, &device, &targets).await?;
            Ok(pb::ClaimKeysResponse {
                keys: keys.iter().map(convert::claimed).collect(),
            })
        })
        .await
    }

    async fn remove_device(
        &self,
        request: Request<pb::RemoveDeviceRequest>,
    ) -> GrpcResult<pb::RemoveDeviceResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(r.device_id)?;
            self.api.remove_device(&p, &device).await?;
            Ok(pb::RemoveDeviceResponse {})
        })
        .await
    }

    async fn send_message(
        &self,
        request: Request<pb::SendMessageRequest>,
    ) -> GrpcResult<pb::SendMessageResponse> {
        self.call(request, |p, r| async move {
            let message = convert::outgoing_from(r)?;
            let id = self.api.send_message(&p, message).await?;
            Ok(pb::SendMessageResponse { id })
        })
        .await
    }

    async fn get_inbox(&self, request: Request<pb::InboxRequest>) -> GrpcResult<pb::InboxResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(r.device_id)?;
            let messages = self.api.inbox(&p, &device, r.after, r.limit).await?;
            Ok(pb::InboxResponse {
                messages: messages.iter().map(convert::message).collect(),
            })
        })
        .await
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequest>,
    ) -> GrpcResult<pb::AcknowledgeResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(r.device_id)?;
            let removed = self.api.acknowledge(&p, &device, r.up_to).await?;
            Ok(pb::AcknowledgeResponse { removed })
        })
        .await
    }
}
