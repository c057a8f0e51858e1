//! A Kafka-protocol broker for nova-events' Kafka tests and bench: use
//! `NOVA_TEST_KAFKA_BROKERS` when set, else a broker answering on 127.0.0.1:19092, else
//! start tansu (Apache Kafka compatible, from crates.io; no JVM, no Docker) with in-memory
//! storage, installing it once into `~/.cache/nova/tools/tansu-0.6.0` when missing
//! (a ~20-minute build on 2 cores, reused afterwards). Port 19092, never 9092 (the
//! ranking service's gRPC port). Loopback only. Ready when it answers an ApiVersions
//! request.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VERSION: &str = "0.6.0";
const ADDR: &str = "127.0.0.1:19092";

/// Whether a Kafka-protocol broker on `addr` answers an ApiVersions (v0) request.
pub fn ping(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // size, api_key 18 (ApiVersions), api_version 0, correlation_id 7, client_id "xtask"
    let mut request = Vec::new();
    request.extend_from_slice(&15_i32.to_be_bytes());
    request.extend_from_slice(&18_i16.to_be_bytes());
    request.extend_from_slice(&0_i16.to_be_bytes());
    request.extend_from_slice(&7_i32.to_be_bytes());
    request.extend_from_slice(&5_i16.to_be_bytes());
    request.extend_from_slice(b"xtask");
    if stream.write_all(&request).is_err() {
        return false;
    }
    let mut answer = [0_u8; 8];
    stream.read_exact(&mut answer).is_ok()
        && i32::from_be_bytes([answer[0], answer[1], answer[2], answer[3]]) > 4
        && i32::from_be_bytes([answer[4], answer[5], answer[6], answer[7]]) == 7
}

fn root() -> PathBuf {
    crate::cache_dir()
        .join("tools")
        .join(format!("tansu-{VERSION}"))
}

/// Whether a `cargo install tansu` runs on this machine (another xtask, or a manual one).
fn install_running() -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        std::fs::read(p.path().join("cmdline")).is_ok_and(|cmd| {
            let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
            args.iter().any(|a| a.ends_with(b"cargo"))
                && args.contains(&&b"install"[..])
                && args.contains(&&b"tansu"[..])
        })
    })
}

/// The tansu binary, installing it with `cargo install` when missing (or waiting for an
/// install already under way, rather than compiling it twice).
fn binary() -> Result<PathBuf, String> {
    let bin = root().join("bin/tansu");
    if !bin.exists() && install_running() {
        eprintln!("xtask: waiting for the running `cargo install tansu` to finish");
        while install_running() && !bin.exists() {
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    if bin.exists() {
        return Ok(bin);
    }
    eprintln!(
        "xtask: tansu {VERSION} not found; installing it into {} (takes ~20 minutes once)",
        root().display()
    );
    let mut install = Command::new("cargo");
    install
        .args(["install", "tansu", "--version", VERSION, "--locked"])
        .args(["--features", "dynostore", "--root"])
        .arg(root())
        // Its own target dir: the shared one holds the workspace's debug builds.
        .env_remove("CARGO_TARGET_DIR");
    crate::run(install)?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "cargo install tansu did not produce {}",
            bin.display()
        ))
    }
}

/// The brokers for tests: `NOVA_TEST_KAFKA_BROKERS`, or the local tansu (started, and
/// installed, if needed).
pub fn brokers() -> Result<String, String> {
    if let Ok(brokers) = std::env::var("NOVA_TEST_KAFKA_BROKERS")
        && !brokers.is_empty()
    {
        return Ok(brokers);
    }
    if ping(ADDR) {
        return Ok(ADDR.to_owned());
    }
    if accepts(ADDR) {
        // Something listens (a broker starting up, or busy): wait rather than start a
        // second one that cannot bind.
        return wait(ADDR).map(|()| ADDR.to_owned());
    }
    let bin = binary()?;
    let dir = crate::cache_dir().join("kafka");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let log = File::create(dir.join("tansu.log"))
        .map_err(|e| format!("cannot create {}: {e}", dir.join("tansu.log").display()))?;
    let err = log
        .try_clone()
        .map_err(|e| format!("cannot open the tansu log: {e}"))?;
    let url = format!("tcp://{ADDR}");
    // The broker stays up after xtask exits; `services down` stops it.
    let child = Command::new(&bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut child = child;
    wait(ADDR).map_err(|e| format!("{e} (log: {})", dir.join("tansu.log").display()))?;
    // Another xtask may have won the race for the port: record our broker only if it runs.
    if matches!(child.try_wait(), Ok(None)) {
        let _ = std::fs::write(dir.join("tansu.pid"), child.id().to_string());
    }
    Ok(ADDR.to_owned())
}

/// Stops the broker an earlier xtask started, so this test run gets an empty one.
/// tansu's in-memory storage keeps every topic and consumer group of earlier runs, and a
/// broker left up across many runs slowed the Kafka crash test past its timeout (7 s on
/// a fresh broker). A broker named by `NOVA_TEST_KAFKA_BROKERS`, or one xtask did not
/// start, is left alone.
pub fn stop_owned() -> Result<(), String> {
    if std::env::var("NOVA_TEST_KAFKA_BROKERS").is_ok_and(|b| !b.is_empty()) {
        return Ok(());
    }
    if !crate::cache_dir().join("kafka/tansu.pid").exists() {
        return Ok(());
    }
    down()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while accepts(ADDR) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// Whether anything accepts TCP connections on `addr`.
fn accepts(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// Waits up to 30 s for the broker on `addr` to answer.
fn wait(addr: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ping(addr) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the Kafka broker on {addr} did not answer within 30 s"
    ))
}

/// Stops the broker if this tool started it.
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("kafka/tansu.pid");
    crate::services::stop_pidfile(&pidfile, "tansu", "tansu")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
