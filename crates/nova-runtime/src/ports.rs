//! Which ports a service listens on, from its [`ServiceSpec`] and the configuration.

use nova_core::config::{ConfigError, NovaConfig, Origin};

use crate::services::ServiceSpec;

/// The resolved listening ports of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// HTTP port (`0`: an ephemeral port chosen by the OS).
    pub http: u16,
    /// gRPC port; `None` for a service without gRPC (the gateway).
    pub grpc: Option<u16>,
}

/// Resolves the ports of `spec`:
///
/// - HTTP: `NOVA_HTTP_PORT` if set, else `<PREFIX>_HTTP_PORT` (`GRAPHQL_GATEWAY_PORT` for
///   the gateway), else the registered port;
/// - gRPC: `NOVA_GRPC_PORT` if set, else `<PREFIX>_GRPC_PORT`, else the HTTP port + 1000
///   (`0` stays `0`, so tests get two ephemeral ports).
///
/// A value that is not a port is a [`ConfigError`] naming the variable.
///
/// ```
/// use nova_core::config::{ConfigSource, NovaConfig};
/// use nova_runtime::{resolve_ports, ServiceSpec};
///
/// let spec = ServiceSpec::by_name("identity-service").unwrap();
/// let config = NovaConfig::from_source(&ConfigSource::from_pairs([
///     ("IDENTITY_SERVICE_HTTP_PORT", "7081"),
/// ]))?;
/// let ports = resolve_ports(spec, &config)?;
/// assert_eq!((ports.http, ports.grpc), (7081, Some(8081)));
/// # Ok::<(), nova_core::config::ConfigError>(())
/// ```
pub fn resolve_ports(spec: &ServiceSpec, config: &NovaConfig) -> Result<Ports, ConfigError> {
    let http_var = spec.http_port_env();
    let (http, http_from) = match config.http_port {
        Some(port) => (port, "NOVA_HTTP_PORT".to_owned()),
        None => match config.source.port(&http_var)? {
            Some(port) => (port, http_var),
            None => (spec.http_port, String::new()),
        },
    };
    let Some(grpc_var) = spec.grpc_port_env() else {
        return Ok(Ports { http, grpc: None });
    };
    let grpc = match config.grpc_port {
        Some(port) => port,
        None => match config.source.port(&grpc_var)? {
            Some(port) => port,
            None if http == 0 => 0,
            None => http.checked_add(1000).ok_or_else(|| ConfigError::Invalid {
                var: http_from.clone(),
                value: http.to_string(),
                expected: format!(
                    "a port of at most 64535 (the gRPC port defaults to HTTP + 1000), or set {grpc_var}"
                ),
                origin: config
                    .source
                    .raw(&http_from)
                    .map_or(Origin::Environment, |(_, origin)| origin),
            })?,
        },
    };
    Ok(Ports {
        http,
        grpc: Some(grpc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nova_core::config::ConfigSource;

    fn ports(name: &str, pairs: &[(&str, &str)]) -> Result<Ports, ConfigError> {
        let config =
            NovaConfig::from_source(&ConfigSource::from_pairs(pairs.iter().copied())).unwrap();
        resolve_ports(ServiceSpec::by_name(name).unwrap(), &config)
    }

    #[test]
    fn registered_ports_by_default() {
        let p = ports("identity-service", &[]).unwrap();
        assert_eq!(
            p,
            Ports {
                http: 8081,
                grpc: Some(9081)
            }
        );
        let gw = ports("graphql-gateway", &[]).unwrap();
        assert_eq!(
            gw,
            Ports {
                http: 8000,
                grpc: None
            }
        );
    }

    #[test]
    fn nova_vars_win_over_service_vars() {
        let p = ports(
            "user-service",
            &[
                ("NOVA_HTTP_PORT", "1"),
                ("USER_SERVICE_HTTP_PORT", "2"),
                ("NOVA_GRPC_PORT", "3"),
                ("USER_SERVICE_GRPC_PORT", "4"),
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            Ports {
                http: 1,
                grpc: Some(3)
            }
        );
        let p = ports(
            "user-service",
            &[
                ("USER_SERVICE_HTTP_PORT", "2"),
                ("USER_SERVICE_GRPC_PORT", "4"),
            ],
        )
        .unwrap();
        assert_eq!(
            p,
            Ports {
                http: 2,
                grpc: Some(4)
            }
        );
    }

    #[test]
    fn grpc_follows_the_resolved_http_port() {
        let p = ports("feed-service", &[("FEED_SERVICE_HTTP_PORT", "7000")]).unwrap();
        assert_eq!(p.grpc, Some(8000));
        let p = ports("feed-service", &[("NOVA_HTTP_PORT", "0")]).unwrap();
        assert_eq!(
            p,
            Ports {
                http: 0,
                grpc: Some(0)
            }
        );
        let gw = ports("graphql-gateway", &[("GRAPHQL_GATEWAY_PORT", "8100")]).unwrap();
        assert_eq!(
            gw,
            Ports {
                http: 8100,
                grpc: None
            }
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = ports("search-service", &[("SEARCH_SERVICE_HTTP_PORT", "http")]).unwrap_err();
        assert!(
            err.to_string().contains("SEARCH_SERVICE_HTTP_PORT"),
            "{err}"
        );
        let err = ports("search-service", &[("SEARCH_SERVICE_GRPC_PORT", "99999")]).unwrap_err();
        assert!(
            err.to_string().contains("SEARCH_SERVICE_GRPC_PORT"),
            "{err}"
        );
        let err = ports("search-service", &[("SEARCH_SERVICE_HTTP_PORT", "65000")]).unwrap_err();
        assert!(
            err.to_string().contains("SEARCH_SERVICE_HTTP_PORT"),
            "{err}"
        );
        assert!(
            err.to_string().contains("SEARCH_SERVICE_GRPC_PORT"),
            "{err}"
        );
    }
}
