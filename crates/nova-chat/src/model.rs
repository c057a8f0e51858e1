//! Plain chat types. Message content is ciphertext the server never opens; everything
//! else here is metadata.

use nova_core::{Error, Result, Timestamp, UserId};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId, EncryptedMessage};
use serde::{Deserialize, Serialize};

mod calls;

pub use calls::{
    Call, CallId, CallParticipant, CallStatus, EndReason, LOCATION_SHARE_DURATIONS,
    LocationDelivery, LocationShare, LocationShareId, LocationUpdate,
    MAX_LOCATION_CIPHERTEXT_BYTES, MAX_LOCATION_ENVELOPES, MAX_SIGNAL_BYTES, ParticipantState,
    Signal, SignalKind, TurnCredentials,
};

nova_core::define_id!(
    /// One conversation (direct or group).
    ConversationId
);

/// Most members of a group.
pub const MAX_GROUP_MEMBERS: usize = 1000;
/// Most envelopes (ciphertexts) of one message: one per recipient device for Olm.
pub const MAX_ENVELOPES: usize = 1000;
/// Largest ciphertext of one envelope (64 KiB); larger is `PayloadTooLarge` (413).
pub const MAX_CIPHERTEXT_BYTES: usize = nova_e2ee::model::MAX_CIPHERTEXT_BYTES;
/// Longest group title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 64;
/// Largest page of history or conversations.
pub const MAX_PAGE: u32 = 100;
/// Largest inbox read.
pub const MAX_INBOX_PAGE: u32 = 500;

/// Direct (exactly two people, one conversation per pair) or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// 1:1.
    Direct,
    /// Up to [`MAX_GROUP_MEMBERS`] members.
    Group,
}

impl ConversationKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "direct" => Ok(Self::Direct),
            "group" => Ok(Self::Group),
            _ => Err(Error::invalid("kind", "must be direct or group")),
        }
    }
}

/// A member's role in a group (direct conversations have two members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Invites and removes members.
    Member,
    /// Also kicks members, renames, changes the avatar.
    Admin,
    /// Also appoints admins; one per group.
    Owner,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Parses a stored or wire name, naming `role` when unknown.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "member" => Ok(Self::Member),
            _ => Err(Error::invalid("role", "must be owner, admin or member")),
        }
    }
}

/// Who may start a direct conversation with a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmPolicy {
    /// Anyone not blocked either way.
    #[default]
    Everyone,
    /// Only people the user follows.
    Following,
    /// Nobody (the user may still start conversations).
    Nobody,
}

impl DmPolicy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Following => "following",
            Self::Nobody => "nobody",
        }
    }

    /// Parses a stored or wire name, naming `allow` when unknown.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "everyone" => Ok(Self::Everyone),
            "following" => Ok(Self::Following),
            "nobody" => Ok(Self::Nobody),
            _ => Err(Error::invalid(
                "allow",
                "must be everyone, following or nobody",
            )),
        }
    }
}

/// A conversation as one member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// Group title (empty for direct).
    pub title: String,
    /// Group avatar (a media id, or empty).
    pub avatar_media_id: String,
    /// Who created it.
    pub created_by: UserId,
    /// Grows on every membership change (clients rotate their Megolm session then).
    pub member_version: i64,
    /// The newest message id (0 when none).
    pub last_message_id: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last membership, title or message change.
    pub updated_at: Timestamp,
    /// The viewer's role.
    pub role: Role,
    /// Archived for the viewer.
    pub archived: bool,
    /// A new message does not unarchive it.
    pub keep_archived: bool,
    /// Muted for the viewer until then.
    pub muted_until: Option<Timestamp>,
    /// The newest message id the viewer read.
    pub read_up_to: i64,
}

/// One member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The user.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// Joined.
    pub joined_at: Timestamp,
    /// The newest message id they read (read receipt).
    pub read_up_to: i64,
    /// The newest message id one of their devices acknowledged (delivery receipt).
    pub delivered_up_to: i64,
}

/// The members of a conversation at a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its member version.
    pub version: i64,
    /// Members, by user id.
    pub members: Vec<Member>,
}

/// What a message is; all kinds are encrypted alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A message.
    #[default]
    Message,
    /// An edit of an earlier message.
    Edit,
    /// A deletion of an earlier message.
    Delete,
    /// A reaction.
    Reaction,
}

impl MessageKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edit => "edit",
            Self::Delete => "delete",
            Self::Reaction => "reaction",
        }
    }

    /// Parses a stored or wire name, naming `kind` when unknown.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "message" => Ok(Self::Message),
            "edit" => Ok(Self::Edit),
            "delete" => Ok(Self::Delete),
            "reaction" => Ok(Self::Reaction),
            _ => Err(Error::invalid(
                "kind",
                "must be message, edit, delete or reaction",
            )),
        }
    }
}

/// One ciphertext of a message and the devices it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// The Olm or Megolm session id.
    pub session_id: String,
    /// The ciphertext (base64 in JSON).
    #[serde(with = "b64")]
    pub ciphertext: Vec<u8>,
    /// The devices it is for (exactly one for Olm).
    pub recipients: Vec<DeviceAddress>,
}

impl From<nova_e2ee::OutgoingMessage> for Envelope {
    fn from(m: nova_e2ee::OutgoingMessage) -> Self {
        Self {
            algorithm: m.algorithm,
            session_id: m.session_id,
            ciphertext: m.ciphertext,
            recipients: m.recipients,
        }
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// The sending device.
    pub sender_device: DeviceId,
    /// Chosen by the client; a retry with the same key stores nothing new.
    pub idempotency_key: String,
    /// What it is.
    #[serde(default)]
    pub kind: MessageKind,
    /// Its ciphertexts.
    pub envelopes: Vec<Envelope>,
}

/// The outcome of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The message id (ascending per server).
    pub message_id: i64,
    /// Accepted then.
    pub created_at: Timestamp,
    /// This key was sent before; nothing new was stored.
    pub duplicate: bool,
}

/// One envelope in a device's inbox, at the device's sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Position in the device's queue (contiguous, ascending): the resume cursor.
    pub seq: i64,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The message.
    pub message_id: i64,
    /// What it is.
    pub kind: MessageKind,
    /// The sending device.
    pub sender: DeviceAddress,
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// Session id.
    pub session_id: String,
    /// The ciphertext.
    #[serde(with = "b64")]
    pub ciphertext: Vec<u8>,
    /// Accepted then.
    pub created_at: Timestamp,
}

impl Delivery {
    /// The envelope as the E2EE client SDK decrypts it.
    pub fn encrypted(&self) -> EncryptedMessage {
        EncryptedMessage {
            id: self.seq,
            sender: self.sender.clone(),
            algorithm: self.algorithm,
            session_id: self.session_id.clone(),
            ciphertext: self.ciphertext.clone(),
            created_at: self.created_at,
        }
    }
}

/// A message in a conversation's history, with the envelopes the viewing device can
/// open (the Megolm one, or the Olm one addressed to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// The message id.
    pub message_id: i64,
    /// What it is.
    pub kind: MessageKind,
    /// The sending device.
    pub sender: DeviceAddress,
    /// Accepted then.
    pub created_at: Timestamp,
    /// The envelopes for the viewing device.
    pub envelopes: Vec<HistoryEnvelope>,
}

/// A stored ciphertext of a history item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEnvelope {
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// Session id.
    pub session_id: String,
    /// The ciphertext.
    #[serde(with = "b64")]
    pub ciphertext: Vec<u8>,
}

/// Which receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// A device of the member acknowledged the message.
    Delivered,
    /// The member read up to the message.
    Read,
}

impl ReceiptKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }

    /// Parses a wire name, naming `receipt` when unknown.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "delivered" => Ok(Self::Delivered),
            "read" => Ok(Self::Read),
            _ => Err(Error::invalid("receipt", "must be delivered or read")),
        }
    }
}

/// What a connected device hears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A stored envelope for this device (acknowledge its `seq`).
    Delivery(Delivery),
    /// A member is typing (never stored).
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Who.
        user_id: UserId,
    },
    /// A member's delivery or read position moved.
    Receipt {
        /// Where.
        conversation_id: ConversationId,
        /// Whose.
        user_id: UserId,
        /// Which.
        receipt: ReceiptKind,
        /// Up to this message id.
        up_to: i64,
    },
    /// The member list changed (rotate the group session before sending).
    Members {
        /// Where.
        conversation_id: ConversationId,
        /// The new member version.
        version: i64,
    },
    /// A call rang, was answered, changed or ended (also how a callee is rung).
    Call {
        /// The call as it is now.
        call: Call,
    },
    /// SDP or ICE from another participant's device, for this device.
    Signal(Signal),
    /// A location share started or stopped.
    LocationShare {
        /// The share as it is now.
        share: LocationShare,
    },
    /// An encrypted location update for this device (relayed, never stored).
    Location(LocationDelivery),
}

/// Base64 (standard, padded) for byte fields in JSON.
pub(crate) mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("ciphertext: not base64"))
    }
}
