//! # nova-e2ee
//!
//! The server side of Nova's end-to-end encryption: a **key directory** that only ever
//! holds public keys, signatures and ciphertext. Private keys and plaintext stay on the
//! clients (see the `nova-e2ee-client` SDK, built on vodozemac's Olm and Megolm).
//!
//! - Devices publish self-signed identity keys (Curve25519 + Ed25519), signed one-time
//!   keys (at most [`model::MAX_ONE_TIME_KEYS_PER_UPLOAD`] per upload and
//!   [`model::MAX_ONE_TIME_KEYS_TOTAL`] held) and a signed fallback key. Every signature
//!   is verified on upload with vodozemac's Ed25519; unsigned or wrongly signed keys are
//!   rejected, and a device's identity keys never change.
//! - Claims hand out a one-time key exactly once, even under concurrent claims
//!   (`DELETE … RETURNING`; on PostgreSQL with `FOR UPDATE SKIP LOCKED`), else the
//!   fallback key, and record the exchange in `key_exchanges`.
//! - Each user has a device-list version that grows when a device is added or removed;
//!   removing a device withdraws its keys and undelivered messages. Both changes write an
//!   `e2ee.device_list_changed` outbox event in their transaction ([`events`]).
//! - Message metadata (sender device, recipient devices, algorithm, session id,
//!   ciphertext, time) is validated for size and shape: the server parses, never opens,
//!   Olm and Megolm messages.
//! - Authorization: only the owner manages a device; claims and messages towards a user
//!   who blocked the caller are refused through the [`InteractionPolicy`] port.
//!
//! Feature `server` (default) adds the [`KeyDirectoryService`] and its SQL store
//! ([`store::SqlE2eeStore`], PostgreSQL and SQLite). Without it the crate is the model, the
//! [`KeyDirectory`] trait and the gRPC adapters ([`grpc`]) — what a client needs, free of sqlx.

pub mod api;
#[cfg(feature = "server")]
pub mod events;
pub mod grpc;
#[cfg(feature = "server")]
pub mod http;
pub mod keys;
pub mod model;
pub mod policy;
#[cfg(feature = "server")]
mod service;
#[cfg(feature = "server")]
pub mod store;
pub mod validate;

pub use api::KeyDirectory;
pub use model::{
    Algorithm, ClaimedKey, DeviceAddress, DeviceId, DeviceKeys, DeviceList, EncryptedMessage,
    KeyCounts, KeyKind, KeyUpload, OutgoingMessage, SignedKey,
};
pub use policy::{AllowAll, InteractionPolicy};
#[cfg(feature = "server")]
pub use service::{ClaimLimits, KeyDirectoryService};
