//! What every service binary's `main` does: load the configuration, start tracing, run,
//! and turn a failed start into one line on stderr with exit code 2; plus the lazily
//! connecting gRPC channel to a neighbour named by a `*_SERVICE_URL` variable.
//!
//! ```no_run
//! use nova_core::config::NovaConfig;
//!
//! async fn run(config: NovaConfig) -> Result<(), String> {
//!     let _graph = nova_runtime::shell::remote(&config, "GRAPH_SERVICE_URL")?;
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     nova_runtime::shell::main("graph-service", run).await
//! }
//! ```

use std::future::Future;
use std::process::ExitCode;

use std::sync::Arc;

use nova_auth::service::ServiceTokens;
use nova_core::channel::ServiceChannel;
use nova_core::config::NovaConfig;
use tonic::transport::{Channel, Endpoint};

/// Loads the configuration, starts tracing and runs `run` until it returns; an error
/// (bad configuration, unreachable backend) is one line on stderr, exit code 2.
pub async fn main<F, Fut>(service: &str, run: F) -> ExitCode
where
    F: FnOnce(NovaConfig) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut config = match NovaConfig::load() {
        Ok(config) => config,
        Err(e) => return fail(service, &e),
    };
    config.service = Some(service.to_owned());
    nova_core::telemetry::init_tracing(&config);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(service, &e),
    }
}

/// One line on stderr (`service: what went wrong`), exit code 2: what an operator needs
/// to fix a bad start.
pub fn fail(service: &str, error: &dyn std::fmt::Display) -> ExitCode {
    let line = error.to_string().replace('\n', " ");
    eprintln!("{service}: {line}");
    ExitCode::from(2)
}

/// A channel to the URL in `var`, connecting on first use (so services may start in any
/// order); `None` when the variable is unset. A malformed URL is an error naming `var`.
///
/// The channel carries this service's identity (`config.service`, set by [`main`]): a
/// service token from identity on every request (see `nova_auth::service`), which the
/// callee requires on internal RPCs. Without `NOVA_SERVICE_SECRET` or
/// `NOVA_SERVICE_CREDENTIAL` it carries none, and the callee refuses internal RPCs.
pub fn remote(config: &NovaConfig, var: &str) -> Result<Option<ServiceChannel>, String> {
    let Some((url, _)) = config.source.raw(var) else {
        return Ok(None);
    };
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|_| format!("{var}: expected an http:// URL such as http://host:port"))?;
    Ok(Some(with_identity(config, endpoint.connect_lazy())))
}

/// `channel`, carrying this service's identity (see [`remote`]) when the configuration
/// gives one.
pub fn with_identity(config: &NovaConfig, channel: Channel) -> ServiceChannel {
    let tokens = config
        .service
        .as_deref()
        .and_then(|service| ServiceTokens::from_config(config, service));
    match tokens {
        Some(tokens) => ServiceChannel::new(channel, Arc::new(tokens)),
        None => {
            tracing::warn!(
                "no NOVA_SERVICE_SECRET / NOVA_SERVICE_CREDENTIAL: calls carry no service identity"
            );
            ServiceChannel::from(channel)
        }
    }
}
