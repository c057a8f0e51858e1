//! What travels inside Olm and Megolm ciphertexts. Binding sender and recipient identities
//! into the plaintext stops a server from re-routing a ciphertext to someone else.

use nova_e2ee::DeviceAddress;
use serde::{Deserialize, Serialize};

/// The plaintext of every Olm message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OlmPayload {
    pub sender: DeviceAddress,
    pub sender_ed25519: String,
    pub recipient: DeviceAddress,
    pub recipient_ed25519: String,
    pub body: OlmBody,
}

/// What an Olm message carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum OlmBody {
    /// An application message (1:1).
    Message(Vec<u8>),
    /// A Megolm session key for a conversation.
    RoomKey {
        conversation: String,
        session_id: String,
        session_key: String,
    },
}

/// The plaintext of every Megolm message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GroupPayload {
    pub conversation: String,
    pub sender: DeviceAddress,
    pub body: Vec<u8>,
}
