//! [`KeyDirectoryGrpcClient`]: [`KeyDirectory`] over the network.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, Result, UserId};
use nova_proto::nova::e2ee::v1 as pb;
use pb::key_directory_service_client::KeyDirectoryServiceClient;
use tonic::Request;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

use super::convert;
use crate::api::KeyDirectory;
use crate::model::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceList, EncryptedMessage, KeyCounts, KeyUpload,
    OutgoingMessage,
};

/// [`KeyDirectory`] implemented by calling a remote key directory over gRPC, acting with
/// one user's access token. Cloning is cheap and shares the connection.
///
/// The server establishes the caller from the token; a `principal` argument naming a
/// different user fails with `PermissionDenied` before anything is sent.
#[derive(Clone)]
pub struct KeyDirectoryGrpcClient {
    inner: KeyDirectoryServiceClient<Channel>,
    authorization: AsciiMetadataValue,
    user: UserId,
}

impl KeyDirectoryGrpcClient {
    /// Connects to `endpoint` (e.g. `http://realtime-chat-service:9086`) for `user`, whose
    /// access token is `token`; `Unavailable` if nothing answers.
    pub async fn connect(endpoint: impl Into<String>, user: UserId, token: &str) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Self::from_channel(channel, user, token)
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: Channel, user: UserId, token: &str) -> Result<Self> {
        let authorization = format!("Bearer {token}")
            .parse()
            .map_err(|_| Error::invalid("token", "not a valid header value"))?;
        Ok(Self {
            inner: KeyDirectoryServiceClient::new(channel),
            authorization,
            user,
        })
    }

    /// Shared as `Arc<dyn KeyDirectory>`.
    pub fn into_shared(self) -> Arc<dyn KeyDirectory> {
        Arc::new(self)
    }

    fn request<T>(&self, principal: &Principal, body: T) -> Result<Request<T>> {
        if principal.user_id != self.user {
            return Err(Error::from_kind(ErrorKind::PermissionDenied));
        }
        let mut request = Request::new(body);
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        Ok(request)
    }
}

#[async_trait]
impl KeyDirectory for KeyDirectoryGrpcClient {
    async fn upload_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        upload: KeyUpload,
    ) -> Result<KeyCounts> {
        let request = self.request(principal, convert::upload(device, &upload))?;
        let counts = self.inner.clone().upload_keys(request).await?.into_inner();
        Ok(convert::counts_from(counts))
    }

    async fn key_counts(&self, principal: &Principal, device: &DeviceId) -> Result<KeyCounts> {
        let body = pb::KeyCountsRequest {
            device_id: device.to_string(),
        };
        let counts = self
            .inner
            .clone()
            .get_key_counts(self.request(principal, body)?)
            .await?;
        Ok(convert::counts_from(counts.into_inner()))
    }

    async fn query_devices(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<DeviceList>> {
        let body = pb::QueryDevicesRequest {
            user_ids: users.iter().map(|u| u.to_string()).collect(),
        };
        let response = self
            .inner
            .clone()
            .query_devices(self.request(principal, body)?)
            .await?;
        response
            .into_inner()
            .lists
            .into_iter()
            .map(convert::list_from)
            .collect()
    }

    async fn device_list_versions(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<(UserId, i64)>> {
        let body = pb::DeviceListVersionsRequest {
            user_ids: users.iter().map(|u| u.to_string()).collect(),
        };
        let response = self
            .inner
            .clone()
            .get_device_list_versions(self.request(principal, body)?)
            .await?;
        response
            .into_inner()
            .versions
            .into_iter()
            .map(|v| Ok((convert::user(&v.user_id, "user_id")?, v.version)))
            .collect()
    }

    async fn claim_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        targets: &[DeviceAddress],
    ) -> Result<Vec<ClaimedKey>> {
        let body = pb::ClaimKeysRequest {
            device_id: device.to_string(),
            targets: targets.iter().map(convert::address).collect(),
        };
        let response = self
            .inner
            .clone()
            .claim_keys(self.request(principal, body)?)
            .await?;
        response
            .into_inner()
            .keys
            .into_iter()
            .map(convert::claimed_from)
            .collect()
    }

    async fn remove_device(&self, principal: &Principal, device: &DeviceId) -> Result<()> {
        let body = pb::RemoveDeviceRequest {
            device_id: device.to_string(),
        };
        self.inner
            .clone()
            .remove_device(self.request(principal, body)?)
            .await?;
        Ok(())
    }

    async fn send_message(&self, principal: &Principal, message: OutgoingMessage) -> Result<i64> {
        let request = self.request(principal, convert::outgoing(&message))?;
        Ok(self
            .inner
            .clone()
            .send_message(request)
            .await?
            .into_inner()
            .id)
    }

    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>> {
        let body = pb::InboxRequest {
            device_id: device.to_string(),
            after,
            limit,
        };
        let response = self
            .inner
            .clone()
            .get_inbox(self.request(principal, body)?)
            .await?;
        response
            .into_inner()
            .messages
            .into_iter()
            .map(convert::message_from)
            .collect()
    }

    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64> {
        let body = pb::AcknowledgeRequest {
            device_id: device.to_string(),
            up_to,
        };
        Ok(self
            .inner
            .clone()
            .acknowledge(self.request(principal, body)?)
            .await?
            .into_inner()
            .removed)
    }
}
