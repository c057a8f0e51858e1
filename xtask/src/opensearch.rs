//! An OpenSearch-protocol server for nova-search's engine conformance suite: use one
//! answering on 127.0.0.1:9250, or start `osmem-server` (PyPI's `osmem-server`, an
//! in-memory emulator of the OpenSearch REST API shipped as a static binary;
//! `pip install`ed when missing) there. Loopback only, in memory; tests create their own
//! indices under a unique prefix. It is an emulator: what it verifies is listed in the
//! README's Search section.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADDR: &str = "127.0.0.1:9250";

/// Whether an OpenSearch/Elasticsearch server answers `GET /` on `addr` with its version.
pub fn ping(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.starts_with("HTTP/1.1 200") && text.contains("\"cluster_name\"")
}

/// `site-packages/osmem_server/bin/osmem-server`, installing the package with pip if needed.
fn binary() -> Result<PathBuf, String> {
    let locate = || {
        Command::new("python3")
            .args([
                "-c",
                "import os, osmem_server; print(os.path.dirname(osmem_server.__file__))",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                    .join("bin")
                    .join("osmem-server")
            })
            .filter(|p| p.is_file())
    };
    if let Some(bin) = locate() {
        return Ok(bin);
    }
    eprintln!("xtask: osmem-server not found; installing it with pip");
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet", "osmem-server"]);
    crate::run(pip)?;
    locate().ok_or_else(|| {
        "pip installed osmem-server but its binary (osmem_server/bin/osmem-server) is missing"
            .to_owned()
    })
}

/// The OpenSearch URL: an explicit `NOVA_TEST_OPENSEARCH_URL`, or the local server on
/// 127.0.0.1:9250 (osmem-server, started and installed if needed).
pub fn url() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_OPENSEARCH_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let url = format!("http://{ADDR}");
    if ping(ADDR) {
        return Ok(url);
    }
    let bin = binary()?;
    let dir = crate::cache_dir().join("opensearch");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let log = std::fs::File::create(dir.join("osmem.log"))
        .map_err(|e| format!("cannot create the osmem log: {e}"))?;
    let child = Command::new(&bin)
        .args(["-addr", ADDR, "-no-stdin-watch"])
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| format!("cannot share the osmem log: {e}"))?,
        )
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    std::fs::write(dir.join("osmem.pid"), child.id().to_string())
        .map_err(|e| format!("cannot write the osmem pidfile: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ping(ADDR) {
            return Ok(url);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "osmem-server did not answer on {ADDR} within 30 s (log: {})",
        dir.join("osmem.log").display()
    ))
}

/// Stops the server if this tool started it.
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("opensearch/osmem.pid");
    crate::services::stop_pidfile(&pidfile, "osmem-server", "osmem-server")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
