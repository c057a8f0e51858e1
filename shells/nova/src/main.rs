//! `nova`: every Nova domain in one process, on embedded storage.
//!
//! `cargo run --release` starts it with no configuration at all: SQLite under
//! `./nova-data/`, the in-process event log and key-value store, HTTP on the gateway port
//! 8000. Every setting is an environment variable (see `nova_core::config::ENV_VARS`);
//! a bad value stops it at once with one line naming the variable. The wiring is
//! `nova_app`'s plan `nova`.
//!
//! `nova demo` does the same after seeding a small network (users, follows, posts with
//! hashtags, likes) so GraphiQL shows a home feed and trending tags at once.

mod demo;

use std::process::ExitCode;

// A request allocates a few hundred small objects across threads; glibc's malloc spent
// ~13% of the homeFeed load test's CPU on them (perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICE: &str = "nova";

#[tokio::main]
async fn main() -> ExitCode {
    let demo = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("demo") => true,
        Some("-h" | "--help" | "help") => {
            let password = demo::DEMO_PASSWORD;
            println!(
                "usage: nova [demo]\n  demo  seed a small demo network first (password: {password})\nconfiguration: environment variables, see deploy/.env.example"
            );
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            let e = format!("unknown command `{other}` (try `nova demo` or `nova --help`)");
            return nova_runtime::shell::fail(SERVICE, &e);
        }
    };
    nova_runtime::shell::main(SERVICE, move |config| async move {
        let app = nova_app::App::start(SERVICE, config).await?;
        if demo {
            demo::DemoDomains::of(app.domains())?
                .seed_and_report()
                .await?;
        }
        app.serve().await
    })
    .await
}
