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
//!
//! `nova search reindex` rebuilds the search index from the domains' storage (a new
//! index swapped in: on OpenSearch while serving goes on, on Tantivy with the server
//! stopped), printing its progress, then exits.

mod demo;

use std::process::ExitCode;

// A request allocates a few hundred small objects across threads; glibc's malloc spent
// ~13% of the homeFeed load test's CPU on them (perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICE: &str = "nova";

#[tokio::main]
async fn main() -> ExitCode {
    let password = demo::DEMO_PASSWORD;
    let command = nova_app::cli::command(SERVICE)
        .subcommand(clap::Command::new("serve").about("Serve every domain (the default)"))
        .subcommand(clap::Command::new("demo").about(format!(
            "Seed a small demo network first, then serve (password: {password})"
        )))
        .subcommand(
            clap::Command::new("check-config")
                .about("Read and check the configuration, then exit (0: it would start)"),
        )
        .subcommand(
            clap::Command::new("search")
                .about("Search index maintenance")
                .subcommand_required(true)
                .subcommand(clap::Command::new("reindex").about(
                    "Rebuild the search index from the database into a new index and swap it in \
                     (OpenSearch: while serving; Tantivy: stop the server first)",
                )),
        );
    let matches = match nova_app::cli::parse(SERVICE, command) {
        Ok(matches) => matches,
        Err(exit) => return exit,
    };
    let subcommand = match matches.subcommand() {
        Some(("search", sub)) => format!("search {}", sub.subcommand_name().unwrap_or("")),
        Some((name, _)) => name.to_owned(),
        None => "serve".to_owned(),
    };
    nova_runtime::shell::main(SERVICE, move |config| async move {
        if subcommand == "search reindex" {
            return nova_app::search::reindex_reporting(SERVICE, config).await;
        }
        if subcommand == "check-config" {
            nova_app::Settings::read(nova_app::Plan::of(SERVICE)?, &config)?;
            println!("{SERVICE}: configuration is valid");
            return Ok(());
        }
        let app = nova_app::App::start(SERVICE, config).await?;
        if subcommand == "demo" {
            demo::DemoDomains::of(app.domains())?
                .seed_and_report()
                .await?;
        }
        app.serve().await
    })
    .await
}
