//! Two-factor authentication: TOTP (RFC 6238) and single-use recovery codes.
//!
//! TOTP uses the parameters every authenticator app supports: HMAC-SHA1, 6 digits,
//! 30-second steps, and one step of skew either way. [`Totp::verify`] returns the time
//! step the code matched; the caller stores it and passes it back, so a code (or any
//! earlier one) cannot be used twice, as RFC 6238 §5.2 requires.
//!
//! Recovery codes are shown once at enrolment, stored hashed, and consumed on use.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use nova_core::{Error, ErrorKind, Result, SharedClock};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "Nova";
/// Digits per code.
pub const TOTP_DIGITS: u8 = 6;
/// Seconds per time step.
pub const TOTP_STEP_SECS: u64 = 30;
/// Steps of clock skew accepted either way.
pub const TOTP_SKEW_STEPS: u16 = 1;
/// Bytes of a generated TOTP secret (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_BYTES: usize = 20;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A TOTP shared secret. Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh 160-bit secret from the OS-seeded CSPRNG.
    pub fn generate() -> Self {
        Self(rand::random::<[u8; TOTP_SECRET_BYTES]>().to_vec())
    }

    /// A secret from its base32 form (as stored, or as typed from an otpauth URI).
    pub fn from_base32(encoded: &str) -> Result<Self> {
        totp_rs::Secret::try_from_base32(encoded.trim().to_ascii_uppercase())
            .map(|secret| Self(secret.as_bytes().to_vec()))
            .map_err(|_| Error::invalid("totp_secret", "is not base32"))
    }

    /// The secret in base32 (RFC 4648, no padding), as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    /// The raw secret bytes (to encrypt at rest).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// TOTP generator and verifier for one account, judging time by an injected clock.
#[derive(Clone)]
pub struct Totp {
    inner: totp_rs::Totp,
    clock: SharedClock,
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totp")
            .field("account", &self.inner.account_name())
            .finish_non_exhaustive()
    }
}

impl Totp {
    /// TOTP for `account` (the username, shown in the authenticator app).
    pub fn new(secret: &TotpSecret, account: &str, clock: SharedClock) -> Result<Self> {
        let inner = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(TOTP_DIGITS)
            .with_skew(TOTP_SKEW_STEPS)
            .with_step_duration(TOTP_STEP_SECS)
            .with_secret(secret.0.clone())
            .with_issuer(Some(TOTP_ISSUER))
            .with_account_name(account)
            .build()
            .map_err(|e| match e {
                totp_rs::TotpError::SecretTooShort { .. } => {
                    Error::invalid("totp_secret", "must be at least 128 bits")
                }
                other => Error::invalid("username", format!("cannot label a TOTP key: {other}")),
            })?;
        Ok(Self { inner, clock })
    }

    /// The `otpauth://totp/Nova:<account>?secret=...&issuer=Nova` URI for enrolment
    /// (usually shown as a QR code).
    pub fn otpauth_uri(&self) -> Result<String> {
        self.inner
            .to_url()
            .map_err(|e| Error::invalid("username", format!("cannot label a TOTP key: {e}")))
    }

    /// The current time step (Unix time / 30 s).
    pub fn current_step(&self) -> u64 {
        self.now_secs() / TOTP_STEP_SECS
    }

    /// The code for Unix time `unix_secs` (for tests and enrolment checks).
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.inner.generate(unix_secs).to_string()
    }

    /// Checks `code` at the clock's current time (± one step) and returns the step it
    /// matched. Codes from a step at or before `last_used_step` are refused, so each code
    /// works once and an older one can never follow a newer one. A wrong or reused code is
    /// `Unauthenticated`; a code that is not six digits is `InvalidArgument` (`code`).
    pub fn verify(&self, code: &str, last_used_step: Option<u64>) -> Result<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(TOTP_DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("code", "must be 6 digits"));
        }
        let step = self
            .inner
            .check(&code, self.now_secs())
            .ok_or_else(wrong_code)?;
        if last_used_step.is_some_and(|last| step <= last) {
            return Err(wrong_code());
        }
        Ok(step)
    }

    fn now_secs(&self) -> u64 {
        u64::try_from(self.clock.now().timestamp()).unwrap_or(0)
    }
}

fn wrong_code() -> Error {
    Error::new(ErrorKind::Unauthenticated, "invalid two-factor code")
}

// Recovery codes.
//
// Hashing choice: salted SHA-256, not argon2. Each code is 16 symbols from a 32-symbol
// alphabet drawn from a CSPRNG, i.e. 80 bits of entropy, so even a stolen hash table
// needs ~2^80 SHA-256 evaluations per code: a slow hash adds nothing for secrets that
// are not human-chosen, while argon2 would cost ~20 ms × up to ten stored codes on
// every attempt. The per-code random salt stops precomputation and makes equal codes
// (which never happen in practice) hash differently. Comparison is constant-time and
// every stored hash is checked, so timing does not reveal which code matched.

/// Crockford base32 symbols (no i, l, o, u: nothing to misread).
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_SYMBOLS: usize = 16;
const RECOVERY_HASH_PREFIX: &str = "sha256";

/// Freshly generated recovery codes: show `codes` once, store only `hashes`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodes {
    /// The codes in display form (`xxxx-xxxx-xxxx-xxxx`).
    pub codes: Vec<String>,
    /// What to store: `sha256$<salt>$<digest>` per code, same order.
    pub hashes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("count", &self.codes.len())
            .finish_non_exhaustive()
    }
}

/// Generates [`RECOVERY_CODE_COUNT`] single-use recovery codes.
pub fn generate_recovery_codes() -> RecoveryCodes {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let symbols: Vec<u8> = (0..RECOVERY_SYMBOLS)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())])
                .collect();
            symbols
                .chunks(4)
                .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let hashes = codes
        .iter()
        .map(|code| hash_recovery_code(&normalize_recovery_code(code)))
        .collect();
    RecoveryCodes { codes, hashes }
}

/// Checks `code` against the stored `hashes` and consumes it: returns the hashes that
/// remain (to store in place of the old list). A wrong or already used code is
/// `Unauthenticated`.
pub fn verify_recovery_code(code: &str, hashes: &[String]) -> Result<Vec<String>> {
    let normalized = normalize_recovery_code(code);
    let mut matched: Option<usize> = None;
    for (index, stored) in hashes.iter().enumerate() {
        // No early exit: every stored hash costs the same work.
        if recovery_hash_matches(&normalized, stored) && matched.is_none() {
            matched = Some(index);
        }
    }
    let index =
        matched.ok_or_else(|| Error::new(ErrorKind::Unauthenticated, "invalid recovery code"))?;
    let mut remaining = hashes.to_vec();
    remaining.remove(index);
    Ok(remaining)
}

/// Lowercase, without separators, with Crockford's look-alikes mapped (o→0, i/l→1).
fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

fn hash_recovery_code(normalized: &str) -> String {
    let salt: [u8; 16] = rand::random();
    let digest = recovery_digest(&salt, normalized);
    format!(
        "{RECOVERY_HASH_PREFIX}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(digest)
    )
}

fn recovery_digest(salt: &[u8], normalized: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(normalized.as_bytes());
    hasher.finalize().into()
}

fn recovery_hash_matches(normalized: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(RECOVERY_HASH_PREFIX), Some(salt), Some(digest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(salt), Ok(expected)) = (STANDARD_NO_PAD.decode(salt), STANDARD_NO_PAD.decode(digest))
    else {
        return false;
    };
    let actual = recovery_digest(&salt, normalized);
    bool::from(actual.as_slice().ct_eq(expected.as_slice()))
}

#[cfg(test)]
mod tests;
