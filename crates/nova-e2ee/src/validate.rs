//! Size and shape checks of message metadata, shared by the key directory and the chat
//! domain: the server parses (never decrypts) Olm and Megolm messages.

use std::collections::BTreeSet;

use nova_core::{Error, Result};
use vodozemac::megolm::MegolmMessage;
use vodozemac::olm::OlmMessage;

use crate::model::{
    Algorithm, DeviceAddress, MAX_CIPHERTEXT_BYTES, MAX_RECIPIENTS, MAX_SESSION_ID_LEN,
    OutgoingMessage,
};

/// Size and shape of message metadata: the server parses (never decrypts) the ciphertext.
pub fn validate_message(message: &OutgoingMessage) -> Result<()> {
    let sid = &message.session_id;
    if sid.is_empty()
        || sid.len() > MAX_SESSION_ID_LEN
        || !sid.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::invalid(
            "session_id",
            format!("must be 1-{MAX_SESSION_ID_LEN} printable ASCII characters"),
        ));
    }
    if message.ciphertext.is_empty() || message.ciphertext.len() > MAX_CIPHERTEXT_BYTES {
        return Err(Error::invalid(
            "ciphertext",
            format!("must be 1-{MAX_CIPHERTEXT_BYTES} bytes"),
        ));
    }
    let recipients = message.recipients.len();
    let distinct: BTreeSet<&DeviceAddress> = message.recipients.iter().collect();
    if recipients == 0 || distinct.len() != recipients {
        return Err(Error::invalid(
            "recipients",
            "must be distinct and non-empty",
        ));
    }
    let malformed = || Error::invalid("ciphertext", "not a message of the stated algorithm");
    match message.algorithm {
        Algorithm::OlmPreKey | Algorithm::OlmNormal => {
            if recipients != 1 {
                return Err(Error::invalid(
                    "recipients",
                    "an Olm message has one recipient",
                ));
            }
            let kind = usize::from(message.algorithm == Algorithm::OlmNormal);
            match OlmMessage::from_parts(kind, &message.ciphertext).map_err(|_| malformed())? {
                OlmMessage::PreKey(m) if m.session_id() != *sid => Err(Error::invalid(
                    "session_id",
                    "does not match the pre-key message",
                )),
                _ => Ok(()),
            }
        }
        Algorithm::Megolm => {
            if recipients > MAX_RECIPIENTS {
                return Err(Error::invalid(
                    "recipients",
                    format!("at most {MAX_RECIPIENTS} devices"),
                ));
            }
            MegolmMessage::from_bytes(&message.ciphertext)
                .map(|_| ())
                .map_err(|_| malformed())
        }
    }
}
