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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, PasswordHasher, Version};
use nova_core::{Error, ErrorKind, Result};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// How much argon2 work may run at once. Each hash holds `m_cost` of memory (19 MiB at
/// OWASP parameters) on the blocking pool, whose 512 threads would otherwise let a few
/// hundred parallel logins exhaust a small pod's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// Hashes running at once.
    pub max_concurrent: usize,
    /// Requests waiting for a slot; one more is refused at once (`Unavailable`).
    pub max_queued: usize,
    /// Longest wait for a slot before giving up (`Unavailable`).
    pub max_wait: Duration,
}

impl HashLimits {
    /// `max_concurrent` hashes, a queue of four per slot (at least 16), two seconds of
    /// waiting at most.
    pub fn new(max_concurrent: usize) -> Self {
        let max_concurrent = max_concurrent.max(1);
        Self {
            max_concurrent,
            max_queued: (max_concurrent * 4).max(16),
            max_wait: Duration::from_secs(2),
        }
    }

    /// Sized from the memory this process may use (the cgroup limit, else the machine's
    /// memory): a quarter of it for hashes of `m_cost_kib` each, and no more than two per
    /// CPU (more would only queue on the CPUs).
    pub fn from_memory(m_cost_kib: u32) -> Self {
        let per_hash = u64::from(m_cost_kib.max(1)) * 1024;
        let by_memory = memory_limit_bytes().map_or(8, |bytes| bytes / 4 / per_hash);
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let by_memory = usize::try_from(by_memory).unwrap_or(usize::MAX);
        Self::new(by_memory.clamp(1, cpus * 2))
    }
}

/// The memory limit of this process: cgroup v2, cgroup v1, else `MemTotal`.
fn memory_limit_bytes() -> Option<u64> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let cgroup = read("/sys/fs/cgroup/memory.max")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        // cgroup v1 reports "no limit" as a huge number.
        .filter(|&v| v < (1 << 50));
    cgroup.or_else(|| {
        read("/proc/meminfo")?
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
            .map(|kib| kib * 1024)
    })
}

/// The admission gate in front of argon2 ([`HashLimits`]).
#[derive(Debug)]
struct HashGate {
    limits: HashLimits,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// A running slot, moved into the blocking task so that a caller giving up (a client
/// disconnecting) does not free the slot while argon2 still holds the memory.
struct HashSlot {
    gate: Arc<HashGate>,
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl Drop for HashSlot {
    fn drop(&mut self) {
        self.gate.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The answer when the hashing queue is full: 503, retry shortly.
pub fn hashing_busy() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the server is busy checking passwords; retry in a moment",
    )
}

impl HashGate {
    fn new(limits: HashLimits) -> Self {
        Self {
            running: Arc::new(Semaphore::new(limits.max_concurrent)),
            admitted: Arc::new(Semaphore::new(limits.max_concurrent + limits.max_queued)),
            limits,
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    async fn enter(self: &Arc<Self>) -> Result<HashSlot> {
        // A full queue answers at once: waiting requests cost little, but not nothing.
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| hashing_busy())?;
        let running =
            tokio::time::timeout(self.limits.max_wait, self.running.clone().acquire_owned())
                .await
                .map_err(|_| hashing_busy())?
                .map_err(|_| hashing_busy())?;
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        Ok(HashSlot {
            gate: self.clone(),
            _running: running,
            _admitted: admitted,
        })
    }
}

/// argon2id hashing with fixed parameters (OWASP's by default).
///
/// Cheap to clone; clones share the dummy hash used by [`Passwords::dummy_verify`] and
/// the concurrency limit set with [`Passwords::with_limits`].
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    dummy: Arc<OnceLock<String>>,
    gate: Option<Arc<HashGate>>,
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
            gate: None,
        }
    }

    /// Runs at most `limits.max_concurrent` hashes at once behind a short queue; past
    /// it, [`hash`](Self::hash), [`verify`](Self::verify) and
    /// [`verify_or_dummy`](Self::verify_or_dummy) fail with `Unavailable` (503, retry).
    pub fn with_limits(mut self, limits: HashLimits) -> Self {
        self.gate = Some(Arc::new(HashGate::new(limits)));
        self
    }

    /// The concurrency limit, if any.
    pub fn limits(&self) -> Option<HashLimits> {
        self.gate.as_ref().map(|g| g.limits)
    }

    /// The most hashes that ever ran at once through this limit (0 without one).
    pub fn peak_concurrent_hashes(&self) -> usize {
        self.gate
            .as_ref()
            .map_or(0, |g| g.peak.load(Ordering::Relaxed))
    }

    /// The argon2 memory of one hash, in KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.params.m_cost()
    }

    async fn slot(&self) -> Result<Option<HashSlot>> {
        match &self.gate {
            Some(gate) => gate.enter().await.map(Some),
            None => Ok(None),
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
            gate: None,
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
        let slot = self.slot().await?;
        let this = self.clone();
        let password = password.to_owned();
        spawn_blocking(move || {
            let _slot = slot;
            this.hash_blocking(&password)
        })
        .await
    }

    /// Verifies `password` against `phc` on tokio's blocking pool.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        let slot = self.slot().await?;
        let this = self.clone();
        let (password, phc) = (password.to_owned(), phc.to_owned());
        spawn_blocking(move || {
            let _slot = slot;
            this.verify_blocking(&password, &phc)
        })
        .await
    }

    /// Verifies against `phc`, or spends a [dummy verification](Self::dummy_verify) when
    /// there is none (unknown account), so both take the same time and the same slot.
    pub async fn verify_or_dummy(&self, password: &str, phc: Option<&str>) -> Result<bool> {
        let slot = self.slot().await?;
        let this = self.clone();
        let (password, phc) = (password.to_owned(), phc.map(str::to_owned));
        spawn_blocking(move || {
            let _slot = slot;
            match phc {
                Some(phc) => this.verify_blocking(&password, &phc),
                None => this.dummy_verify_blocking(&password).map(|_| false),
            }
        })
        .await
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
