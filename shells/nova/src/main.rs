//! `nova`: every Nova domain in one process, on embedded storage.
//!
//! `cargo run --release` starts it with no configuration at all: SQLite under
//! `./nova-data/`, the in-process event log and key-value store, HTTP on the gateway port
//! 8000. Every setting is an environment variable (see `nova_core::config::ENV_VARS`);
//! a bad value stops it at once with one line naming the variable.
//!
//! `nova demo` does the same after seeding a small network (users, follows, posts with
//! hashtags, likes) so GraphiQL shows a home feed and trending tags at once.

mod app;
mod demo;

use std::process::ExitCode;

use nova_core::config::NovaConfig;

// A request allocates a few hundred small objects across threads; glibc's malloc spent
// ~13% of the homeFeed load test's CPU on them (perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let demo = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("demo") => true,
        Some("-h" | "--help" | "help") => {
            println!(
                "usage: nova [demo]\n  demo  seed a small demo network first (password: {})\nconfiguration: environment variables, see deploy/.env.example",
                demo::DEMO_PASSWORD
            );
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            return fail(&format!(
                "unknown command `{other}` (try `nova demo` or `nova --help`)"
            ));
        }
    };
    let config = match NovaConfig::load() {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    nova_core::telemetry::init_tracing(&config);
    match app::run(config, demo).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// One line on stderr, exit code 2: what an operator needs to fix a bad start.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    nova_runtime::shell::fail("nova", error)
}
