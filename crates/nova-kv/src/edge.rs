//! The rate limits at Nova's edge, one definition for every door: the GraphQL gateway
//! and the REST routes (identity, social, content) charge the **same buckets** with the
//! same quotas, so a client cannot get twice the budget by switching doors.
//!
//! Each request counts one operation against its client address (IPv6 by /64) and, when
//! signed in, against its principal; logins, registrations and post creations also count
//! per attempt in their own buckets. nova-runtime's HTTP stack puts an [`EdgeGuard`] (over
//! the process's shared [`RateLimiter`]) in every request's extensions; REST handlers take
//! it with the [`Edge`] extractor.
//!
//! ```
//! use nova_kv::edge::{Charge, EdgeGuard, EdgeLimits};
//! use nova_kv::Kv;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let guard = EdgeGuard::new(Kv::in_process().rate_limiter, EdgeLimits::default());
//! let user = nova_core::UserId::new();
//! for _ in 0..30 {
//!     guard.charge(None, Some(user), Charge::posts(1)).await.unwrap();
//! }
//! // The 31st post within a minute is refused.
//! assert!(guard.charge(None, Some(user), Charge::posts(1)).await.is_err());
//! # }
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum_core::extract::FromRequestParts;
use http::request::Parts;
use nova_core::client::ClientAddr;
use nova_core::config::NovaConfig;
use nova_core::{Error, ErrorKind, Result, SystemClock, UserId};

use crate::rate_limit::{InProcessRateLimiter, Quota, RateLimiter};

/// The quotas (GCRA, shared by every replica when the limiter is Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeLimits {
    /// Operations (GraphQL operations, REST writes) per signed-in principal
    /// (`GATEWAY_RATE_PER_PRINCIPAL`).
    pub per_principal: Quota,
    /// Operations per client address (`GATEWAY_RATE_PER_IP`).
    pub per_ip: Quota,
    /// Login attempts (password and second factor) per client address.
    pub login: Quota,
    /// Registration attempts per client address.
    pub register: Quota,
    /// Posts, replies and quotes per principal (per address when signed out).
    pub post_creation: Quota,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            per_principal: Quota::per_minute(3_000),
            per_ip: Quota::per_minute(6_000),
            login: Quota::per_minute(10),
            register: Quota::new(10, Duration::from_secs(3_600)),
            post_creation: Quota::per_minute(30),
        }
    }
}

impl EdgeLimits {
    /// The defaults with the per-principal and per-address rates of
    /// `GATEWAY_RATE_PER_PRINCIPAL` / `GATEWAY_RATE_PER_IP` (operations per minute,
    /// declared in nova-gateway's `GATEWAY_ENV_VARS`); a bad value is an error naming it.
    pub fn from_config(config: &NovaConfig) -> Result<Self> {
        let per_minute = |name: &str, default: Quota| -> Result<Quota> {
            let value = config
                .source
                .get::<u32>(name, "operations per minute, at least 1")
                .map_err(|e| Error::invalid(name, e))?;
            match value {
                None => Ok(default),
                Some(0) => Err(Error::invalid(name, "must be at least 1")),
                Some(n) => Ok(Quota::per_minute(n)),
            }
        };
        let defaults = Self::default();
        Ok(Self {
            per_principal: per_minute("GATEWAY_RATE_PER_PRINCIPAL", defaults.per_principal)?,
            per_ip: per_minute("GATEWAY_RATE_PER_IP", defaults.per_ip)?,
            ..defaults
        })
    }
}

/// What one request asks for: one operation plus this many attempts of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charge {
    /// Operations (1 for a REST call or a GraphQL operation).
    pub operations: u64,
    /// `login` / second-factor attempts.
    pub logins: u64,
    /// `register` attempts.
    pub registrations: u64,
    /// Posts, replies and quotes created.
    pub posts: u64,
}

impl Charge {
    /// One operation and nothing else (a follow, a like, a read).
    pub const fn operation() -> Self {
        Self {
            operations: 1,
            logins: 0,
            registrations: 0,
            posts: 0,
        }
    }

    /// One operation holding `n` login attempts.
    pub const fn logins(n: u64) -> Self {
        Self {
            logins: n,
            ..Self::operation()
        }
    }

    /// One operation holding `n` registrations.
    pub const fn registrations(n: u64) -> Self {
        Self {
            registrations: n,
            ..Self::operation()
        }
    }

    /// One operation creating `n` posts.
    pub const fn posts(n: u64) -> Self {
        Self {
            posts: n,
            ..Self::operation()
        }
    }
}

/// The error of a spent budget (429 over HTTP, `RATE_LIMITED` in GraphQL).
pub fn rate_limited() -> Error {
    Error::new(ErrorKind::RateLimited, "too many requests, try again later")
}

/// The limiter and the quotas, as every door charges them.
#[derive(Clone)]
pub struct EdgeGuard {
    limiter: Arc<dyn RateLimiter>,
    limits: EdgeLimits,
}

impl EdgeGuard {
    /// A guard charging `limiter` with `limits`.
    pub fn new(limiter: Arc<dyn RateLimiter>, limits: EdgeLimits) -> Self {
        Self { limiter, limits }
    }

    /// The quotas.
    pub fn limits(&self) -> &EdgeLimits {
        &self.limits
    }

    /// Charges one request of `client` (unknown address: one shared bucket) and
    /// `principal`: each bucket all or nothing, so aliases and batches cannot multiply
    /// attempts. The first spent budget is a `RateLimited` error.
    pub async fn charge(
        &self,
        client: Option<ClientAddr>,
        principal: Option<UserId>,
        charge: Charge,
    ) -> Result<()> {
        let limits = &self.limits;
        let ip = client.map_or_else(|| "unknown".to_owned(), |c| c.bucket());
        self.take(&format!("edge:ip:{ip}"), &limits.per_ip, charge.operations)
            .await?;
        let who = match principal {
            Some(user) => {
                let user = format!("user:{user}");
                let key = format!("edge:{user}");
                self.take(&key, &limits.per_principal, charge.operations)
                    .await?;
                user
            }
            None => format!("ip:{ip}"),
        };
        self.take(&format!("edge:login:ip:{ip}"), &limits.login, charge.logins)
            .await?;
        let register = format!("edge:register:ip:{ip}");
        self.take(&register, &limits.register, charge.registrations)
            .await?;
        self.take(
            &format!("edge:posts:{who}"),
            &limits.post_creation,
            charge.posts,
        )
        .await
    }

    /// Counts `cost` against `key`, all or nothing.
    async fn take(&self, key: &str, quota: &Quota, cost: u64) -> Result<()> {
        if cost == 0 {
            return Ok(());
        }
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        if cost > quota.limit {
            return Err(rate_limited());
        }
        if self.limiter.check_n(key, quota, cost).await?.allowed {
            Ok(())
        } else {
            Err(rate_limited())
        }
    }

    /// The guard of a request: the one nova-runtime's stack installed, else a
    /// process-wide in-process one with the default limits (a router served without
    /// nova-runtime is limited per process, never unlimited).
    pub fn from_extensions(extensions: &http::Extensions) -> Self {
        static FALLBACK: OnceLock<EdgeGuard> = OnceLock::new();
        extensions.get::<EdgeGuard>().cloned().unwrap_or_else(|| {
            FALLBACK
                .get_or_init(|| {
                    let limiter = Arc::new(InProcessRateLimiter::new(SystemClock::shared()));
                    EdgeGuard::new(limiter, EdgeLimits::default())
                })
                .clone()
        })
    }
}

/// Extractor for REST handlers: the request's [`EdgeGuard`] and client address.
pub struct Edge {
    /// The guard.
    pub guard: EdgeGuard,
    /// The client's address, when known.
    pub client: Option<ClientAddr>,
}

impl Edge {
    /// Charges this request (see [`EdgeGuard::charge`]).
    pub async fn charge(&self, principal: Option<UserId>, charge: Charge) -> Result<()> {
        self.guard.charge(self.client, principal, charge).await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Edge {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(Self {
            guard: EdgeGuard::from_extensions(&parts.extensions),
            client: ClientAddr::from_extensions(&parts.extensions),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> EdgeGuard {
        let limiter = Arc::new(InProcessRateLimiter::new(SystemClock::shared()));
        EdgeGuard::new(limiter, EdgeLimits::default())
    }

    fn client(ip: &str) -> Option<ClientAddr> {
        Some(ClientAddr::direct(ip.parse().unwrap()))
    }

    #[tokio::test]
    async fn attempts_are_counted_per_address_and_ipv6_per_64() {
        let g = guard();
        for i in 0..10 {
            let ip = format!("2001:db8:0:1::{i:x}");
            g.charge(client(&ip), None, Charge::logins(1))
                .await
                .unwrap();
        }
        // Another address of the same /64: same bucket, spent.
        let same = client("2001:db8:0:1:ffff::1");
        assert!(g.charge(same, None, Charge::logins(1)).await.is_err());
        // Another /64 and another IPv4 address: their own budgets.
        let other = client("2001:db8:0:2::1");
        g.charge(other, None, Charge::logins(1)).await.unwrap();
        g.charge(client("203.0.113.7"), None, Charge::logins(10))
            .await
            .unwrap();
        // More attempts than the quota in one request: refused outright.
        let fresh = client("203.0.113.8");
        assert!(g.charge(fresh, None, Charge::logins(11)).await.is_err());
    }

    #[tokio::test]
    async fn registrations_and_posts_have_their_own_budgets() {
        let g = guard();
        let ip = client("198.51.100.1");
        for _ in 0..10 {
            g.charge(ip, None, Charge::registrations(1)).await.unwrap();
        }
        assert!(g.charge(ip, None, Charge::registrations(1)).await.is_err());
        // Posts of a signed-in user count per user, from any address.
        let user = UserId::new();
        for i in 0..30 {
            let ip = client(&format!("192.0.2.{i}"));
            g.charge(ip, Some(user), Charge::posts(1)).await.unwrap();
        }
        let error = g
            .charge(client("192.0.2.200"), Some(user), Charge::posts(1))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::RateLimited);
        g.charge(ip, Some(UserId::new()), Charge::posts(1))
            .await
            .unwrap();
    }

    #[test]
    fn rates_come_from_the_environment() {
        use nova_core::config::ConfigSource;
        let config = |pairs: &[(&str, &str)]| {
            NovaConfig::from_source(&ConfigSource::from_pairs(pairs.to_vec())).unwrap()
        };
        let limits = EdgeLimits::from_config(&config(&[("GATEWAY_RATE_PER_IP", "5")])).unwrap();
        assert_eq!(limits.per_ip, Quota::per_minute(5));
        let bad = EdgeLimits::from_config(&config(&[("GATEWAY_RATE_PER_PRINCIPAL", "x")]));
        assert_eq!(bad.unwrap_err().field(), Some("GATEWAY_RATE_PER_PRINCIPAL"));
    }
}
