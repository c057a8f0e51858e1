//! Password hashing (argon2id) and the password policy.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so the
//! parameters travel with each hash and [`Passwords::needs_rehash`] can tell a login to
//! upgrade an old hash. Hashing and verifying take tens of milliseconds of CPU on purpose;
//! the async methods run them on tokio's blocking pool so the runtime never stalls.
//!
//! Account enumeration: when a login names an account that does not exist, the caller
//! still spends one verification with [`Passwords::dummy_verify`], so "no such account"
//! and "wrong password" take the same time.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, OnceLock};

use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, PasswordHasher, Version};
use nova_core::{Error, Result};

/// Fewest characters (Unicode scalar values, not bytes) a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most characters a password may have (bounds the hashing input).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
pub const OWASP_M_COST_KIB: u32 = 19_456;
/// Passes over memory (OWASP).
pub const OWASP_T_COST: u32 = 2;
/// Lanes (OWASP).
pub const OWASP_P_COST: u32 = 1;

const OWASP_PARAMS: Params = match Params::new(OWASP_M_COST_KIB, OWASP_T_COST, OWASP_P_COST, None) {
    Ok(params) => params,
    Err(_) => panic!("OWASP argon2 parameters are valid"),
};

/// The bundled list of common breached passwords (lowercase, 12+ characters).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Whether `password` (compared case-insensitively) is on the bundled list of common
/// breached passwords.
pub fn is_common_password(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

/// How many entries the bundled common-password list holds.
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// Checks a new password against the policy: 12–128 characters, not a common breached
/// password, and neither equal to nor containing the username or the email's local part.
///
/// Errors are `InvalidArgument` naming the field `password`.
pub fn check_policy(password: &str, username: &str, email: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if is_common_password(password) {
        return Err(Error::invalid(
            "password",
            "is too common; choose a less guessable one",
        ));
    }
    let lowered = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    for (what, ident) in [("username", username), ("email address", local_part)] {
        let ident = ident.trim().to_lowercase();
        if ident.is_empty() {
            continue;
        }
        // Very short identifiers ("jo") would forbid too much by containment alone.
        let contained = ident.chars().count() >= 3 && lowered.contains(&ident);
        if lowered == ident || contained {
            return Err(Error::invalid(
                "password",
                format!("must not contain your {what}"),
            ));
        }
    }
    Ok(())
}

/// argon2id hashing with fixed parameters (OWASP's by default).
///
/// Cheap to clone; clones share the dummy hash used by [`Passwords::dummy_verify`].
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .finish()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::owasp()
    }
}

impl Passwords {
    /// argon2id at OWASP parameters (m=19456 KiB, t=2, p=1).
    pub fn owasp() -> Self {
        Self {
            params: OWASP_PARAMS,
            dummy: Arc::default(),
        }
    }

    /// argon2id with other parameters (memory in KiB, passes, lanes), e.g. stronger
    /// ones after a hardware upgrade. Invalid parameters are an `Internal` error.
    pub fn with_params(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self> {
        let params = Params::new(m_cost_kib, t_cost, p_cost, None)
            .map_err(|e| Error::internal(format!("invalid argon2 parameters: {e}")))?;
        Ok(Self {
            params,
            dummy: Arc::default(),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with a fresh random salt, on the calling thread (blocks for the
    /// full hashing time; prefer [`Passwords::hash`] from async code).
    pub fn hash_blocking(&self, password: &str) -> Result<String> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| Error::internal(format!("argon2 hashing failed: {e}")))
    }

    /// Whether `password` matches the PHC string `phc`, on the calling thread. The
    /// parameters stored in `phc` are used, so old hashes keep verifying. A malformed
    /// stored hash is an `Internal` error, a mismatch is `Ok(false)`.
    pub fn verify_blocking(&self, password: &str, phc: &str) -> Result<bool> {
        let parsed = PasswordHash::new(phc)
            .map_err(|e| Error::internal(format!("stored password hash is malformed: {e}")))?;
        match argon2::PasswordVerifier::verify_password(
            &self.argon2(),
            password.as_bytes(),
            &parsed,
        ) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(Error::internal(format!("argon2 verify failed: {e}"))),
        }
    }

    /// Hashes `password` on tokio's blocking pool.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let this = self.clone();
        let password = password.to_owned();
        spawn_blocking(move || this.hash_blocking(&password)).await
    }

    /// Verifies `password` against `phc` on tokio's blocking pool.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        let this = self.clone();
        let (password, phc) = (password.to_owned(), phc.to_owned());
        spawn_blocking(move || this.verify_blocking(&password, &phc)).await
    }

    /// Spends one full verification against a precomputed hash (made once per
    /// `Passwords`, with these parameters) and always returns `false`: call it when the
    /// account does not exist, so the response takes as long as a wrong password.
    pub async fn dummy_verify(&self, password: &str) -> bool {
        let this = self.clone();
        let password = password.to_owned();
        // The outcome is irrelevant (it can only be a mismatch); the time spent is the point.
        let _ = spawn_blocking(move || this.dummy_verify_blocking(&password)).await;
        false
    }

    /// [`Passwords::dummy_verify`] on the calling thread.
    pub fn dummy_verify_blocking(&self, password: &str) -> Result<bool> {
        let phc = self.dummy_hash()?;
        self.verify_blocking(password, phc)
    }

    /// Computes the dummy hash now (otherwise the first `dummy_verify` pays for it).
    pub fn warm_up(&self) -> Result<()> {
        self.dummy_hash().map(|_| ())
    }

    fn dummy_hash(&self) -> Result<&str> {
        if let Some(phc) = self.dummy.get() {
            return Ok(phc);
        }
        let random: [u8; 24] = rand::random();
        let phc = self.hash_blocking(&hex(&random))?;
        Ok(self.dummy.get_or_init(|| phc))
    }

    /// Whether a stored hash should be replaced on the next successful login: it is not
    /// argon2id v19 with exactly these parameters (or it does not parse at all).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm != ARGON2ID_IDENT || parsed.version != Some(Version::V0x13.into()) {
            return true;
        }
        match Params::try_from(&parsed) {
            Ok(stored) => {
                stored.m_cost() != self.params.m_cost()
                    || stored.t_cost() != self.params.t_cost()
                    || stored.p_cost() != self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

/// Hashes `password` at OWASP parameters on tokio's blocking pool.
pub async fn hash_password(password: &str) -> Result<String> {
    Passwords::owasp().hash(password).await
}

/// Verifies `password` against a stored PHC string on tokio's blocking pool.
pub async fn verify_password(password: &str, phc: &str) -> Result<bool> {
    Passwords::owasp().verify(password, phc).await
}

/// Whether `phc` was made with other than the current (OWASP) parameters.
pub fn needs_rehash(phc: &str) -> bool {
    Passwords::owasp().needs_rehash(phc)
}

/// Spends one OWASP-parameter verification against a precomputed hash; always `false`.
pub async fn dummy_verify(password: &str) -> bool {
    static DEFAULT: LazyLock<Passwords> = LazyLock::new(Passwords::owasp);
    DEFAULT.dummy_verify(password).await
}

async fn spawn_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal(format!("password hashing task failed: {e}")))?
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
