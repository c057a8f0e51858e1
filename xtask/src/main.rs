//! Project automation, run as `cargo xtask <command>`.
//!
//! - `cargo xtask test [args...]`: make sure the test backends run (PostgreSQL, Redis,
//!   ClickHouse, FalkorDB, a Kafka-protocol broker, an S3-protocol server, an SMTP server, an OpenSearch-protocol server), export their `NOVA_TEST_*` URLs, then
//!   run the whole workspace with cargo-nextest and the doc tests. Extra args go to
//!   nextest (e.g. a test filter).
//! - `cargo xtask services up|down|status`: the local backends, for development.
//! - `cargo xtask gen-deploy [--check]`: regenerate (or check for drift) the deploy/ and
//!   monitoring/ files generated from the service registry.
//! - `cargo xtask check-deploy`: validate deploy/ and monitoring/ with promtool,
//!   docker-compose, kubectl kustomize and kubernetes-validate (also run by `test`).
//!
//! Build outputs go to a target directory shared by every clone (`$CARGO_TARGET_DIR`, else
//! `~/.cache/nova/target`), so a fresh clone (CI) does not rebuild the world.

mod clickhouse;
mod deploy;
mod falkordb;
mod kafka;
mod opensearch;
mod s3;
mod schema;
mod services;
mod smtp;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("gen-deploy") => deploy::gen_deploy(&args[1..]),
        Some("check-deploy") => deploy::check_deploy(),
        Some("schema") => schema::schema(&args[1..]),
        Some("services") => match args.get(1).map(String::as_str) {
            Some("up") => services::up().map(|urls| urls.print()),
            Some("down") => services::down(),
            Some("status") => {
                services::status();
                Ok(())
            }
            _ => Err("usage: cargo xtask services up|down|status".to_owned()),
        },
        _ => Err(
            "usage: cargo xtask <command>\n  test [nextest args]   start backends, run every test\n  services up|down|status\n  gen-deploy [--check]  regenerate deploy/ and monitoring/ files from the registry\n  check-deploy          validate deploy/ and monitoring/ with the real tools\n  schema [--check]      write (or check for drift) schema.graphql from nova-gateway"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The shared target directory.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    cache_dir().join("target")
}

/// `~/.cache/nova` (or `$XDG_CACHE_HOME/nova`).
pub(crate) fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("nova")
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.env("CARGO_TARGET_DIR", target_dir());
    // Every clone builds the workspace's own crates afresh (CI clones anew each run), so
    // incremental state would only pile up gigabytes in the shared target directory.
    cmd.env("CARGO_INCREMENTAL", "0");
    cmd
}

fn run(mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

fn has_nextest() -> bool {
    Command::new("cargo-nextest")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn test(extra: &[String]) -> Result<(), String> {
    let started = std::time::Instant::now();
    build_libraries()?;
    kafka::stop_owned()?;
    let urls = services::up()?;
    urls.print();
    let chromedriver = browser()?;
    graphql_core()?;
    eprintln!("xtask: NOVA_TEST_CHROMEDRIVER={chromedriver}");
    let with_env = |mut cmd: Command| {
        cmd.env("NOVA_TEST_CHROMEDRIVER", &chromedriver)
            .env("NOVA_TEST_POSTGRES_URL", &urls.postgres)
            .env("NOVA_TEST_REDIS_URL", &urls.redis)
            .env("NOVA_TEST_CLICKHOUSE_URL", &urls.clickhouse)
            .env("NOVA_TEST_FALKORDB_URL", &urls.falkordb)
            .env("NOVA_TEST_KAFKA_BROKERS", &urls.kafka)
            .env("NOVA_TEST_S3_URL", &urls.s3)
            .env("NOVA_TEST_SMTP_URL", &urls.smtp.url)
            .env("NOVA_TEST_SMTP_MAILBOX", &urls.smtp.mailbox)
            .env("NOVA_TEST_OPENSEARCH_URL", &urls.opensearch);
        cmd
    };
    if !has_nextest() {
        eprintln!("xtask: cargo-nextest not found; installing it once");
        run(cargo_install("cargo-nextest"))?;
    }
    let mut nextest = cargo();
    nextest.args([
        "nextest",
        "run",
        "--workspace",
        "--all-features",
        "--no-fail-fast",
    ]);
    nextest.args(extra);
    run(with_env(nextest))?;
    if extra.is_empty() {
        // nextest does not run doc tests; they are the crates' runnable examples.
        let mut doc = cargo();
        doc.args(["test", "--doc", "--workspace", "--all-features"]);
        run(with_env(doc))?;
        deploy::check_deploy()?;
        schema::check_schema()?;
    }
    eprintln!("xtask: all tests passed in {:.0?}", started.elapsed());
    Ok(())
}

/// C libraries the workspace links: OpenSSL (under webauthn-rs, nova-identity's passkeys),
/// found through pkg-config. A fresh Debian machine has neither: install them once.
fn build_libraries() -> Result<(), String> {
    let found = Command::new("pkg-config")
        .args(["--exists", "openssl"])
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Ok(());
    }
    eprintln!("xtask: OpenSSL headers not found; installing libssl-dev and pkg-config once");
    services::apt_install(&["libssl-dev", "pkg-config"])
}

/// Headless Chromium and its WebDriver server, for the GraphiQL browser test: Debian's
/// `chromium` and `chromium-driver`, installed once. Returns chromedriver's path.
fn browser() -> Result<String, String> {
    if !(services::installed("chromium") && services::installed("chromedriver")) {
        eprintln!("xtask: chromium or chromedriver not found; installing them once");
        services::apt_install(&["chromium", "chromium-driver"])?;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v chromedriver"])
        .output()
        .map_err(|e| format!("cannot look for chromedriver: {e}"))?;
    Ok(String::from_utf8_lossy(&found.stdout).trim().to_owned())
}

/// graphql-core (PyPI), which rebuilds the schema from live introspection in the
/// introspection test, as code generators do.
fn graphql_core() -> Result<(), String> {
    let import = || {
        Command::new("python3")
            .args(["-c", "import graphql"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if import() {
        return Ok(());
    }
    eprintln!("xtask: graphql-core not found; installing it with pip");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "graphql-core==3.2.*"]);
    run(pip)?;
    if import() {
        Ok(())
    } else {
        Err("pip installed graphql-core but python3 cannot import it".to_owned())
    }
}

fn cargo_install(krate: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(["install", "--locked", krate]);
    cmd
}
