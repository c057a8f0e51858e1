//! Secrets at rest: TOTP secrets and OAuth provider tokens are encrypted with AES-256-GCM
//! under a key id from configuration, so keys can rotate: new values use the active key,
//! old values still decrypt with their own.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use nova_core::{Error, Result};

/// AES-256-GCM with named, rotatable keys. Ciphertexts read `kid.base64(nonce‖ct)`.
///
/// ```
/// let secrets = nova_identity::SecretBox::generate("k1");
/// let sealed = secrets.encrypt("JBSWY3DPEHPK3PXP")?;
/// assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
/// assert_eq!(secrets.decrypt(&sealed)?, "JBSWY3DPEHPK3PXP");
/// # Ok::<(), nova_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SecretBox {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        write!(f, "SecretBox {{ kids: {kids:?} }}")
    }
}

impl SecretBox {
    /// A box with one freshly generated key.
    pub fn generate(kid: &str) -> Self {
        let key = Aes256Gcm::generate_key(OsRng);
        Self {
            keys: vec![(kid.to_owned(), Aes256Gcm::new(&key))],
        }
    }

    /// Parses `kid:base64key[,kid:base64key...]`; the first key encrypts, all decrypt.
    /// `var` names the configuration variable in errors.
    pub fn from_config(value: &str, var: &str) -> Result<Self> {
        let mut keys = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kid, b64) = part
                .split_once(':')
                .ok_or_else(|| Error::invalid(var, "expected kid:base64key entries"))?;
            let raw = STANDARD
                .decode(b64)
                .or_else(|_| URL_SAFE_NO_PAD.decode(b64))
                .map_err(|_| Error::invalid(var, format!("key {kid} is not base64")))?;
            if raw.len() != 32 || kid.is_empty() || kid.contains('.') {
                return Err(Error::invalid(
                    var,
                    format!("key {kid} must be 32 bytes with an id without dots"),
                ));
            }
            keys.push((
                kid.to_owned(),
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw)),
            ));
        }
        if keys.is_empty() {
            return Err(Error::invalid(var, "no keys"));
        }
        Ok(Self { keys })
    }

    /// A new random key as `kid:base64` (for generating configuration).
    pub fn new_key_config(kid: &str) -> String {
        format!("{kid}:{}", STANDARD.encode(Aes256Gcm::generate_key(OsRng)))
    }

    /// The id of the key that encrypts new values.
    pub fn active_kid(&self) -> &str {
        self.keys.first().map_or("", |(kid, _)| kid.as_str())
    }

    /// Encrypts with the active key.
    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        let (kid, cipher) = self
            .keys
            .first()
            .ok_or_else(|| Error::internal("secret box without keys"))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{kid}.{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Decrypts a value sealed by any of the keys; tampering is an error.
    pub fn decrypt(&self, sealed: &str) -> Result<String> {
        let bad = || Error::internal("stored secret cannot be decrypted");
        let (kid, b64) = sealed.split_once('.').ok_or_else(bad)?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or_else(|| Error::internal(format!("unknown encryption key id {kid}")))?;
        let raw = URL_SAFE_NO_PAD.decode(b64).map_err(|_| bad())?;
        if raw.len() < 12 {
            return Err(bad());
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_old_values_readable() {
        let old_cfg = SecretBox::new_key_config("k1");
        let new_cfg = SecretBox::new_key_config("k2");
        let old = SecretBox::from_config(&old_cfg, "IDENTITY_ENCRYPTION_KEYS").unwrap();
        let sealed = old.encrypt("secret").unwrap();
        let rotated =
            SecretBox::from_config(&format!("{new_cfg},{old_cfg}"), "IDENTITY_ENCRYPTION_KEYS")
                .unwrap();
        assert_eq!(rotated.decrypt(&sealed).unwrap(), "secret");
        assert!(rotated.encrypt("x").unwrap().starts_with("k2."));
    }

    #[test]
    fn tampering_and_bad_config_are_rejected() {
        let b = SecretBox::generate("k");
        let sealed = b.encrypt("secret").unwrap();
        let (kid, body) = sealed.split_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(body).unwrap();
        for i in 0..raw.len() {
            // Any flipped bit (nonce, ciphertext or tag) must fail authentication.
            raw[i] ^= 1;
            let tampered = format!("{kid}.{}", URL_SAFE_NO_PAD.encode(&raw));
            assert!(b.decrypt(&tampered).is_err(), "byte {i}");
            raw[i] ^= 1;
        }
        assert_eq!(b.decrypt(&sealed).unwrap(), "secret");
        let err = SecretBox::from_config("k:short", "IDENTITY_ENCRYPTION_KEYS").unwrap_err();
        assert_eq!(err.field(), Some("IDENTITY_ENCRYPTION_KEYS"));
    }
}
