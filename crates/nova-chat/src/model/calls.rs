//! Call and location-sharing types. A call is a session and who took part; SDP, ICE and
//! media never reach the store (signaling is relayed live between devices). A location
//! share is only who shares where until when: coordinates are E2EE ciphertext relayed
//! live, never stored.

use nova_core::{Error, Result, Timestamp, UserId};
use nova_e2ee::{Algorithm, DeviceAddress, DeviceId};
use serde::{Deserialize, Serialize};

use super::{ConversationId, Envelope, b64};

nova_core::define_id!(
    /// One call (ringing, active or ended).
    CallId
);

nova_core::define_id!(
    /// One live location share.
    LocationShareId
);

/// Largest SDP or ICE payload relayed (bytes): a signaling frame fits the WebSocket's
/// 16 KiB frame cap.
pub const MAX_SIGNAL_BYTES: usize = 12 * 1024;
/// Largest ciphertext of one location update (bytes).
pub const MAX_LOCATION_CIPHERTEXT_BYTES: usize = 4 * 1024;
/// Most envelopes of one location update (one per recipient device for Olm).
pub const MAX_LOCATION_ENVELOPES: usize = 100;
/// The durations a location share may run for, in seconds: 15 minutes, 1 hour, 8 hours.
pub const LOCATION_SHARE_DURATIONS: [u32; 3] = [15 * 60, 3600, 8 * 3600];

macro_rules! names {
    ($(#[$meta:meta])* $name:ident, $field:literal, $message:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses a stored or wire name, naming the field when unknown.
            pub fn parse(value: &str) -> Result<Self> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(Error::invalid($field, $message)),
                }
            }
        }
    };
}

names!(
    /// Where a call is.
    CallStatus, "status", "must be ringing, active or ended" {
        /// Started; nobody has accepted yet.
        Ringing = "ringing",
        /// At least two participants joined.
        Active = "active",
        /// Over (see [`EndReason`]).
        Ended = "ended",
    }
);

names!(
    /// Why a call ended.
    EndReason, "end_reason", "must be completed, missed, declined, busy or cancelled" {
        /// It was answered, and then everybody (but one) hung up.
        Completed = "completed",
        /// Nobody accepted before the ring timeout.
        Missed = "missed",
        /// Everybody rung declined.
        Declined = "declined",
        /// Everybody rung was in another call.
        Busy = "busy",
        /// The caller hung up before anyone accepted.
        Cancelled = "cancelled",
    }
);

names!(
    /// Where one participant is.
    ParticipantState, "state", "must be ringing, joined, declined, missed, busy or left" {
        /// Being rung.
        Ringing = "ringing",
        /// In the call (signaling reaches the device that joined).
        Joined = "joined",
        /// Declined.
        Declined = "declined",
        /// Did not answer before the ring timeout.
        Missed = "missed",
        /// Was in another call when rung.
        Busy = "busy",
        /// Hung up.
        Left = "left",
    }
);

names!(
    /// What a signaling message carries (opaque to the server).
    SignalKind, "kind", "must be offer, answer or ice" {
        /// An SDP offer.
        Offer = "offer",
        /// An SDP answer.
        Answer = "answer",
        /// An ICE candidate.
        Ice = "ice",
    }
);

/// One person rung for, or taking part in, a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallParticipant {
    /// Who.
    pub user_id: UserId,
    /// Where they are.
    pub state: ParticipantState,
    /// The device they joined with.
    pub device_id: Option<DeviceId>,
    /// When they joined.
    pub joined_at: Option<Timestamp>,
    /// When they hung up (or their ring ended).
    pub left_at: Option<Timestamp>,
}

/// A call in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// Its id.
    pub id: CallId,
    /// Where.
    pub conversation_id: ConversationId,
    /// The caller.
    pub started_by: UserId,
    /// Video (else audio only).
    pub video: bool,
    /// Where it is.
    pub status: CallStatus,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
    /// Grows on every change.
    pub version: i64,
    /// Started.
    pub created_at: Timestamp,
    /// Nobody accepted by then: it ends as missed (still ringing participants: missed).
    pub ring_until: Timestamp,
    /// First accepted.
    pub answered_at: Option<Timestamp>,
    /// Ended.
    pub ended_at: Option<Timestamp>,
    /// The caller first, then the people rung, by user id.
    pub participants: Vec<CallParticipant>,
}

impl Call {
    /// `user`'s entry.
    pub fn participant(&self, user: UserId) -> Option<&CallParticipant> {
        self.participants.iter().find(|p| p.user_id == user)
    }

    /// How many are in the call now.
    pub fn joined(&self) -> usize {
        self.participants
            .iter()
            .filter(|p| p.state == ParticipantState::Joined)
            .count()
    }
}

/// A signaling message for one device of a call (SDP offer/answer or ICE candidate),
/// relayed as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// The call.
    pub call_id: CallId,
    /// The sending device.
    pub from: DeviceAddress,
    /// What it is.
    pub kind: SignalKind,
    /// The SDP or ICE candidate (opaque; at most [`MAX_SIGNAL_BYTES`]).
    pub payload: String,
}

/// Short-lived TURN credentials (coturn REST API: `use-auth-secret`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnCredentials {
    /// `<expiry unix seconds>:<user id>`.
    pub username: String,
    /// `base64(HMAC-SHA1(secret, username))`.
    pub credential: String,
    /// Seconds they stay valid.
    pub ttl_secs: u64,
    /// The TURN (and STUN) URLs.
    pub urls: Vec<String>,
    /// Valid until then.
    pub expires_at: Timestamp,
}

/// A live location share (the session only: never a coordinate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationShare {
    /// Its id.
    pub id: LocationShareId,
    /// Shared to.
    pub conversation_id: ConversationId,
    /// Shared by.
    pub user_id: UserId,
    /// Started.
    pub started_at: Timestamp,
    /// Runs until then unless stopped.
    pub expires_at: Timestamp,
    /// Stopped early.
    pub stopped_at: Option<Timestamp>,
}

impl LocationShare {
    /// Still running at `now`.
    pub fn active_at(&self, now: Timestamp) -> bool {
        self.stopped_at.is_none() && now < self.expires_at
    }
}

/// One encrypted location update (coordinates the server never sees), relayed live to
/// the conversation's devices and not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationUpdate {
    /// The sending device.
    pub sender_device: DeviceId,
    /// The ciphertexts and the devices they are for.
    pub envelopes: Vec<Envelope>,
}

/// A location update as one device receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationDelivery {
    /// The share.
    pub share_id: LocationShareId,
    /// Where.
    pub conversation_id: ConversationId,
    /// The sending device.
    pub sender: DeviceAddress,
    /// How it is encrypted.
    pub algorithm: Algorithm,
    /// Session id.
    pub session_id: String,
    /// The ciphertext.
    #[serde(with = "b64")]
    pub ciphertext: Vec<u8>,
    /// Relayed then.
    pub sent_at: Timestamp,
}
