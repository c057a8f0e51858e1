//! The E2EE Store port and its SQL adapter.
//!
//! One adapter ([`SqlE2eeStore`]) serves PostgreSQL and SQLite through [`nova_db::on_db!`];
//! the one query that differs is the one-time key claim (PostgreSQL adds
//! `FOR UPDATE SKIP LOCKED`). The conformance suite in `tests/store.rs` runs on both.

mod sql;

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};

pub use sql::SqlE2eeStore;

use crate::model::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceKeys, EncryptedMessage, KeyCounts, OutgoingMessage,
    SignedKey,
};

/// E2EE storage. Every method is one transaction.
#[async_trait]
pub trait E2eeStore: Send + Sync {
    /// A device's identity keys.
    async fn device(&self, user: UserId, device: &DeviceId) -> Result<Option<DeviceKeys>>;
    /// How many devices `user` has.
    async fn device_count(&self, user: UserId) -> Result<u64>;
    /// Registers a device's identity keys and bumps the user's device-list version, with
    /// an `e2ee.device_list_changed` outbox event in the same transaction; returns the new
    /// version. `Conflict` when the device already exists.
    async fn insert_device(&self, keys: &DeviceKeys, now: Timestamp) -> Result<i64>;
    /// Adds one-time keys (a key id already present is kept as it was) unless the device
    /// would then hold more than `max_total`: `InvalidArgument` naming `one_time_keys`.
    async fn add_one_time_keys(
        &self,
        user: UserId,
        device: &DeviceId,
        keys: &[SignedKey],
        max_total: u64,
        now: Timestamp,
    ) -> Result<()>;
    /// Sets (replaces) the device's fallback key.
    async fn set_fallback_key(
        &self,
        user: UserId,
        device: &DeviceId,
        key: &SignedKey,
        now: Timestamp,
    ) -> Result<()>;
    /// Unclaimed one-time keys and whether a fallback key exists.
    async fn key_counts(&self, user: UserId, device: &DeviceId) -> Result<KeyCounts>;
    /// Atomically takes one one-time key of `target` (never the same one twice, even under
    /// concurrent claims), else its fallback key, and records the exchange. `None` when
    /// the device does not exist or has no keys.
    async fn claim_key(
        &self,
        claimer: &DeviceAddress,
        target: &DeviceAddress,
        now: Timestamp,
    ) -> Result<Option<ClaimedKey>>;
    /// Current devices of `user`, by device id.
    async fn devices(&self, user: UserId) -> Result<Vec<DeviceKeys>>;
    /// `user`'s device-list version (0 if never set).
    async fn device_list_version(&self, user: UserId) -> Result<i64>;
    /// Deletes a device with its keys and undelivered messages and bumps the user's
    /// device-list version (with its outbox event); `false` when it did not exist.
    async fn remove_device(&self, user: UserId, device: &DeviceId, now: Timestamp) -> Result<bool>;
    /// Stores a message from `sender` for its recipients; returns its id.
    async fn insert_message(
        &self,
        sender: UserId,
        message: &OutgoingMessage,
        now: Timestamp,
    ) -> Result<i64>;
    /// A device's messages with id greater than `after`, oldest first.
    async fn inbox(
        &self,
        device: &DeviceAddress,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>>;
    /// Deletes the device's inbox entries up to `up_to` (and messages nobody else still
    /// has to read); returns how many entries.
    async fn acknowledge(&self, device: &DeviceAddress, up_to: i64) -> Result<u64>;
}
