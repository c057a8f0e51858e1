//! [`KeyDirectoryService`]: the rules of the key directory (authorization, validation,
//! signature checks, claim semantics) over the [`E2eeStore`] port.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, UserId};
use nova_kv::{InProcessRateLimiter, Quota, RateLimiter};

use crate::api::KeyDirectory;
use crate::keys::{verify_device_keys, verify_signed_key};
use crate::model::{
    ClaimedKey, DeviceAddress, DeviceId, DeviceList, EncryptedMessage, KeyCounts, KeyKind,
    KeyUpload, MAX_BATCH, MAX_DEVICES_PER_USER, MAX_INBOX_PAGE, MAX_ONE_TIME_KEYS_PER_UPLOAD,
    MAX_ONE_TIME_KEYS_TOTAL, OutgoingMessage,
};
use crate::policy::{AllowAll, InteractionPolicy};
use crate::store::{E2eeStore, SqlE2eeStore};
use crate::validate::validate_message;

/// How many one-time keys may be claimed: a client claims one per peer device when it
/// starts a session, so these leave room for that while one account (or a crowd of
/// them) cannot drain a victim's keys (each drained key would force the weaker fallback
/// key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// Keys one user claims, whoever from.
    pub per_claimer: Quota,
    /// Keys one user claims from one other user.
    pub per_pair: Quota,
    /// Keys claimed from one user, by anyone.
    pub per_target: Quota,
}

impl Default for ClaimLimits {
    fn default() -> Self {
        Self {
            per_claimer: Quota::per_hour(100),
            per_pair: Quota::per_hour(10),
            per_target: Quota::per_hour(100),
        }
    }
}

/// The key directory over a store, an interaction policy and a clock.
#[derive(Clone)]
pub struct KeyDirectoryService {
    store: Arc<dyn E2eeStore>,
    policy: Arc<dyn InteractionPolicy>,
    clock: SharedClock,
    limiter: Arc<dyn RateLimiter>,
    claim_limits: ClaimLimits,
}

impl KeyDirectoryService {
    /// Over `store`, letting everyone interact ([`AllowAll`]) on the system clock.
    pub fn new(store: Arc<dyn E2eeStore>) -> Self {
        Self {
            store,
            policy: Arc::new(AllowAll),
            clock: SystemClock::shared(),
            limiter: Arc::new(InProcessRateLimiter::new(SystemClock::shared())),
            claim_limits: ClaimLimits::default(),
        }
    }

    /// Counts key claims with `limiter` (shared by replicas when it is Redis; default
    /// in-process) against `limits`.
    pub fn with_claim_limits(mut self, limiter: Arc<dyn RateLimiter>, limits: ClaimLimits) -> Self {
        self.limiter = limiter;
        self.claim_limits = limits;
        self
    }

    /// Spends `cost` of `key`'s budget, all or nothing; `RateLimited` when short.
    async fn spend(&self, key: &str, quota: &Quota, cost: usize) -> Result<()> {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        if cost > quota.limit || !self.limiter.check_n(key, quota, cost).await?.allowed {
            return Err(Error::new(
                ErrorKind::RateLimited,
                "too many key claims, try again later",
            ));
        }
        Ok(())
    }

    /// Over the SQL store on `db` (already migrated).
    pub fn sql(db: nova_db::Db) -> Self {
        Self::new(Arc::new(SqlE2eeStore::new(db)))
    }

    /// Asks `policy` before handing out keys or storing messages across users.
    pub fn with_policy(mut self, policy: Arc<dyn InteractionPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// Uses `clock` for timestamps.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// `PermissionDenied` unless `viewer` may interact with every user in `targets`.
    async fn check_interaction(
        &self,
        viewer: UserId,
        targets: impl IntoIterator<Item = UserId>,
    ) -> Result<()> {
        let targets: BTreeSet<UserId> = targets.into_iter().filter(|t| *t != viewer).collect();
        for target in targets {
            if !self.policy.can_interact(viewer, target).await? {
                return Err(Error::from_kind(ErrorKind::PermissionDenied));
            }
        }
        Ok(())
    }

    /// The caller's existing device, or `NotFound`.
    async fn own_device(&self, principal: &Principal, device: &DeviceId) -> Result<()> {
        match self.store.device(principal.user_id, device).await? {
            Some(_) => Ok(()),
            None => Err(Error::new(ErrorKind::NotFound, "device: not registered")),
        }
    }
}

fn check_batch<T>(items: &[T], field: &str) -> Result<()> {
    nova_core::error::cap(field, items.len(), MAX_BATCH)
}

#[async_trait]
impl KeyDirectory for KeyDirectoryService {
    async fn upload_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        upload: KeyUpload,
    ) -> Result<KeyCounts> {
        principal.require_scope("write")?;
        let user = principal.user_id;
        let existing = self.store.device(user, device).await?;
        let (keys, is_new) = match (upload.device_keys, existing) {
            (Some(keys), existing) => {
                if keys.user_id != user || keys.device_id != *device {
                    return Err(Error::invalid(
                        "device_keys",
                        "must name the caller and the device",
                    ));
                }
                match existing {
                    Some(stored) if stored != keys => {
                        return Err(Error::new(
                            ErrorKind::Conflict,
                            "device_keys: a device's identity keys cannot change",
                        ));
                    }
                    Some(stored) => (stored, false),
                    None => (keys, true),
                }
            }
            (None, Some(stored)) => (stored, false),
            (None, None) => {
                return Err(Error::invalid(
                    "device_keys",
                    "required on a device's first upload",
                ));
            }
        };
        // Verify everything before writing anything.
        let signer = verify_device_keys(&keys)?;
        if upload.one_time_keys.len() > MAX_ONE_TIME_KEYS_PER_UPLOAD {
            return Err(Error::invalid(
                "one_time_keys",
                format!("at most {MAX_ONE_TIME_KEYS_PER_UPLOAD} per upload"),
            ));
        }
        let ids: BTreeSet<&str> = upload
            .one_time_keys
            .iter()
            .map(|k| k.key_id.as_str())
            .collect();
        if ids.len() != upload.one_time_keys.len() {
            return Err(Error::invalid("one_time_keys", "duplicate key_id"));
        }
        for key in &upload.one_time_keys {
            verify_signed_key(&keys, &signer, KeyKind::OneTime, key, "one_time_keys")?;
        }
        if let Some(key) = &upload.fallback_key {
            verify_signed_key(&keys, &signer, KeyKind::Fallback, key, "fallback_key")?;
        }
        let now = self.clock.now();
        if is_new {
            if self.store.device_count(user).await? >= MAX_DEVICES_PER_USER as u64 {
                return Err(Error::invalid(
                    "device_id",
                    format!("at most {MAX_DEVICES_PER_USER} devices per user"),
                ));
            }
            self.store.insert_device(&keys, now).await?;
        }
        if !upload.one_time_keys.is_empty() {
            self.store
                .add_one_time_keys(
                    user,
                    device,
                    &upload.one_time_keys,
                    MAX_ONE_TIME_KEYS_TOTAL,
                    now,
                )
                .await?;
        }
        if let Some(key) = &upload.fallback_key {
            self.store.set_fallback_key(user, device, key, now).await?;
        }
        self.store.key_counts(user, device).await
    }

    async fn key_counts(&self, principal: &Principal, device: &DeviceId) -> Result<KeyCounts> {
        principal.require_scope("read")?;
        self.own_device(principal, device).await?;
        self.store.key_counts(principal.user_id, device).await
    }

    async fn query_devices(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<DeviceList>> {
        principal.require_scope("read")?;
        check_batch(users, "user_ids")?;
        let mut out = Vec::new();
        let distinct: BTreeSet<UserId> = users.iter().copied().collect();
        for user in distinct {
            let version = self.store.device_list_version(user).await?;
            let visible = user == principal.user_id
                || self.policy.can_interact(principal.user_id, user).await?;
            let devices = if visible {
                self.store.devices(user).await?
            } else {
                Vec::new()
            };
            out.push(DeviceList {
                user_id: user,
                version,
                devices,
            });
        }
        Ok(out)
    }

    async fn device_list_versions(
        &self,
        principal: &Principal,
        users: &[UserId],
    ) -> Result<Vec<(UserId, i64)>> {
        principal.require_scope("read")?;
        check_batch(users, "user_ids")?;
        let mut out = Vec::with_capacity(users.len());
        for user in users.iter().copied().collect::<BTreeSet<_>>() {
            out.push((user, self.store.device_list_version(user).await?));
        }
        Ok(out)
    }

    async fn claim_keys(
        &self,
        principal: &Principal,
        device: &DeviceId,
        targets: &[DeviceAddress],
    ) -> Result<Vec<ClaimedKey>> {
        principal.require_scope("write")?;
        check_batch(targets, "targets")?;
        self.own_device(principal, device).await?;
        let claimer = DeviceAddress::new(principal.user_id, device.clone());
        if targets.contains(&claimer) {
            return Err(Error::invalid(
                "targets",
                "a device cannot claim its own keys",
            ));
        }
        // Blocked pairs (either way) are refused before any budget is spent.
        self.check_interaction(principal.user_id, targets.iter().map(|t| t.user_id))
            .await?;
        let distinct: BTreeSet<&DeviceAddress> = targets.iter().collect();
        let limits = self.claim_limits;
        let me = principal.user_id;
        self.spend(
            &format!("e2ee:claim:{me}"),
            &limits.per_claimer,
            distinct.len(),
        )
        .await?;
        let mut per_user: std::collections::BTreeMap<UserId, usize> = Default::default();
        for target in &distinct {
            if target.user_id != me {
                *per_user.entry(target.user_id).or_default() += 1;
            }
        }
        for (user, n) in per_user {
            self.spend(&format!("e2ee:claim:{me}:{user}"), &limits.per_pair, n)
                .await?;
            self.spend(&format!("e2ee:claimed:{user}"), &limits.per_target, n)
                .await?;
        }
        let now = self.clock.now();
        let mut out = Vec::with_capacity(targets.len());
        for target in distinct {
            if let Some(key) = self.store.claim_key(&claimer, target, now).await? {
                out.push(key);
            }
        }
        Ok(out)
    }

    async fn remove_device(&self, principal: &Principal, device: &DeviceId) -> Result<()> {
        principal.require_scope("write")?;
        if self
            .store
            .remove_device(principal.user_id, device, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::NotFound, "device: not registered"))
        }
    }

    async fn send_message(&self, principal: &Principal, message: OutgoingMessage) -> Result<i64> {
        principal.require_scope("write")?;
        validate_message(&message)?;
        self.own_device(principal, &message.sender_device).await?;
        self.check_interaction(
            principal.user_id,
            message.recipients.iter().map(|r| r.user_id),
        )
        .await?;
        self.store
            .insert_message(principal.user_id, &message, self.clock.now())
            .await
    }

    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<EncryptedMessage>> {
        principal.require_scope("read")?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        self.store
            .inbox(&me, after, limit.clamp(1, MAX_INBOX_PAGE))
            .await
    }

    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64> {
        principal.require_scope("write")?;
        let me = DeviceAddress::new(principal.user_id, device.clone());
        self.store.acknowledge(&me, up_to).await
    }
}
