//! Driving real service binaries from tests: free ports, a plain HTTP/1.1 client that
//! needs no extra crates, and a child process that is killed when the test ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::Duration;

/// A TCP port nothing listens on right now, for a binary the test starts.
///
/// Taken below the kernel's ephemeral range (32768 and up): a port from `bind(":0")`
/// could be handed to another test's `bind(":0")` before the binary binds it (seen in
/// CI: a gRPC client reached another test's HTTP server and got a 404). Between the
/// probe and the binary's own bind, another test process could pick the same port
/// (seen in CI too, when two processes' pids started them at the same place), so each
/// port handed out is reserved machine-wide by an advisory lock on
/// `$TMPDIR/nova-test-ports/<port>`, held until this test process exits.
pub fn free_port() -> u16 {
    use std::fs::{File, OpenOptions};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static RESERVED: Mutex<Vec<File>> = Mutex::new(Vec::new());
    const FIRST: u32 = 10_000;
    const SPAN: u32 = 20_000;
    let dir = std::env::temp_dir().join("nova-test-ports");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    // Processes start at different places, so they rarely even try the same port.
    let start = (std::process::id() % 500) * 40;
    for _ in 0..SPAN {
        let port = FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        let Ok(lock) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(port.to_string()))
        else {
            continue;
        };
        // Held by another test process, or taken by something else: try the next one.
        if lock.try_lock().is_err() || TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        RESERVED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(lock);
        return port;
    }
    panic!("no free local port between {FIRST} and {}", FIRST + SPAN)
}

/// One HTTP/1.1 request to `127.0.0.1:port`; `headers` are extra `Name: value\r\n`
/// lines. `(status, body)`, or `None` when nothing answers.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let content = if body.is_empty() {
        String::new()
    } else {
        format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}{content}\r\n{body}"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// `GET path`.
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    http(port, "GET", path, "", "")
}

/// A child process killed (and reaped) when dropped, so a failing test leaves no server.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `GET path` until the service answers (any status) or 60 s pass; panics naming
/// `what` if it never does. For tests that just spawned a server.
pub fn wait_for_http(port: u16, path: &str, what: &str) -> (u16, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match get(port, path) {
            Some(answer) => return answer,
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            None => panic!("{what} did not come up"),
        }
    }
}

/// The command a test starts a service binary with: no inherited environment (so the
/// developer's own variables never leak in), `data` as `NOVA_DATA_DIR`, the given HTTP
/// and gRPC ports, error-level logs on the test's stderr, then `extra` variables.
pub fn service_command(
    binary: &str,
    data: &std::path::Path,
    http: u16,
    grpc: u16,
    extra: &[(&str, &str)],
) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_HTTP_PORT", http.to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .envs(extra.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    command
}

/// A service binary running on an empty data directory and fresh ports, killed when
/// dropped. [`Service::start`] returns once health and readiness answer 200 and the
/// gRPC port accepts connections.
pub struct Service {
    /// Its HTTP port.
    pub http: u16,
    /// Its gRPC port.
    pub grpc: u16,
    /// Its data directory (removed when dropped, after the process).
    pub data: tempfile::TempDir,
    _running: Running,
}

impl Service {
    /// Starts `binary` (`env!("CARGO_BIN_EXE_<name>")`) with `extra` variables and waits
    /// until it is up; panics naming `name` when it is not.
    pub fn start(binary: &str, name: &str, extra: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{name}: data dir: {e}"));
        let (http, grpc) = (free_port(), free_port());
        let child = service_command(binary, data.path(), http, grpc, extra)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot start {binary}: {e}"));
        let running = Running(child);
        let (status, body) = wait_for_http(http, "/api/v1/health", name);
        assert_eq!(status, 200, "{name} health: {body}");
        let (status, body) = get(http, "/api/v1/ready").unwrap_or_default();
        assert_eq!(status, 200, "{name} readiness: {body}");
        assert!(
            TcpStream::connect(("127.0.0.1", grpc)).is_ok(),
            "{name}: gRPC listens on NOVA_GRPC_PORT"
        );
        Self {
            http,
            grpc,
            data,
            _running: running,
        }
    }

    /// `GET path` on its HTTP port; panics when nothing answers.
    pub fn get(&self, path: &str) -> (u16, String) {
        get(self.http, path).unwrap_or_else(|| panic!("no answer to GET {path}"))
    }
}

/// Runs `binary` with `extra` variables that must stop it at start: asserts it exits
/// with status 2 and one stderr line that starts with `name: ` and names `variable`.
pub fn assert_refused_at_start(binary: &str, name: &str, extra: &[(&str, &str)], variable: &str) {
    let data = tempfile::tempdir().unwrap_or_else(|e| panic!("{name}: data dir: {e}"));
    let output = service_command(binary, data.path(), free_port(), free_port(), extra)
        .env_remove("NOVA_LOG")
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{name}: cannot start {binary}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
    assert!(stderr.starts_with(&format!("{name}: ")), "{stderr}");
    assert!(stderr.contains(variable), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}
