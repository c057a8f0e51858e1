//! `nova`: every Nova domain in one process, on embedded storage.
//!
//! `cargo run --release` starts it with no configuration at all: SQLite under
//! `./nova-data/`, the in-process event log and key-value store, HTTP on the gateway port
//! 8000. Every setting is an environment variable (see `nova_core::config::ENV_VARS`);
//! a bad value stops it at once with one line naming the variable.

mod app;

use std::process::ExitCode;

use nova_core::config::NovaConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match NovaConfig::load() {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    nova_core::telemetry::init_tracing(&config);
    match app::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// One line on stderr, exit code 2: what an operator needs to fix a bad start.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    let line = error.to_string().replace('\n', " ");
    eprintln!("nova: {line}");
    ExitCode::from(2)
}
