//! ClickHouse for the ranking feature-store tests: use a running server, start an
//! installed one, or (as root on Debian) install it with apt (`clickhouse-server`, an old
//! 18.16 release: clients must skip schema validation). Bound to 127.0.0.1 (the packaged
//! config listens on loopback only); ready when `GET /ping` answers `Ok.`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::services::{apt_install, installed, is_root};

const ADDR: &str = "127.0.0.1:8123";
const CONFIG: &str = "/etc/clickhouse-server/config.xml";

/// Whether `GET /ping` on `addr` answers `Ok.`.
pub fn ping(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.contains(" 200 ") && answer.ends_with("Ok.\n")
}

/// The ClickHouse URL: an explicit `NOVA_TEST_CLICKHOUSE_URL`, or the local server
/// (started, or installed and started, if needed).
pub fn url() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_CLICKHOUSE_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let url = format!("http://{ADDR}");
    if ping(ADDR) {
        return Ok(url);
    }
    if !installed("clickhouse-server")
        && !std::path::Path::new("/usr/sbin/clickhouse-server").exists()
    {
        apt_install(&["clickhouse-server", "clickhouse-client"])?;
    }
    if !is_root() {
        return Err(
            "ClickHouse is installed but not running; start it (or set NOVA_TEST_CLICKHOUSE_URL)"
                .to_owned(),
        );
    }
    // The server stays up after xtask exits; `services down` stops it.
    let child = Command::new("runuser")
        .args(["-u", "clickhouse", "--", "/usr/sbin/clickhouse-server"])
        .arg(format!("--config={CONFIG}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start clickhouse-server: {e}"))?;
    let dir = crate::cache_dir().join("clickhouse");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _ = std::fs::write(dir.join("runuser.pid"), child.id().to_string());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if ping(ADDR) {
            return Ok(url);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "ClickHouse did not answer http://{ADDR}/ping within 60 s"
    ))
}

/// Stops the server if this tool started it.
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("clickhouse/runuser.pid");
    crate::services::stop_pidfile(&pidfile, "ClickHouse", "clickhouse-server")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
