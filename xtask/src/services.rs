//! The local backends tests and development need: use a running one, start an installed
//! one, or (as root on Debian) install it. Always bound to 127.0.0.1.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::run;

const PG_ADDR: &str = "127.0.0.1:5432";
const REDIS_ADDR: &str = "127.0.0.1:6379";

/// Where the backends answer.
pub struct Urls {
    pub postgres: String,
    pub redis: String,
    pub clickhouse: String,
    pub falkordb: String,
    pub kafka: String,
    pub s3: String,
    pub smtp: crate::smtp::Smtp,
    pub opensearch: String,
}

impl Urls {
    pub fn print(&self) {
        eprintln!("xtask: NOVA_TEST_POSTGRES_URL={}", self.postgres);
        eprintln!("xtask: NOVA_TEST_REDIS_URL={}", self.redis);
        eprintln!("xtask: NOVA_TEST_CLICKHOUSE_URL={}", self.clickhouse);
        eprintln!("xtask: NOVA_TEST_FALKORDB_URL={}", self.falkordb);
        eprintln!("xtask: NOVA_TEST_KAFKA_BROKERS={}", self.kafka);
        eprintln!("xtask: NOVA_TEST_S3_URL={}", self.s3);
        eprintln!("xtask: NOVA_TEST_SMTP_URL={}", self.smtp.url);
        eprintln!("xtask: NOVA_TEST_SMTP_MAILBOX={}", self.smtp.mailbox);
        eprintln!("xtask: NOVA_TEST_OPENSEARCH_URL={}", self.opensearch);
    }
}

fn answers(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

fn wait_for(addr: &str, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if answers(addr) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "{what} did not start listening on {addr} within 60 s"
    ))
}

pub(crate) fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub(crate) fn apt_install(packages: &[&str]) -> Result<(), String> {
    if !is_root() || !installed("apt-get") {
        return Err(format!(
            "{} is not installed; install it (Debian: apt-get install {}) or set the NOVA_TEST_* URL",
            packages.join(" "),
            packages.join(" ")
        ));
    }
    let mut update = Command::new("apt-get");
    update
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// The PostgreSQL URL: an explicit `NOVA_TEST_POSTGRES_URL`, or the local server (started
/// or installed if needed).
fn postgres() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    // The password only matters where pg_hba asks for one (a fresh Debian install); it
    // is set below when we install the server ourselves.
    let url = "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned();
    if answers(PG_ADDR) {
        return Ok(url);
    }
    let fresh_install = !installed("pg_ctlcluster");
    if fresh_install {
        apt_install(&["postgresql"])?;
    }
    for version in clusters() {
        let mut start = Command::new("pg_ctlcluster");
        start.args(["--skip-systemctl-redirect", &version, "main", "start"]);
        let _ = run(start);
    }
    wait_for(PG_ADDR, "PostgreSQL")?;
    if fresh_install {
        let mut password = Command::new("runuser");
        password.args([
            "-u",
            "postgres",
            "--",
            "psql",
            "-c",
            "ALTER USER postgres PASSWORD 'postgres'",
        ]);
        run(password)?;
    }
    Ok(url)
}

fn clusters() -> Vec<String> {
    std::fs::read_dir("/etc/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn redis() -> Result<String, String> {
    if let Ok(url) = std::env::var("NOVA_TEST_REDIS_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    let url = "redis://127.0.0.1:6379".to_owned();
    if answers(REDIS_ADDR) {
        return Ok(url);
    }
    if !installed("redis-server") {
        apt_install(&["redis-server"])?;
    }
    let dir = crate::cache_dir().join("redis");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut start = Command::new("redis-server");
    start.args([
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
        "--pidfile",
    ]);
    start.arg(dir.join("redis.pid")).arg("--dir").arg(&dir);
    run(start)?;
    wait_for(REDIS_ADDR, "Redis")?;
    Ok(url)
}

/// Makes sure every backend answers; returns their URLs.
pub fn up() -> Result<Urls, String> {
    Ok(Urls {
        postgres: postgres()?,
        redis: redis()?,
        clickhouse: crate::clickhouse::url()?,
        falkordb: crate::falkordb::url()?,
        kafka: crate::kafka::brokers()?,
        s3: crate::s3::url()?,
        smtp: crate::smtp::up()?,
        opensearch: crate::opensearch::url()?,
    })
}

/// Stops the backends this tool started (never ones it found running).
pub fn down() -> Result<(), String> {
    let pidfile = crate::cache_dir().join("redis/redis.pid");
    stop_pidfile(&pidfile, "Redis", "redis-server")?;
    crate::falkordb::down()?;
    crate::kafka::down()?;
    crate::s3::down()?;
    crate::smtp::down()?;
    crate::opensearch::down()?;
    crate::clickhouse::down()
}

/// Stops the process a pidfile names, if it still runs and is still `program` (its
/// command line contains it: after a reboot the pid may belong to something else).
pub(crate) fn stop_pidfile(pidfile: &Path, what: &str, program: &str) -> Result<(), String> {
    let Ok(contents) = std::fs::read_to_string(pidfile) else {
        eprintln!("xtask: {what} was not started by xtask; leaving it alone");
        return Ok(());
    };
    // A pidfile outlives its process when the machine rebooted or the cache directory
    // was carried to another machine: then there is nothing to stop.
    let running = |pid: u32| {
        std::fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline"))
            .is_ok_and(|cmd| cmd.windows(program.len()).any(|w| w == program.as_bytes()))
    };
    match contents.trim().parse::<u32>() {
        Ok(pid) if running(pid) => {
            let mut kill = Command::new("kill");
            kill.arg(pid.to_string());
            // It may exit on its own between the check and the signal.
            if let Err(e) = run(kill)
                && running(pid)
            {
                return Err(e);
            }
            eprintln!("xtask: stopped {what}");
        }
        _ => eprintln!(
            "xtask: {what} (pidfile {}) no longer runs; removing the stale pidfile",
            pidfile.display()
        ),
    }
    let _ = std::fs::remove_file(pidfile);
    Ok(())
}

/// Prints which backends answer.
pub fn status() {
    for (name, addr) in [("PostgreSQL", PG_ADDR), ("Redis", REDIS_ADDR)] {
        let state = if answers(addr) { "up" } else { "down" };
        eprintln!("{name:<12} {addr:<16} {state}");
    }
    eprintln!(
        "{:<12} {:<16} {}",
        "ClickHouse",
        "127.0.0.1:8123",
        crate::clickhouse::status()
    );
    eprintln!(
        "{:<12} {:<16} {}",
        "FalkorDB",
        "127.0.0.1:6390",
        crate::falkordb::status()
    );
    eprintln!(
        "{:<12} {:<16} {}",
        "Kafka",
        "127.0.0.1:19092",
        crate::kafka::status()
    );
    eprintln!(
        "{:<12} {:<16} {}",
        "S3 (moto)",
        "127.0.0.1:9700",
        crate::s3::status()
    );
    eprintln!(
        "{:<12} {:<16} {}",
        "SMTP",
        "127.0.0.1:2525",
        crate::smtp::status()
    );
    eprintln!(
        "{:<12} {:<16} {}",
        "OpenSearch",
        "127.0.0.1:9250",
        crate::opensearch::status()
    );
}
