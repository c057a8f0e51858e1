//! # nova-e2ee-client
//!
//! The client SDK of Nova's end-to-end encryption, on vodozemac (Olm and Megolm; no
//! cryptography is written here). It talks to the key directory through the
//! [`nova_e2ee::KeyDirectory`] trait — the in-process `KeyDirectoryService` or the gRPC
//! client — and never links sqlx.
//!
//! - [`Device`]: one device's account (Curve25519 + Ed25519 identity), signed one-time and
//!   fallback keys, Olm sessions per peer device, Megolm sessions per conversation; pure
//!   state, no I/O.
//! - [`Client`]: a device plus its directory: publish and replenish keys, track peers'
//!   device lists by version, claim prekeys and start Olm sessions with each of a peer's
//!   devices, encrypt 1:1 messages, share Megolm keys and rotate them when a device leaves
//!   a conversation, read and acknowledge the inbox.
//! - Integrity: Olm plaintexts bind sender and recipient identities (a re-routed
//!   ciphertext is refused as forged); Megolm sessions are bound to the device that shared
//!   them and their conversation; replayed ciphertexts are refused (Olm's ratchet consumes
//!   message keys, Megolm indices are remembered); tampered ciphertexts fail their MAC.
//! - Persistence: [`Device::pickle`] seals the whole state with AES-256-GCM under a
//!   32-byte key the app provides.
//!
//! ```
//! use std::collections::BTreeSet;
//! use nova_core::UserId;
//! use nova_e2ee::{DeviceAddress, DeviceId, EncryptedMessage, KeyKind};
//! use nova_e2ee_client::Device;
//!
//! let ann = DeviceAddress::new(UserId::new(), DeviceId::new("phone")?);
//! let bob = DeviceAddress::new(UserId::new(), DeviceId::new("laptop")?);
//! let (mut a, mut b) = (Device::new(ann.clone()), Device::new(bob.clone()));
//!
//! // Bob publishes keys; Ann claims one (the directory's job, done by hand here).
//! let upload = b.key_upload(1, false);
//! b.mark_published();
//! let claimed = nova_e2ee::ClaimedKey {
//!     device: b.device_keys(),
//!     key: upload.one_time_keys[0].clone(),
//!     kind: KeyKind::OneTime,
//! };
//! a.start_session(&claimed)?;
//! b.add_peer(a.device_keys())?;
//!
//! let out = a.encrypt_to_device(&bob, b"hi Bob")?;
//! let delivered = EncryptedMessage {
//!     id: 1,
//!     sender: ann.clone(),
//!     algorithm: out.algorithm,
//!     session_id: out.session_id.clone(),
//!     ciphertext: out.ciphertext.clone(),
//!     created_at: chrono::Utc::now(),
//! };
//! assert_eq!(b.decrypt(&delivered)?.unwrap().plaintext, b"hi Bob");
//! assert!(b.decrypt(&delivered).is_err(), "a replay is refused");
//!
//! // Persist Bob, encrypted under the app's key.
//! let key = [7u8; 32];
//! let restored = nova_e2ee_client::Device::from_pickle(&b.pickle(&key)?, &key)?;
//! assert_eq!(restored.device_keys(), b.device_keys());
//! assert!(nova_e2ee_client::Device::from_pickle(&b.pickle(&key)?, &[8u8; 32]).is_err());
//! # let _ = BTreeSet::<u8>::new();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod device;
mod error;
mod payload;
mod pickle;

pub use client::{Client, ONE_TIME_KEY_TARGET};
pub use device::{Decrypted, Device};
pub use error::{ClientError, Result};
