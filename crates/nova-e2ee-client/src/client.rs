//! [`Client`]: a [`Device`] plus the key directory it publishes to and claims from.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use nova_core::{Principal, UserId};
use nova_e2ee::{
    DeviceAddress, DeviceId, EncryptedMessage, KeyCounts, KeyDirectory, OutgoingMessage,
};

use crate::device::{Decrypted, Device};
use crate::error::{ClientError, Result};

/// One-time keys a device keeps published.
pub const ONE_TIME_KEY_TARGET: u64 = 50;

/// An end-to-end encrypting client of one device.
pub struct Client {
    directory: Arc<dyn KeyDirectory>,
    principal: Principal,
    device: Device,
    /// Device lists at the version last seen.
    lists: HashMap<UserId, (i64, Vec<DeviceAddress>)>,
    inbox_cursor: i64,
}

impl Client {
    /// Creates a device for `principal` and publishes its keys.
    pub async fn register(
        directory: Arc<dyn KeyDirectory>,
        principal: Principal,
        device_id: DeviceId,
    ) -> Result<Self> {
        let device = Device::new(DeviceAddress::new(principal.user_id, device_id));
        let mut client = Self::with_device(directory, principal, device);
        client.upload(ONE_TIME_KEY_TARGET as usize, true).await?;
        Ok(client)
    }

    /// Restores a device from its encrypted pickle.
    pub fn restore(
        directory: Arc<dyn KeyDirectory>,
        principal: Principal,
        pickle: &[u8],
        key: &[u8; 32],
    ) -> Result<Self> {
        let device = Device::from_pickle(pickle, key)?;
        if device.address().user_id != principal.user_id {
            return Err(ClientError::Pickle);
        }
        Ok(Self::with_device(directory, principal, device))
    }

    fn with_device(directory: Arc<dyn KeyDirectory>, principal: Principal, device: Device) -> Self {
        Self {
            directory,
            principal,
            device,
            lists: HashMap::new(),
            inbox_cursor: 0,
        }
    }

    /// The device state (its pickle is what an app persists).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// This device's address.
    pub fn address(&self) -> &DeviceAddress {
        self.device.address()
    }

    async fn upload(&mut self, one_time: usize, fallback: bool) -> Result<KeyCounts> {
        let upload = self.device.key_upload(one_time, fallback);
        let counts = self
            .directory
            .upload_keys(&self.principal, &self.me().device_id, upload)
            .await?;
        self.device.mark_published();
        Ok(counts)
    }

    fn me(&self) -> DeviceAddress {
        self.device.address().clone()
    }

    /// Tops the published one-time keys up to [`ONE_TIME_KEY_TARGET`] when fewer than
    /// half are left, and republishes a fallback key when it is missing.
    pub async fn replenish(&mut self) -> Result<KeyCounts> {
        let counts = self
            .directory
            .key_counts(&self.principal, &self.me().device_id)
            .await?;
        if counts.one_time_keys * 2 >= ONE_TIME_KEY_TARGET && counts.fallback_key {
            return Ok(counts);
        }
        let missing = ONE_TIME_KEY_TARGET.saturating_sub(counts.one_time_keys) as usize;
        self.upload(missing, !counts.fallback_key).await
    }

    /// Current devices of `users` (this device excluded), re-querying only users whose
    /// device-list version changed. Devices with untrusted keys are left out.
    pub async fn devices_of(&mut self, users: &[UserId]) -> Result<BTreeSet<DeviceAddress>> {
        let versions = self
            .directory
            .device_list_versions(&self.principal, users)
            .await?;
        let stale: Vec<UserId> = versions
            .iter()
            .filter(|(u, v)| self.lists.get(u).is_none_or(|(known, _)| known != v))
            .map(|(u, _)| *u)
            .collect();
        if !stale.is_empty() {
            for list in self
                .directory
                .query_devices(&self.principal, &stale)
                .await?
            {
                let mut addrs = Vec::new();
                for keys in list.devices {
                    let addr = DeviceAddress::new(keys.user_id, keys.device_id.clone());
                    match self.device.add_peer(keys) {
                        Ok(()) => addrs.push(addr),
                        Err(e) => tracing::warn!(error = %e, "skipping a device"),
                    }
                }
                if let Some((_, old)) = self.lists.get(&list.user_id) {
                    for gone in old.iter().filter(|a| !addrs.contains(a)) {
                        self.device.forget_peer(gone);
                    }
                }
                self.lists.insert(list.user_id, (list.version, addrs));
            }
        }
        let me = self.me();
        Ok(users
            .iter()
            .filter_map(|u| self.lists.get(u))
            .flat_map(|(_, addrs)| addrs.iter().cloned())
            .filter(|a| *a != me)
            .collect())
    }

    /// Makes sure an Olm session exists with each of `targets`, claiming prekeys for the
    /// others. Devices without keys (or with untrusted ones) are skipped.
    pub async fn ensure_sessions(&mut self, targets: &BTreeSet<DeviceAddress>) -> Result<()> {
        let missing: Vec<DeviceAddress> = targets
            .iter()
            .filter(|t| !self.device.has_session(t))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let claimed = self
            .directory
            .claim_keys(&self.principal, &self.me().device_id, &missing)
            .await?;
        for key in &claimed {
            if let Err(e) = self.device.start_session(key) {
                tracing::warn!(error = %e, "cannot start a session");
            }
        }
        Ok(())
    }

    /// Encrypts `plaintext` for every device of `user` (one Olm message each).
    pub async fn encrypt_for_user(
        &mut self,
        user: UserId,
        plaintext: &[u8],
    ) -> Result<Vec<OutgoingMessage>> {
        let targets = self.devices_of(&[user]).await?;
        self.ensure_sessions(&targets).await?;
        let mut out = Vec::with_capacity(targets.len());
        for to in &targets {
            if self.device.has_session(to) {
                out.push(self.device.encrypt_to_device(to, plaintext)?);
            }
        }
        Ok(out)
    }

    /// Encrypts `plaintext` for the conversation of `members` (their devices and the
    /// caller's other devices): shares the group key with devices that lack it (Olm), and
    /// rotates the group session when a device left. Key shares come first.
    pub async fn encrypt_for_group(
        &mut self,
        conversation: &str,
        members: &[UserId],
        plaintext: &[u8],
    ) -> Result<Vec<OutgoingMessage>> {
        let mut users = members.to_vec();
        users.push(self.principal.user_id);
        let devices = self.devices_of(&users).await?;
        let needing = self.device.prepare_group(conversation, &devices);
        let needing: BTreeSet<DeviceAddress> = needing.into_iter().collect();
        self.ensure_sessions(&needing).await?;
        let mut out = Vec::new();
        for to in &needing {
            if self.device.has_session(to) {
                out.push(self.device.share_group_key(conversation, to)?);
            }
        }
        out.push(self.device.encrypt_group(conversation, plaintext)?);
        Ok(out)
    }

    /// Hands messages to the key directory for delivery; returns their ids.
    pub async fn send(&self, messages: Vec<OutgoingMessage>) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(messages.len());
        for message in messages {
            ids.push(
                self.directory
                    .send_message(&self.principal, message)
                    .await?,
            );
        }
        Ok(ids)
    }

    /// Decrypts one received message (fetching the sender's keys when unknown).
    /// `Ok(None)` for key shares.
    pub async fn receive(&mut self, message: &EncryptedMessage) -> Result<Option<Decrypted>> {
        if !self.device.knows(&message.sender) {
            self.devices_of(&[message.sender.user_id]).await?;
        }
        self.device.decrypt(message)
    }

    /// Reads this device's inbox, decrypts every message in order and acknowledges them.
    /// Each element is one message's outcome (key shares are absorbed, not returned).
    pub async fn sync(&mut self) -> Result<Vec<Result<Decrypted>>> {
        let me = self.me();
        let batch = self
            .directory
            .inbox(&self.principal, &me.device_id, self.inbox_cursor, 500)
            .await?;
        let mut out = Vec::new();
        for message in &batch {
            match self.receive(message).await {
                Ok(Some(d)) => out.push(Ok(d)),
                Ok(None) => {}
                Err(e) => out.push(Err(e)),
            }
            self.inbox_cursor = message.id;
        }
        if let Some(last) = batch.last() {
            self.directory
                .acknowledge(&self.principal, &me.device_id, last.id)
                .await?;
        }
        Ok(out)
    }
}
