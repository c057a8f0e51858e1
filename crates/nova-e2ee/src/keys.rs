//! Checks on uploaded keys: well-formed public keys and valid Ed25519 signatures
//! (vodozemac's `Ed25519PublicKey::verify`, strict verification).

use nova_core::{Error, Result};
use vodozemac::{Curve25519PublicKey, Ed25519PublicKey, Ed25519Signature};

use crate::model::{DeviceKeys, KeyKind, SignedKey, device_keys_message, signed_key_message};

/// The device's Ed25519 key, once its identity keys parse and its self-signature holds.
pub fn verify_device_keys(keys: &DeviceKeys) -> Result<Ed25519PublicKey> {
    Curve25519PublicKey::from_base64(&keys.curve25519)
        .map_err(|_| Error::invalid("device_keys.curve25519", "not a Curve25519 key"))?;
    let ed25519 = Ed25519PublicKey::from_base64(&keys.ed25519)
        .map_err(|_| Error::invalid("device_keys.ed25519", "not an Ed25519 key"))?;
    let message = device_keys_message(
        keys.user_id,
        &keys.device_id,
        &keys.curve25519,
        &keys.ed25519,
    );
    verify(&ed25519, &message, &keys.signature, "device_keys.signature")?;
    Ok(ed25519)
}

/// Checks a one-time or fallback key of `device` against the device's Ed25519 key.
pub fn verify_signed_key(
    device: &DeviceKeys,
    signer: &Ed25519PublicKey,
    kind: KeyKind,
    key: &SignedKey,
    field: &str,
) -> Result<()> {
    let ok_id = !key.key_id.is_empty()
        && key.key_id.len() <= 64
        && key
            .key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'));
    if !ok_id {
        return Err(Error::invalid(
            format!("{field}.key_id"),
            "must be 1-64 base64 characters",
        ));
    }
    Curve25519PublicKey::from_base64(&key.public_key)
        .map_err(|_| Error::invalid(format!("{field}.public_key"), "not a Curve25519 key"))?;
    let message = signed_key_message(
        device.user_id,
        &device.device_id,
        kind,
        &key.key_id,
        &key.public_key,
    );
    verify(
        signer,
        &message,
        &key.signature,
        &format!("{field}.signature"),
    )
}

fn verify(key: &Ed25519PublicKey, message: &[u8], signature: &str, field: &str) -> Result<()> {
    if signature.is_empty() {
        return Err(Error::invalid(field, "missing signature"));
    }
    let signature = Ed25519Signature::from_base64(signature)
        .map_err(|_| Error::invalid(field, "not an Ed25519 signature"))?;
    key.verify(message, &signature)
        .map_err(|_| Error::invalid(field, "signature does not verify"))
}
