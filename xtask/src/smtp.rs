//! A real SMTP server for the email tests: use one answering on 127.0.0.1:2525, or start
//! `assets/smtp_sink.py` there (PyPI's `aiosmtpd`, `pip install`ed when missing). It
//! writes every accepted message, as received, to a file in the mailbox folder the tests
//! read (`NOVA_TEST_SMTP_MAILBOX`). Loopback only, plain SMTP (no TLS).

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOST: &str = "127.0.0.1";
const PORT: &str = "2525";
const ADDR: &str = "127.0.0.1:2525";
const SCRIPT: &str = include_str!("../assets/smtp_sink.py");

/// Where the server runs and where it writes what it receives.
pub struct Smtp {
    pub url: String,
    pub mailbox: String,
}

/// Whether an SMTP server greets (`220 ...`) on `addr`.
pub fn ping(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut greeting = [0u8; 4];
    stream.read_exact(&mut greeting).is_ok() && greeting.starts_with(b"220")
}

fn aiosmtpd_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn dir() -> PathBuf {
    crate::cache_dir().join("smtp")
}

/// The SMTP server: explicit `NOVA_TEST_SMTP_URL` + `NOVA_TEST_SMTP_MAILBOX`, or the
/// local sink on 127.0.0.1:2525 (started, and aiosmtpd installed, if needed).
pub fn up() -> Result<Smtp, String> {
    if let (Ok(url), Ok(mailbox)) = (
        std::env::var("NOVA_TEST_SMTP_URL"),
        std::env::var("NOVA_TEST_SMTP_MAILBOX"),
    ) && !url.is_empty()
        && !mailbox.is_empty()
    {
        return Ok(Smtp { url, mailbox });
    }
    let mailbox = dir().join("mailbox");
    let found = Smtp {
        url: format!("smtp://{ADDR}"),
        mailbox: mailbox.display().to_string(),
    };
    if ping(ADDR) {
        // Ours from an earlier run (its folder exists), or someone else's we cannot read.
        if mailbox.is_dir() {
            return Ok(found);
        }
        return Err(format!(
            "something answers SMTP on {ADDR} but it is not xtask's sink ({} is missing); stop it or set NOVA_TEST_SMTP_URL and NOVA_TEST_SMTP_MAILBOX",
            mailbox.display()
        ));
    }
    if !aiosmtpd_installed() {
        eprintln!("xtask: aiosmtpd not found; installing it with pip");
        let mut pip = Command::new("python3");
        pip.args(["-m", "pip", "install", "--quiet", "aiosmtpd"]);
        crate::run(pip)?;
        if !aiosmtpd_installed() {
            return Err("pip installed aiosmtpd but python3 cannot import it".to_owned());
        }
    }
    let dir = dir();
    std::fs::create_dir_all(&mailbox)
        .map_err(|e| format!("cannot create {}: {e}", mailbox.display()))?;
    let script = dir.join("smtp_sink.py");
    std::fs::write(&script, SCRIPT)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let log = std::fs::File::create(dir.join("smtp.log"))
        .map_err(|e| format!("cannot create the SMTP log: {e}"))?;
    let child = Command::new("python3")
        .arg(&script)
        .args([HOST, PORT])
        .arg(&mailbox)
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| format!("cannot share the SMTP log: {e}"))?,
        )
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start the SMTP sink: {e}"))?;
    std::fs::write(dir.join("smtp.pid"), child.id().to_string())
        .map_err(|e| format!("cannot write the SMTP pidfile: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ping(ADDR) {
            return Ok(found);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "the SMTP sink did not answer on {ADDR} within 30 s (log: {})",
        dir.join("smtp.log").display()
    ))
}

/// Stops the sink if this tool started it.
pub fn down() -> Result<(), String> {
    crate::services::stop_pidfile(&dir().join("smtp.pid"), "SMTP sink", "smtp_sink.py")
}

/// `up`/`down` for `services status`.
pub fn status() -> &'static str {
    if ping(ADDR) { "up" } else { "down" }
}
