//! An S3-protocol server for nova-media's object-storage suite: use one answering on
//! 127.0.0.1:9700, or start `moto_server` (PyPI's `moto[server]`, `pip install`ed when
//! missing) there. Loopback only, in memory; tests create their own buckets. moto does
//! not check request signatures: that presigned URLs are refused once tampered with is
//! S3's promise, not something this server can show.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = "127.0.0.1";
const PORT: &str = "9700";
const ADDR: &str = "127.0.0.1:9700";

/// Whether an S3 server answers `GET /` (ListBuckets) on `addr` with XML.
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
    text.starts_with("HTTP/1.1 200") && text.contains("ListAllMyBucketsResult")
}

fn moto_installed() -> bool {
    crate::services::installed("moto_server")
}

/// The S3 URL: an explicit `NOVA_TEST_S3_URL`, or the local server on 127.0.0.1:9700
/// (moto_server, started and installed if needed).
pub fn url() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_S3_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let url = format!("http://{ADDR}");
    if ping(ADDR) {
        return Ok(url);
    }
    if !moto_installed() {
        eprintln!("xtask: moto_server not found; installing moto[server] with pip");
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "moto[server]"]);
        crate::run(pip)?;
        if !moto_installed() {
            return Err("pip installed moto[server] but moto_server is not on PATH".to_owned());
        }
    }
    let dir = crate::cache_dir().join("s3");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let log = std::fs::File::create(dir.join("moto.log"))
        .map_err(|e| format!("cannot create the moto log: {e}"))?;
    let child = Command::new("moto_server")
        .args(["-H", HOST, "-p", PORT])
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| format!("cannot share the moto log: {e}"))?,
        )
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start moto_server: {e}"))?;
    std::fs::write(dir.join("moto.pid"), child.id().to_string())
        .map_err(|e| format!("cannot write the moto pidfile: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ping(ADDR) {
            return Ok(url);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "moto_server did not answer on {ADDR} within 60 s (log: {})",
        dir.join("moto.log").display()
    ))
}

/// Stops the server if this tool started it.
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("s3/moto.pid");
    crate::services::stop_pidfile(&pidfile, "moto_server", "moto_server")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
