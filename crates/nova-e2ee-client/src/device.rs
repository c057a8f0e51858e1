//! [`Device`]: one device's cryptographic state (no I/O): its Olm account, Olm sessions
//! with peer devices, Megolm sessions it sends with and receives from.

use std::collections::{BTreeSet, HashMap, HashSet};

use nova_e2ee::keys::{verify_device_keys, verify_signed_key};
use nova_e2ee::model::{device_keys_message, signed_key_message};
use nova_e2ee::{
    Algorithm, ClaimedKey, DeviceAddress, DeviceKeys, EncryptedMessage, KeyKind, KeyUpload,
    OutgoingMessage, SignedKey,
};
use vodozemac::Curve25519PublicKey;
use vodozemac::megolm::{
    GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig, SessionKey,
};
use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};

use crate::error::{ClientError, Result};
use crate::payload::{GroupPayload, OlmBody, OlmPayload};

/// Olm sessions kept per peer device (newest last).
const MAX_SESSIONS_PER_PEER: usize = 5;

/// A decrypted application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The device that sent it (cryptographically verified).
    pub sender: DeviceAddress,
    /// The conversation, for group (Megolm) messages; `None` for 1:1 (Olm) messages.
    pub conversation: Option<String>,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

pub(crate) struct OutboundGroup {
    pub session: GroupSession,
    pub shared_with: BTreeSet<DeviceAddress>,
}

pub(crate) struct InboundGroup {
    pub session: InboundGroupSession,
    pub conversation: String,
    pub sender: DeviceAddress,
    pub seen: BTreeSet<u32>,
}

/// One device's keys and sessions. Methods are synchronous; [`Client`](crate::Client)
/// adds the key directory around them.
pub struct Device {
    pub(crate) me: DeviceAddress,
    pub(crate) account: Account,
    pub(crate) peers: HashMap<DeviceAddress, DeviceKeys>,
    pub(crate) sessions: HashMap<DeviceAddress, Vec<Session>>,
    /// Ids of every inbound Olm session ever created (a replayed pre-key message whose
    /// session was since dropped must not start it again).
    pub(crate) inbound_olm_ids: HashSet<String>,
    pub(crate) outbound: HashMap<String, OutboundGroup>,
    pub(crate) inbound: HashMap<String, InboundGroup>,
}

impl Device {
    /// A new device with fresh identity keys.
    pub fn new(me: DeviceAddress) -> Self {
        Self {
            me,
            account: Account::new(),
            peers: HashMap::new(),
            sessions: HashMap::new(),
            inbound_olm_ids: HashSet::new(),
            outbound: HashMap::new(),
            inbound: HashMap::new(),
        }
    }

    /// This device's address.
    pub fn address(&self) -> &DeviceAddress {
        &self.me
    }

    /// This device's public identity keys, self-signed.
    pub fn device_keys(&self) -> DeviceKeys {
        let ids = self.account.identity_keys();
        let (curve, ed) = (ids.curve25519.to_base64(), ids.ed25519.to_base64());
        let msg = device_keys_message(self.me.user_id, &self.me.device_id, &curve, &ed);
        DeviceKeys {
            user_id: self.me.user_id,
            device_id: self.me.device_id.clone(),
            curve25519: curve,
            ed25519: ed,
            signature: self.account.sign(&msg).to_base64(),
        }
    }

    fn sign_key(&self, kind: KeyKind, key_id: String, public_key: String) -> SignedKey {
        let msg = signed_key_message(
            self.me.user_id,
            &self.me.device_id,
            kind,
            &key_id,
            &public_key,
        );
        SignedKey {
            key_id,
            public_key,
            signature: self.account.sign(&msg).to_base64(),
        }
    }

    /// Generates `one_time` new one-time keys (and a fallback key if asked) and returns
    /// them signed, with the identity keys. Call [`Device::mark_published`] once the
    /// directory accepted them.
    pub fn key_upload(&mut self, one_time: usize, fallback: bool) -> KeyUpload {
        self.account.generate_one_time_keys(one_time);
        if fallback {
            self.account.generate_fallback_key();
        }
        let one_time_keys = self
            .account
            .one_time_keys()
            .into_iter()
            .map(|(id, key)| self.sign_key(KeyKind::OneTime, id.to_base64(), key.to_base64()))
            .collect();
        let fallback_key = self
            .account
            .fallback_key()
            .into_iter()
            .next()
            .map(|(id, key)| self.sign_key(KeyKind::Fallback, id.to_base64(), key.to_base64()));
        KeyUpload {
            device_keys: Some(self.device_keys()),
            one_time_keys,
            fallback_key,
        }
    }

    /// Marks the generated keys as published.
    pub fn mark_published(&mut self) {
        self.account.mark_keys_as_published();
    }

    /// Learns a peer device's identity keys after checking their self-signature. A known
    /// device presenting different keys is refused.
    pub fn add_peer(&mut self, keys: DeviceKeys) -> Result<()> {
        let addr = DeviceAddress::new(keys.user_id, keys.device_id.clone());
        verify_device_keys(&keys).map_err(|_| ClientError::UntrustedKey(addr.clone()))?;
        match self.peers.get(&addr) {
            Some(known) if *known != keys => Err(ClientError::UntrustedKey(addr)),
            Some(_) => Ok(()),
            None => {
                self.peers.insert(addr, keys);
                Ok(())
            }
        }
    }

    /// Forgets a device that left its user's device list.
    pub fn forget_peer(&mut self, addr: &DeviceAddress) {
        self.peers.remove(addr);
        self.sessions.remove(addr);
    }

    /// Whether the device's identity keys are known.
    pub fn knows(&self, addr: &DeviceAddress) -> bool {
        self.peers.contains_key(addr)
    }

    /// Whether an Olm session with the device exists.
    pub fn has_session(&self, addr: &DeviceAddress) -> bool {
        self.sessions.get(addr).is_some_and(|s| !s.is_empty())
    }

    /// Starts an outbound Olm session from a claimed prekey (X25519 triple Diffie-Hellman
    /// inside vodozemac), after verifying the device and the key's signature.
    pub fn start_session(&mut self, claimed: &ClaimedKey) -> Result<()> {
        let addr = DeviceAddress::new(claimed.device.user_id, claimed.device.device_id.clone());
        let untrusted = || ClientError::UntrustedKey(addr.clone());
        self.add_peer(claimed.device.clone())?;
        let signer = verify_device_keys(&claimed.device).map_err(|_| untrusted())?;
        verify_signed_key(&claimed.device, &signer, claimed.kind, &claimed.key, "key")
            .map_err(|_| untrusted())?;
        let identity = Curve25519PublicKey::from_base64(&claimed.device.curve25519)
            .map_err(|_| untrusted())?;
        let prekey =
            Curve25519PublicKey::from_base64(&claimed.key.public_key).map_err(|_| untrusted())?;
        let session = self
            .account
            .create_outbound_session(SessionConfig::version_1(), identity, prekey)
            .map_err(|_| untrusted())?;
        self.push_session(addr, session);
        Ok(())
    }

    fn push_session(&mut self, addr: DeviceAddress, session: Session) {
        let list = self.sessions.entry(addr).or_default();
        list.push(session);
        if list.len() > MAX_SESSIONS_PER_PEER {
            list.remove(0);
        }
    }

    /// Encrypts an application message for one peer device (needs a session).
    pub fn encrypt_to_device(
        &mut self,
        to: &DeviceAddress,
        plaintext: &[u8],
    ) -> Result<OutgoingMessage> {
        self.encrypt_olm(to, OlmBody::Message(plaintext.to_vec()))
    }

    pub(crate) fn encrypt_olm(
        &mut self,
        to: &DeviceAddress,
        body: OlmBody,
    ) -> Result<OutgoingMessage> {
        let peer = self
            .peers
            .get(to)
            .ok_or_else(|| ClientError::NoSession(to.clone()))?;
        let payload = OlmPayload {
            sender: self.me.clone(),
            sender_ed25519: self.account.ed25519_key().to_base64(),
            recipient: to.clone(),
            recipient_ed25519: peer.ed25519.clone(),
            body,
        };
        let json = serde_json::to_vec(&payload).map_err(|_| ClientError::Decryption)?;
        let session = self
            .sessions
            .get_mut(to)
            .and_then(|s| s.last_mut())
            .ok_or_else(|| ClientError::NoSession(to.clone()))?;
        let message = session
            .encrypt(json)
            .map_err(|_| ClientError::NoSession(to.clone()))?;
        let (kind, ciphertext) = message.to_parts();
        Ok(OutgoingMessage {
            sender_device: self.me.device_id.clone(),
            algorithm: if kind == 0 {
                Algorithm::OlmPreKey
            } else {
                Algorithm::OlmNormal
            },
            session_id: session.session_id(),
            ciphertext,
            recipients: vec![to.clone()],
        })
    }

    /// Decrypts a message for this device. `Ok(None)` for key-sharing messages, which are
    /// absorbed; replays, tampering and forged origins are errors.
    pub fn decrypt(&mut self, msg: &EncryptedMessage) -> Result<Option<Decrypted>> {
        match msg.algorithm {
            Algorithm::OlmPreKey | Algorithm::OlmNormal => self.decrypt_olm(msg),
            Algorithm::Megolm => self.decrypt_group(msg).map(Some),
        }
    }

    fn decrypt_olm(&mut self, msg: &EncryptedMessage) -> Result<Option<Decrypted>> {
        let sender = msg.sender.clone();
        let peer = self
            .peers
            .get(&sender)
            .cloned()
            .ok_or_else(|| ClientError::UntrustedKey(sender.clone()))?;
        let kind = usize::from(msg.algorithm == Algorithm::OlmNormal);
        let olm =
            OlmMessage::from_parts(kind, &msg.ciphertext).map_err(|_| ClientError::Decryption)?;
        let plaintext = self.olm_plaintext(&sender, &peer, &msg.session_id, &olm)?;
        let payload: OlmPayload =
            serde_json::from_slice(&plaintext).map_err(|_| ClientError::Decryption)?;
        let my_ed = self.account.ed25519_key().to_base64();
        if payload.sender != sender
            || payload.sender_ed25519 != peer.ed25519
            || payload.recipient != self.me
            || payload.recipient_ed25519 != my_ed
        {
            return Err(ClientError::Forged(sender));
        }
        match payload.body {
            OlmBody::Message(plaintext) => Ok(Some(Decrypted {
                sender,
                conversation: None,
                plaintext,
            })),
            OlmBody::RoomKey {
                conversation,
                session_id,
                session_key,
            } => {
                let key =
                    SessionKey::from_base64(&session_key).map_err(|_| ClientError::Decryption)?;
                let session = InboundGroupSession::new(&key, MegolmConfig::version_1());
                if session.session_id() != session_id {
                    return Err(ClientError::Forged(sender));
                }
                // A re-share never replaces a session we already hold (it may start later).
                self.inbound.entry(session_id).or_insert(InboundGroup {
                    session,
                    conversation,
                    sender,
                    seen: BTreeSet::new(),
                });
                Ok(None)
            }
        }
    }

    fn olm_plaintext(
        &mut self,
        sender: &DeviceAddress,
        peer: &DeviceKeys,
        session_id: &str,
        olm: &OlmMessage,
    ) -> Result<Vec<u8>> {
        let sessions = self.sessions.entry(sender.clone()).or_default();
        // The session the sender named first, then the others, newest first.
        let mut order: Vec<usize> = (0..sessions.len()).rev().collect();
        order.sort_by_key(|i| sessions[*i].session_id() != session_id);
        for i in order {
            if let Ok(plaintext) = sessions[i].decrypt(olm) {
                return Ok(plaintext);
            }
        }
        let OlmMessage::PreKey(prekey) = olm else {
            return Err(ClientError::Decryption);
        };
        if self.inbound_olm_ids.contains(&prekey.session_id()) {
            return Err(ClientError::Replay);
        }
        let identity = Curve25519PublicKey::from_base64(&peer.curve25519)
            .map_err(|_| ClientError::UntrustedKey(sender.clone()))?;
        let created = self
            .account
            .create_inbound_session(SessionConfig::version_1(), identity, prekey)
            .map_err(|_| ClientError::Decryption)?;
        self.inbound_olm_ids.insert(created.session.session_id());
        self.push_session(sender.clone(), created.session);
        Ok(created.plaintext)
    }

    fn decrypt_group(&mut self, msg: &EncryptedMessage) -> Result<Decrypted> {
        let group = self
            .inbound
            .get_mut(&msg.session_id)
            .ok_or_else(|| ClientError::UnknownGroupSession(msg.session_id.clone()))?;
        if group.sender != msg.sender {
            return Err(ClientError::Forged(msg.sender.clone()));
        }
        let message =
            MegolmMessage::from_bytes(&msg.ciphertext).map_err(|_| ClientError::Decryption)?;
        let decrypted = group
            .session
            .decrypt(&message)
            .map_err(|_| ClientError::Decryption)?;
        if !group.seen.insert(decrypted.message_index) {
            return Err(ClientError::Replay);
        }
        let payload: GroupPayload =
            serde_json::from_slice(&decrypted.plaintext).map_err(|_| ClientError::Decryption)?;
        if payload.conversation != group.conversation || payload.sender != msg.sender {
            return Err(ClientError::Forged(msg.sender.clone()));
        }
        Ok(Decrypted {
            sender: msg.sender.clone(),
            conversation: Some(payload.conversation),
            plaintext: payload.body,
        })
    }

    /// Prepares the outbound group session of `conversation` for `members` (devices,
    /// this one excluded): a new session when a device left since the last share
    /// (rotation), so it cannot read what follows. Returns the devices still lacking the key.
    pub fn prepare_group(
        &mut self,
        conversation: &str,
        members: &BTreeSet<DeviceAddress>,
    ) -> Vec<DeviceAddress> {
        let rotate = self
            .outbound
            .get(conversation)
            .is_none_or(|g| !g.shared_with.is_subset(members));
        if rotate {
            self.outbound.insert(
                conversation.to_string(),
                OutboundGroup {
                    session: GroupSession::new(MegolmConfig::version_1()),
                    shared_with: BTreeSet::new(),
                },
            );
        }
        let shared = self.outbound.get(conversation).map(|g| &g.shared_with);
        members
            .iter()
            .filter(|m| **m != self.me && !shared.is_some_and(|s| s.contains(*m)))
            .cloned()
            .collect()
    }

    /// The current group session id of `conversation`, if any.
    pub fn group_session_id(&self, conversation: &str) -> Option<String> {
        self.outbound
            .get(conversation)
            .map(|g| g.session.session_id())
    }

    /// Shares the current group key of `conversation` with `to` over Olm (needs a session).
    pub fn share_group_key(
        &mut self,
        conversation: &str,
        to: &DeviceAddress,
    ) -> Result<OutgoingMessage> {
        let group = self
            .outbound
            .get(conversation)
            .ok_or_else(|| ClientError::UnknownGroupSession(conversation.to_string()))?;
        let body = OlmBody::RoomKey {
            conversation: conversation.to_string(),
            session_id: group.session.session_id(),
            session_key: group.session.session_key().to_base64(),
        };
        let message = self.encrypt_olm(to, body)?;
        if let Some(group) = self.outbound.get_mut(conversation) {
            group.shared_with.insert(to.clone());
        }
        Ok(message)
    }

    /// Encrypts a group message for every device the current session was shared with.
    pub fn encrypt_group(
        &mut self,
        conversation: &str,
        plaintext: &[u8],
    ) -> Result<OutgoingMessage> {
        let group = self
            .outbound
            .get_mut(conversation)
            .ok_or_else(|| ClientError::UnknownGroupSession(conversation.to_string()))?;
        if group.shared_with.is_empty() {
            return Err(ClientError::NoSession(self.me.clone()));
        }
        let payload = GroupPayload {
            conversation: conversation.to_string(),
            sender: self.me.clone(),
            body: plaintext.to_vec(),
        };
        let json = serde_json::to_vec(&payload).map_err(|_| ClientError::Decryption)?;
        let ciphertext = group.session.encrypt(json).to_bytes();
        Ok(OutgoingMessage {
            sender_device: self.me.device_id.clone(),
            algorithm: Algorithm::Megolm,
            session_id: group.session.session_id(),
            ciphertext,
            recipients: group.shared_with.iter().cloned().collect(),
        })
    }
}
