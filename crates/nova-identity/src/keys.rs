//! RSA keys for access tokens: the signing key, the verification keys kept for rotation,
//! and the public JWK set.
//!
//! A [`KeySet`] holds exactly one active [`SigningKey`] (new tokens carry its `kid`) and
//! any number of older public keys that still verify tokens issued before a rotation.
//! Keys come from configuration as PEM, or are generated on first start
//! ([`SigningKey::generate`]) and exported with [`SigningKey::to_pkcs8_pem`] so they can
//! be persisted. Other services verify tokens locally from the published JWK set
//! ([`VerificationKeys::from_jwks`]), with no network call per request.

use jsonwebtoken::EncodingKey;
use nova_core::{Error, Result};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};

// The verifying half lives in nova-auth, which every service links.
pub use nova_auth::keys::{Jwk, JwkSet, RSA_KEY_BITS, VerificationKeys, VerifyingKey};

/// A private RSA key that signs access tokens, named by its key id (`kid`).
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) private: RsaPrivateKey,
    encoding: EncodingKey,
    public: VerifyingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh 2048-bit key (slow: hundreds of milliseconds in release builds,
    /// seconds unoptimised).
    pub fn generate(kid: impl Into<String>) -> Result<Self> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_KEY_BITS)
            .map_err(|e| Error::internal(format!("RSA key generation failed: {e}")))?;
        Self::from_private(kid.into(), private)
    }

    /// Loads a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`). Keys under 2048 bits are refused.
    pub fn from_pem(kid: impl Into<String>, pem: &str) -> Result<Self> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| config_error(format!("not an RSA private key in PEM form: {e}")))?;
        Self::from_private(kid.into(), private)
    }

    fn from_private(kid: String, private: RsaPrivateKey) -> Result<Self> {
        let public = VerifyingKey::from_public(kid, private.to_public_key())?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| Error::internal(format!("RSA key encoding failed: {e}")))?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        Ok(Self {
            private,
            encoding,
            public,
        })
    }

    /// The key id carried in the `kid` header of tokens this key signs.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The private key as PKCS#8 PEM, to persist a generated key. Treat it as a secret.
    pub fn to_pkcs8_pem(&self) -> Result<String> {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| Error::internal(format!("RSA key encoding failed: {e}")))
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// The active signing key plus the older public keys that still verify (rotation).
#[derive(Debug, Clone)]
pub struct KeySet {
    active: SigningKey,
    verification: VerificationKeys,
}

impl KeySet {
    /// A key set signing with `active`, which also verifies.
    pub fn new(active: SigningKey) -> Self {
        let mut verification = VerificationKeys::default();
        verification.insert(active.verifying_key().clone());
        Self {
            active,
            verification,
        }
    }

    /// A key set with a freshly generated active key (the embedded default on first start).
    pub fn generate(kid: impl Into<String>) -> Result<Self> {
        SigningKey::generate(kid).map(Self::new)
    }

    /// Also accepts tokens signed by `key` (e.g. a retired key until its tokens expire).
    pub fn with_verification_key(mut self, key: VerifyingKey) -> Self {
        if key.kid() != self.active.public.kid() {
            self.verification.insert(key);
        }
        self
    }

    /// Makes `next` the active key; the previous active key keeps verifying.
    pub fn rotate(mut self, next: SigningKey) -> Self {
        self.verification.insert(next.verifying_key().clone());
        self.active = next;
        self
    }

    /// Stops accepting `kid` (the active key cannot be retired this way).
    pub fn retire(mut self, kid: &str) -> Self {
        if kid != self.active.kid() {
            self.verification.remove(kid);
        }
        self
    }

    /// The active signing key.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// All keys that verify, the active one included.
    pub fn verification_keys(&self) -> &VerificationKeys {
        &self.verification
    }

    /// The public JWK set of every verification key.
    pub fn jwk_set(&self) -> JwkSet {
        self.verification.jwk_set()
    }

    /// The public JWK set as JSON: `{"keys":[{"kty":"RSA","kid",...}]}`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::to_value(self.jwk_set()).unwrap_or_else(|_| serde_json::json!({"keys": []}))
    }
}

impl AsRef<VerificationKeys> for KeySet {
    fn as_ref(&self) -> &VerificationKeys {
        &self.verification
    }
}

fn config_error(message: impl Into<String>) -> Error {
    Error::invalid("signing_key", message.into())
}
