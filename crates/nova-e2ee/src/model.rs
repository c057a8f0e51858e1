//! Plain E2EE types, as the key directory speaks them. Keys and signatures are unpadded
//! base64 (vodozemac's encoding); ciphertexts are opaque bytes the server never opens.

use std::fmt;

use nova_core::{Error, Result, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// Most one-time keys accepted in one upload.
pub const MAX_ONE_TIME_KEYS_PER_UPLOAD: usize = 100;
/// Most unclaimed one-time keys a device may hold on the server.
pub const MAX_ONE_TIME_KEYS_TOTAL: u64 = 200;
/// Most devices a user may have at once.
pub const MAX_DEVICES_PER_USER: usize = 50;
/// Most users in one device query, and most devices in one claim.
pub const MAX_BATCH: usize = 100;
/// Largest ciphertext the server stores for one message (64 KiB).
pub const MAX_CIPHERTEXT_BYTES: usize = 64 * 1024;
/// Most recipient devices of one (Megolm) message.
pub const MAX_RECIPIENTS: usize = 1000;
/// Longest session id accepted in message metadata.
pub const MAX_SESSION_ID_LEN: usize = 128;
/// Most messages returned by one inbox read.
pub const MAX_INBOX_PAGE: u32 = 500;

/// A device of a user, named by its client: 1–64 of `A-Z a-z 0-9 _ -`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates a device id; a bad one is `InvalidArgument` naming `device_id`.
    pub fn new(value: impl Into<String>) -> Result<Self> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(value))
        } else {
            Err(Error::invalid(
                "device_id",
                "must be 1-64 of A-Z a-z 0-9 _ -",
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::new(value)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

/// One device of one user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DeviceAddress {
    /// The user.
    pub user_id: UserId,
    /// Their device.
    pub device_id: DeviceId,
}

impl DeviceAddress {
    /// `user`'s device `device`.
    pub fn new(user_id: UserId, device_id: DeviceId) -> Self {
        Self { user_id, device_id }
    }
}

/// A device's long-term public identity keys, self-signed with its Ed25519 key over
/// [`device_keys_message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKeys {
    /// Owner.
    pub user_id: UserId,
    /// Device.
    pub device_id: DeviceId,
    /// Curve25519 (X25519) identity key, base64.
    pub curve25519: String,
    /// Ed25519 signing key, base64.
    pub ed25519: String,
    /// Ed25519 signature of [`device_keys_message`], base64.
    pub signature: String,
}

/// A one-time or fallback Curve25519 key, signed by its device over [`signed_key_message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedKey {
    /// The client's key id (unique per device), 1–64 base64 characters.
    pub key_id: String,
    /// The Curve25519 public key, base64.
    pub public_key: String,
    /// Ed25519 signature by the device, base64.
    pub signature: String,
}

/// Which kind of prekey a [`SignedKey`] is (part of what is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    /// Consumed by exactly one claim.
    OneTime,
    /// Handed out when the one-time pool is empty; replaced by the device.
    Fallback,
}

/// The bytes a device signs to vouch for its identity keys.
pub fn device_keys_message(
    user: UserId,
    device: &DeviceId,
    curve25519: &str,
    ed25519: &str,
) -> Vec<u8> {
    format!("nova-e2ee/device-keys/v1\n{user}\n{device}\n{curve25519}\n{ed25519}").into_bytes()
}

/// The bytes a device signs to vouch for a one-time or fallback key.
pub fn signed_key_message(
    user: UserId,
    device: &DeviceId,
    kind: KeyKind,
    key_id: &str,
    public_key: &str,
) -> Vec<u8> {
    let kind = match kind {
        KeyKind::OneTime => "one-time",
        KeyKind::Fallback => "fallback",
    };
    format!("nova-e2ee/{kind}-key/v1\n{user}\n{device}\n{key_id}\n{public_key}").into_bytes()
}

/// What a device publishes: its identity keys (required on the first upload, and then
/// unchangeable), new one-time keys, and optionally a new fallback key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUpload {
    /// Identity keys.
    pub device_keys: Option<DeviceKeys>,
    /// New one-time keys (at most [`MAX_ONE_TIME_KEYS_PER_UPLOAD`]).
    pub one_time_keys: Vec<SignedKey>,
    /// A new fallback key, replacing the previous one.
    pub fallback_key: Option<SignedKey>,
}

/// How many keys a device has left on the server, so it knows when to replenish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCounts {
    /// Unclaimed one-time keys.
    pub one_time_keys: u64,
    /// Whether a fallback key is published.
    pub fallback_key: bool,
}

/// A key handed to a claimer to start an Olm session with a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedKey {
    /// The device's identity keys (verify them before use).
    pub device: DeviceKeys,
    /// The prekey (one-time, or the fallback when the pool was empty).
    pub key: SignedKey,
    /// Which one it is.
    pub kind: KeyKind,
}

/// A user's devices at a version of their device list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The user.
    pub user_id: UserId,
    /// Grows on every device added or removed; 0 when the user never had a device.
    pub version: i64,
    /// Current devices.
    pub devices: Vec<DeviceKeys>,
}

/// How a message's ciphertext was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// Olm pre-key message (type 0) to exactly one device.
    OlmPreKey,
    /// Olm normal message (type 1) to exactly one device.
    OlmNormal,
    /// Megolm group message to one or more devices.
    Megolm,
}

impl Algorithm {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::OlmPreKey => "olm.prekey.v1",
            Algorithm::OlmNormal => "olm.normal.v1",
            Algorithm::Megolm => "megolm.v1",
        }
    }

    /// Parses a stored or wire name; unknown is `InvalidArgument` naming `algorithm`.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "olm.prekey.v1" => Ok(Algorithm::OlmPreKey),
            "olm.normal.v1" => Ok(Algorithm::OlmNormal),
            "megolm.v1" => Ok(Algorithm::Megolm),
            _ => Err(Error::invalid("algorithm", "unknown algorithm")),
        }
    }
}

/// A message to store for its recipients: metadata plus ciphertext, never plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The sending device (must be the caller's).
    pub sender_device: DeviceId,
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// Olm or Megolm session id.
    pub session_id: String,
    /// The ciphertext (vodozemac's binary message encoding).
    pub ciphertext: Vec<u8>,
    /// Recipient devices (exactly one for Olm).
    pub recipients: Vec<DeviceAddress>,
}

/// A stored message, as its recipient device reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedMessage {
    /// Position in the server's message log (ascending).
    pub id: i64,
    /// The sending device.
    pub sender: DeviceAddress,
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// Olm or Megolm session id.
    pub session_id: String,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// When the server accepted it.
    pub created_at: Timestamp,
}
