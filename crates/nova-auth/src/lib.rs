#![doc = "Nova auth plumbing shared by every domain: the Authenticator port, bearer extraction for axum and tonic, RS256 verification against identity's published keys, and the JSON body extractor."]
//!
//! # nova-auth
//!
//! Every domain's REST and gRPC adapters authenticate callers the same way, and none of
//! them needs the identity domain for it:
//!
//! - [`authenticator`]: the [`Authenticator`] port (`bearer → Principal`), the
//!   [`Authenticated`] / [`MaybeAuthenticated`] axum extractors, [`authenticate_metadata`]
//!   for tonic, and [`bearer_request`] for gRPC clients acting for a user;
//! - [`keys`], [`tokens`], [`token_cache`]: RS256 access-token verification (RS256 only,
//!   key by `kid`, issuer, audience and expiry against an injected clock) with a bounded
//!   cache of verified tokens;
//! - [`jwks`]: [`JwksAuthenticator`], which verifies against the key set identity
//!   publishes and refreshes it (periodically and on unknown keys);
//! - [`revocations`]: the [`Revocations`] port (sessions identity ended), in-process
//!   and shared through the key-value store; the JWKS verifier refuses their tokens;
//! - [`body`]: [`Body`], a JSON body whose problems are `InvalidArgument` naming the field;
//! - [`service`]: service identity on internal gRPC calls (service tokens, the
//!   [`ServiceGate`](service::ServiceGate) in front of internal RPCs).
//!
//! Identity itself (nova-identity) signs the tokens and implements [`Authenticator`] for
//! `dyn IdentityApi`.

pub mod authenticator;
pub mod body;
pub mod jwks;
pub mod keys;
pub mod revocations;
pub mod service;
pub mod token_cache;
pub mod tokens;

pub use authenticator::{
    Authenticated, Authenticator, MaybeAuthenticated, SESSION_ID_METADATA, authenticate_metadata,
    authenticate_metadata_optional, bearer_request, bearer_token,
};
pub use body::Body;
pub use jwks::{DEFAULT_JWKS_URL, JWKS_REFRESH_INTERVAL, JwksAuthenticator, MIN_REFETCH_INTERVAL};
pub use keys::{Jwk, JwkSet, RSA_KEY_BITS, VerificationKeys, VerifyingKey};
pub use revocations::{KvRevocations, LocalRevocations, REVOKED_CHANNEL, Revocations};
pub use token_cache::CachedVerifier;
pub use tokens::{ACCESS_TOKEN_TTL, AccessClaims, TokenConfig, TokenVerifier};
