//! RSA keys for access tokens: the signing key, the verification keys kept for rotation,
//! and the public JWK set.
//!
//! A [`KeySet`] holds exactly one active [`SigningKey`] (new tokens carry its `kid`) and
//! any number of older public keys that still verify tokens issued before a rotation.
//! Keys come from configuration as PEM, or are generated on first start
//! ([`SigningKey::generate`]) and exported with [`SigningKey::to_pkcs8_pem`] so they can
//! be persisted. Other services verify tokens locally from the published JWK set
//! ([`VerificationKeys::from_jwks`]), with no network call per request.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use nova_core::{Error, Result};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

/// Size of generated keys, and the smallest size accepted from configuration.
pub const RSA_KEY_BITS: usize = 2048;

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
            .field("kid", &self.public.kid)
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
        &self.public.kid
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

/// A public RSA key that verifies tokens carrying its `kid`.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    public: RsaPublicKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("bits", &(self.public.size() * 8))
            .finish()
    }
}

impl VerifyingKey {
    /// Loads a public key from PEM: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1
    /// (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(kid: impl Into<String>, pem: &str) -> Result<Self> {
        let public = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|e| config_error(format!("not an RSA public key in PEM form: {e}")))?;
        Self::from_public(kid.into(), public)
    }

    fn from_public(kid: String, public: RsaPublicKey) -> Result<Self> {
        if kid.is_empty() {
            return Err(config_error("a key id must not be empty"));
        }
        if public.size() * 8 < RSA_KEY_BITS {
            return Err(config_error(format!(
                "RSA keys must have at least {RSA_KEY_BITS} bits"
            )));
        }
        let decoding = DecodingKey::from_rsa_raw_components(
            &public.n().to_bytes_be(),
            &public.e().to_bytes_be(),
        );
        Ok(Self {
            kid,
            public,
            decoding,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn to_public_pem(&self) -> Result<String> {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::internal(format!("RSA key encoding failed: {e}")))
    }

    /// This key as a JWK (`kty` RSA, `use` sig, `alg` RS256).
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "RSA".into(),
            kid: self.kid.clone(),
            use_: "sig".into(),
            alg: "RS256".into(),
            n: URL_SAFE_NO_PAD.encode(self.public.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(self.public.e().to_bytes_be()),
        }
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

/// One public key of a JWK set, as published at `/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; always `RSA` here.
    pub kty: String,
    /// Key id, matched against a token's `kid` header.
    pub kid: String,
    /// Intended use; `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Algorithm; `RS256`.
    pub alg: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
}

/// A JWK set: `{"keys": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// The public keys a verifier accepts, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct VerificationKeys {
    by_kid: HashMap<String, VerifyingKey>,
    order: Vec<String>,
}

impl VerificationKeys {
    /// Adds (or replaces) a key.
    pub fn insert(&mut self, key: VerifyingKey) {
        if !self.by_kid.contains_key(&key.kid) {
            self.order.push(key.kid.clone());
        }
        self.by_kid.insert(key.kid.clone(), key);
    }

    /// The key for `kid`, if accepted.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.by_kid.get(kid)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no keys (such a verifier rejects every token).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The keys in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.order.iter().filter_map(|kid| self.by_kid.get(kid))
    }

    /// The public JWK set.
    pub fn jwk_set(&self) -> JwkSet {
        JwkSet {
            keys: self.iter().map(VerifyingKey::to_jwk).collect(),
        }
    }

    /// Keys from a published JWK set (JSON). Entries that are not RSA signing keys for
    /// RS256 are skipped; a malformed document or RSA entry is an error.
    pub fn from_jwks(json: &str) -> Result<Self> {
        let set: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| config_error(format!("JWK set is not JSON: {e}")))?;
        let entries = set
            .get("keys")
            .and_then(|keys| keys.as_array())
            .ok_or_else(|| config_error("JWK set has no \"keys\" array"))?;
        let mut keys = Self::default();
        for entry in entries {
            let field = |name: &str| entry.get(name).and_then(|v| v.as_str());
            if field("kty") != Some("RSA") || field("use").is_some_and(|u| u != "sig") {
                continue;
            }
            if field("alg").is_some_and(|alg| alg != "RS256") {
                continue;
            }
            let (Some(kid), Some(n), Some(e)) = (field("kid"), field("n"), field("e")) else {
                return Err(config_error("RSA JWK needs kid, n and e"));
            };
            let decode = |v: &str| {
                URL_SAFE_NO_PAD
                    .decode(v)
                    .map(|bytes| BigUint::from_bytes_be(&bytes))
                    .map_err(|e| config_error(format!("JWK {kid}: bad base64url: {e}")))
            };
            let public = RsaPublicKey::new(decode(n)?, decode(e)?)
                .map_err(|e| config_error(format!("JWK {kid}: bad RSA key: {e}")))?;
            keys.insert(VerifyingKey::from_public(kid.to_owned(), public)?);
        }
        Ok(keys)
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
        if key.kid != self.active.public.kid {
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
            self.verification.by_kid.remove(kid);
            self.verification.order.retain(|k| k != kid);
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

fn config_error(message: impl Into<String>) -> Error {
    Error::invalid("signing_key", message.into())
}
