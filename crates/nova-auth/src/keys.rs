//! Public RSA keys that verify access tokens, and the JWK set identity publishes.
//!
//! Identity signs with a private key (nova-identity's `KeySet`); every service verifies
//! locally with the public keys it reads from the published JWK set
//! ([`VerificationKeys::from_jwks`]), with no network call per request.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use nova_core::{Error, Result};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde::{Deserialize, Serialize};

/// Size of generated keys, and the smallest size accepted from configuration.
pub const RSA_KEY_BITS: usize = 2048;

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

    /// A key from its RSA public half; refused when `kid` is empty or the key is under
    /// [`RSA_KEY_BITS`].
    pub fn from_public(kid: String, public: RsaPublicKey) -> Result<Self> {
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

    /// The key in the form jsonwebtoken verifies with.
    pub fn decoding_key(&self) -> &DecodingKey {
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

    /// Stops accepting `kid`.
    pub fn remove(&mut self, kid: &str) {
        self.by_kid.remove(kid);
        self.order.retain(|k| k != kid);
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

fn config_error(message: impl Into<String>) -> Error {
    Error::invalid("signing_key", message.into())
}
