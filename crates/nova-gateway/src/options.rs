//! The gateway's knobs: production mode, query limits and rate limits.

use std::time::Duration;

use nova_core::config::{EnvVar, NovaConfig};
use nova_core::{Error, Result};
use nova_kv::Quota;

/// The variables the gateway reads beside nova-core's (`NOVA_ENV` turns production on).
pub const GATEWAY_ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "GATEWAY_RATE_PER_PRINCIPAL",
        description: "GraphQL operations per minute per signed-in user",
        default: Some("3000"),
    },
    EnvVar {
        name: "GATEWAY_RATE_PER_IP",
        description: "GraphQL operations per minute per client IP",
        default: Some("6000"),
    },
];

/// How the gateway is served.
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// `NOVA_ENV=production`: no introspection, no GraphiQL, no field suggestions.
    pub production: bool,
    /// Limits on one request's shape, checked before any resolver runs.
    pub query: QueryLimits,
    /// Rate limits.
    pub rates: RateLimits,
}

impl GatewayOptions {
    /// Defaults, in production mode when `config` says so (`NOVA_ENV`), with the
    /// per-principal and per-IP rates of [`GATEWAY_ENV_VARS`].
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
        let defaults = RateLimits::default();
        Ok(Self {
            production: config.is_production(),
            query: QueryLimits::default(),
            rates: RateLimits {
                per_principal: per_minute("GATEWAY_RATE_PER_PRINCIPAL", defaults.per_principal)?,
                per_ip: per_minute("GATEWAY_RATE_PER_IP", defaults.per_ip)?,
                ..defaults
            },
        })
    }
}

/// Limits on one GraphQL request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Largest request body in bytes (413 above).
    pub max_body_bytes: usize,
    /// Deepest nesting of `{ ( [` in the query text, checked before it is parsed (so the
    /// recursive-descent parser never sees a 10k-deep document).
    pub max_nesting: usize,
    /// Deepest selection-set recursion the parser output may have (fragments included).
    pub max_recursion: usize,
    /// Deepest field nesting.
    pub max_depth: usize,
    /// Largest total complexity (lists count `first` times their items).
    pub max_complexity: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Most fields at the root of one operation (after expanding fragments).
    pub max_root_fields: usize,
    /// Most field selections in one document once fragments are expanded.
    pub max_fields: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_nesting: 32,
            max_recursion: 32,
            max_depth: 12,
            max_complexity: 5_000,
            max_aliases: 30,
            max_root_fields: 20,
            max_fields: 1_000,
            max_directives: 4,
            max_batch: 10,
        }
    }
}

/// Rate limits (GCRA through nova-kv's `RateLimiter`, shared by every replica when it is
/// Redis). Every operation counts one against the caller's principal (if signed in) and
/// IP; logins, registrations and post creations also count one **per field** in their
/// own buckets, so aliases and batches cannot multiply attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Operations per signed-in principal.
    pub per_principal: Quota,
    /// Operations per client IP.
    pub per_ip: Quota,
    /// `login` and `loginTwoFactor` attempts per IP.
    pub login: Quota,
    /// `register` attempts per IP.
    pub register: Quota,
    /// `createPost`, `reply` and `quote` per principal.
    pub post_creation: Quota,
}

impl Default for RateLimits {
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

#[cfg(test)]
mod tests {
    use nova_core::config::{ConfigSource, NovaConfig};

    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Result<GatewayOptions> {
        let config = NovaConfig::from_source(&ConfigSource::from_pairs(pairs.to_vec())).unwrap();
        GatewayOptions::from_config(&config)
    }

    #[test]
    fn production_and_rates_come_from_the_environment() {
        let dev = options(&[]).unwrap();
        assert!(!dev.production);
        assert_eq!(dev.rates, RateLimits::default());
        let prod = options(&[
            ("NOVA_ENV", "production"),
            (
                "NOVA_CURSOR_SECRET",
                "q8Yh3v0Jx2mB7cN1pL4sT6wZ9rE5uK0aG3dF8hJ2",
            ),
            ("GATEWAY_RATE_PER_IP", "120000"),
        ])
        .unwrap();
        assert!(prod.production);
        assert_eq!(prod.rates.per_ip, Quota::per_minute(120_000));
        let bad = options(&[("GATEWAY_RATE_PER_PRINCIPAL", "lots")]).unwrap_err();
        assert_eq!(bad.field(), Some("GATEWAY_RATE_PER_PRINCIPAL"));
        assert!(options(&[("GATEWAY_RATE_PER_IP", "0")]).is_err());
    }
}
