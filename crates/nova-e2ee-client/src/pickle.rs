//! Persisting a [`Device`]: everything (account, sessions, group sessions, known peers,
//! replay windows) serialised with vodozemac's pickles, then sealed as one blob with
//! AES-256-GCM under a 32-byte key the app provides. A wrong key or any altered byte
//! fails to open.

use std::collections::{BTreeSet, HashMap};

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use nova_e2ee::{DeviceAddress, DeviceKeys};
use serde::{Deserialize, Serialize};
use vodozemac::megolm::{
    GroupSession, GroupSessionPickle, InboundGroupSession, InboundGroupSessionPickle,
};
use vodozemac::olm::{Account, AccountPickle, Session, SessionPickle};

use crate::device::{Device, InboundGroup, OutboundGroup};
use crate::error::{ClientError, Result};

const NONCE_LEN: usize = 12;
const FORMAT: &[u8] = b"nova-e2ee-device/v1";

#[derive(Serialize, Deserialize)]
struct DevicePickle {
    me: DeviceAddress,
    account: AccountPickle,
    peers: Vec<DeviceKeys>,
    sessions: Vec<(DeviceAddress, Vec<SessionPickle>)>,
    inbound_olm_ids: Vec<String>,
    outbound: Vec<(String, GroupSessionPickle, Vec<DeviceAddress>)>,
    inbound: Vec<InboundPickle>,
}

#[derive(Serialize, Deserialize)]
struct InboundPickle {
    session_id: String,
    session: InboundGroupSessionPickle,
    conversation: String,
    sender: DeviceAddress,
    seen: Vec<u32>,
}

impl Device {
    /// The whole device, encrypted and authenticated with `key`.
    pub fn pickle(&self, key: &[u8; 32]) -> Result<Vec<u8>> {
        let pickle = DevicePickle {
            me: self.me.clone(),
            account: self.account.pickle(),
            peers: self.peers.values().cloned().collect(),
            sessions: self
                .sessions
                .iter()
                .map(|(a, s)| (a.clone(), s.iter().map(Session::pickle).collect()))
                .collect(),
            inbound_olm_ids: self.inbound_olm_ids.iter().cloned().collect(),
            outbound: self
                .outbound
                .iter()
                .map(|(c, g)| {
                    (
                        c.clone(),
                        g.session.pickle(),
                        g.shared_with.iter().cloned().collect(),
                    )
                })
                .collect(),
            inbound: self
                .inbound
                .iter()
                .map(|(id, g)| InboundPickle {
                    session_id: id.clone(),
                    session: g.session.pickle(),
                    conversation: g.conversation.clone(),
                    sender: g.sender.clone(),
                    seen: g.seen.iter().copied().collect(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&pickle).map_err(|_| ClientError::Pickle)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                aes_gcm::aead::Payload {
                    msg: &json,
                    aad: FORMAT,
                },
            )
            .map_err(|_| ClientError::Pickle)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Restores a device from [`Device::pickle`]'s output.
    pub fn from_pickle(bytes: &[u8], key: &[u8; 32]) -> Result<Self> {
        if bytes.len() < NONCE_LEN {
            return Err(ClientError::Pickle);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let json = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                aes_gcm::aead::Payload {
                    msg: sealed,
                    aad: FORMAT,
                },
            )
            .map_err(|_| ClientError::Pickle)?;
        let p: DevicePickle = serde_json::from_slice(&json).map_err(|_| ClientError::Pickle)?;
        let peers: HashMap<DeviceAddress, DeviceKeys> = p
            .peers
            .into_iter()
            .map(|k| (DeviceAddress::new(k.user_id, k.device_id.clone()), k))
            .collect();
        Ok(Device {
            me: p.me,
            account: Account::from_pickle(p.account),
            peers,
            sessions: p
                .sessions
                .into_iter()
                .map(|(a, s)| (a, s.into_iter().map(Session::from_pickle).collect()))
                .collect(),
            inbound_olm_ids: p.inbound_olm_ids.into_iter().collect(),
            outbound: p
                .outbound
                .into_iter()
                .map(|(c, s, shared)| {
                    let group = OutboundGroup {
                        session: GroupSession::from_pickle(s),
                        shared_with: shared.into_iter().collect::<BTreeSet<_>>(),
                    };
                    (c, group)
                })
                .collect(),
            inbound: p
                .inbound
                .into_iter()
                .map(|g| {
                    let group = InboundGroup {
                        session: InboundGroupSession::from_pickle(g.session),
                        conversation: g.conversation,
                        sender: g.sender,
                        seen: g.seen.into_iter().collect(),
                    };
                    (g.session_id, group)
                })
                .collect(),
        })
    }
}
