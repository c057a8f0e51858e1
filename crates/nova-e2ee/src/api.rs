//! The key directory API: implemented in-process by
//! `KeyDirectoryService` (feature `server`) and remotely by
//! [`KeyDirectoryGrpcClient`](crate::grpc::KeyDirectoryGrpcClient), so the client SDK holds
//! an `Arc<dyn KeyDirectory>` and does not care where the directory runs.

use async_trait::async_trait;
use nova_core::{Principal, Result, UserId};

use crate::model::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceList, EncryptedMessage, KeyCounts, KeyUpload,
    OutgoingMessage,
};

/// Device keys, prekey claims, device lists and ciphertext relay for end-to-end
/// encryption. The directory only ever holds public keys and ciphertext.
///
/// Every method acts for `principal`: a device is managed only by its owner; claims and
/// messages to a user who blocked the caller are `PermissionDenied`.
#[async_trait]
pub trait KeyDirectory: Send + Sync {
    /// Publishes keys for the caller's `device`: identity keys (first upload; later ones
    /// must be identical), one-time keys and a fallback key, every signature verified.
    /// Returns the device's counts after the upload.
    async fn upload_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        upload: KeyUpload,
    ) -> Result<KeyCounts>;
    /// How many keys the caller's `device` has left on the server.
    async fn key_counts(&self, principal: &Principal, device: &DeviceId) -> Result<KeyCounts>;
    /// Current devices and device-list versions of `users`.
    async fn query_devices(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<DeviceList>>;
    /// Device-list versions of `users` (0 for users without devices), to notice changes
    /// cheaply before re-querying.
    async fn device_list_versions(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<(UserId, i64)>>;
    /// Claims one prekey of each target device for the caller's `device`: a one-time key
    /// (consumed exactly once), else the fallback key. Devices without keys are left out.
    async fn claim_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        targets: &[DeviceAddress],
    ) -> Result<Vec<ClaimedKey>>;
    /// Removes the caller's `device`: its keys are withdrawn and its list version grows.
    async fn remove_device(&self, principal: &Principal, device: &DeviceId) -> Result<()>;
    /// Stores a ciphertext for its recipient devices; returns its id.
    async fn send_message(&self, principal: &Principal, message: OutgoingMessage) -> Result<i64>;
    /// Messages for the caller's `device` with id greater than `after`, oldest first.
    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>>;
    /// Drops the caller's `device`'s messages up to and including `up_to`; returns how many.
    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64>;
}
