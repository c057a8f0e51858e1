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
/// CI: a gRPC client reached another test's HTTP server and got a 404). Each test
/// process walks its own stride of 40 ports, so concurrent test binaries rarely meet,
/// and a port is only returned after a bind on it succeeded.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const STRIDE: u32 = 40;
    let base = 10_000 + (std::process::id() % 500) * STRIDE;
    for _ in 0..STRIDE {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % STRIDE;
        if let Ok(port) = u16::try_from(port)
            && TcpListener::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free local port: {e}"),
    }
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
