//! What can go wrong on the client.

use nova_e2ee::DeviceAddress;

/// SDK errors. Decryption failures never reveal more than their kind.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The key directory refused or failed.
    #[error("key directory: {0}")]
    Directory(#[from] nova_core::Error),
    /// A group message arrived before its session key (retry once the key is delivered).
    #[error("unknown group session {0}")]
    UnknownGroupSession(String),
    /// This ciphertext was already decrypted once.
    #[error("replayed message")]
    Replay,
    /// The ciphertext does not decrypt (tampered, truncated, or for another session).
    #[error("message does not decrypt")]
    Decryption,
    /// The message's claimed sender or recipient does not match its cryptographic origin.
    #[error("message origin does not match its sender {0:?}")]
    Forged(DeviceAddress),
    /// A published key's signature or identity does not verify.
    #[error("untrusted key of {0:?}")]
    UntrustedKey(DeviceAddress),
    /// No session with the device and no key to start one.
    #[error("no session with {0:?}")]
    NoSession(DeviceAddress),
    /// A pickle does not open with this key, or is malformed.
    #[error("pickle does not open")]
    Pickle,
}

/// Results of the SDK.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
