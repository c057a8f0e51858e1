//! The gateway's knobs: production mode, query limits and rate limits.

use nova_core::Result;
use nova_core::config::{EnvVar, NovaConfig};

/// The variables the gateway reads beside nova-core's (`NOVA_ENV` turns production on).
pub const GATEWAY_ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "GATEWAY_RATE_PER_PRINCIPAL",
        description: "GraphQL operations and REST writes per minute per signed-in user",
        default: Some("3000"),
    },
    EnvVar {
        name: "GATEWAY_RATE_PER_IP",
        description: "GraphQL operations and REST writes per minute per client IP (IPv6: per /64)",
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
        Ok(Self {
            production: config.is_production(),
            query: QueryLimits::default(),
            rates: RateLimits::from_config(config)?,
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
    /// Most open `/graphql/ws` connections per client address (IPv6: per /64).
    pub max_ws_per_address: usize,
    /// Most open `/graphql/ws` connections per signed-in user.
    pub max_ws_per_user: usize,
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
            max_ws_per_address: 32,
            max_ws_per_user: 8,
        }
    }
}

/// Rate limits: the edge limits REST routes charge too (same buckets, same quotas), so
/// switching doors gains nothing. Every operation counts one against the caller's
/// principal (if signed in) and IP; logins, registrations and post creations also count
/// one **per field** in their own buckets, so aliases and batches cannot multiply
/// attempts.
pub type RateLimits = nova_kv::edge::EdgeLimits;

#[cfg(test)]
mod tests {
    use nova_core::config::{ConfigSource, NovaConfig};
    use nova_kv::Quota;

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
