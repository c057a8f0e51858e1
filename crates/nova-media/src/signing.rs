//! Signed, expiring URLs for objects served from local disk: HMAC-SHA256 over the
//! object key and the expiry, checked in constant time.
//!
//! ```
//! use nova_media::signing::UrlSigner;
//!
//! let signer = UrlSigner::new(b"a key of at least thirty-two bytes!!");
//! let (exp, sig) = signer.sign("media/v/abc.webp", 1_900_000_000);
//! assert!(signer.verify("media/v/abc.webp", exp, &sig, 1_800_000_000).is_ok());
//! // Another object, a later expiry or a past deadline are all refused.
//! assert!(signer.verify("media/v/other.webp", exp, &sig, 1_800_000_000).is_err());
//! assert!(signer.verify("media/v/abc.webp", exp + 1, &sig, 1_800_000_000).is_err());
//! assert!(signer.verify("media/v/abc.webp", exp, &sig, 1_900_000_001).is_err());
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused (both answer 403; the reason is for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The signature does not match the key and expiry.
    BadSignature,
    /// The deadline passed.
    Expired,
}

/// Signs and verifies object URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSigner").finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer keyed with `key` (use 32 random bytes or more).
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A signer whose key is derived from `secret` for this one purpose (so the same
    /// deployment secret can sign cursors and media URLs without one forging the other).
    pub fn derived(secret: &[u8]) -> Self {
        let mut mac = mac(secret);
        mac.update(b"nova-media signed URLs v1");
        Self::new(&mac.finalize().into_bytes())
    }

    fn tag(&self, key: &str, expires: i64) -> HmacSha256 {
        let mut mac = mac(&self.key);
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The `(expires, signature)` pair for `key`, valid until `expires` (Unix seconds).
    pub fn sign(&self, key: &str, expires: i64) -> (i64, String) {
        let sig = URL_SAFE_NO_PAD.encode(self.tag(key, expires).finalize().into_bytes());
        (expires, sig)
    }

    /// Checks a signature (constant time) and then the deadline against `now` (Unix
    /// seconds).
    pub fn verify(
        &self,
        key: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), Refusal> {
        let sig = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Refusal::BadSignature)?;
        self.tag(key, expires)
            .verify_slice(&sig)
            .map_err(|_| Refusal::BadSignature)?;
        if now > expires {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flipped_signature_byte_is_refused() {
        let s = UrlSigner::new(b"0123456789abcdef0123456789abcdef");
        let (exp, sig) = s.sign("k", 100);
        let mut bad = sig.clone().into_bytes();
        bad[0] = if bad[0] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(s.verify("k", exp, &bad, 0), Err(Refusal::BadSignature));
        assert_eq!(s.verify("k", exp, "", 0), Err(Refusal::BadSignature));
        assert_eq!(s.verify("k", exp, "%%%", 0), Err(Refusal::BadSignature));
        assert_eq!(s.verify("k", exp, &sig, 101), Err(Refusal::Expired));
        assert_eq!(s.verify("k", exp, &sig, 100), Ok(()));
    }

    #[test]
    fn derived_keys_differ_from_their_secret() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (plain, derived) = (UrlSigner::new(secret), UrlSigner::derived(secret));
        let (exp, sig) = plain.sign("k", 100);
        assert_eq!(
            derived.verify("k", exp, &sig, 0),
            Err(Refusal::BadSignature)
        );
    }
}
