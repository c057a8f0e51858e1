//! The real `analytics-service` binary: it starts on an empty data directory, takes
//! anonymous impression batches (413 over 500 events, 400 naming the index and field),
//! and on SIGTERM in the middle of a stream of batches, every acknowledged event is in
//! the store exactly once — also after a restart and a replay of everything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nova_testkit::process::{Running, free_port, get, http, wait_for_http};
use serde_json::json;

fn start(data: &Path, port: u16, grpc: u16) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_analytics-service"))
        .env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_GRPC_PORT", grpc.to_string())
        .env("NOVA_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let running = Running(child);
    let (status, body) = wait_for_http(port, "/api/v1/health", "analytics-service");
    assert_eq!(status, 200, "{body}");
    running
}

fn terminate(mut running: Running) -> std::process::ExitStatus {
    let pid = running.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit 30 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A batch of `n` anonymous impressions with ids `b<batch>-<i>`.
fn batch(batch: usize, n: usize) -> String {
    let events: Vec<_> = (0..n)
        .map(|i| {
            json!({"id": format!("b{batch}-{i}"), "type": "impression", "post_id": "p1", "anonymous_id": format!("d{}", i % 7)})
        })
        .collect();
    json!({ "events": events }).to_string()
}

fn post(port: u16, body: &str) -> Option<(u16, String)> {
    http(port, "POST", "/api/v1/analytics/events", "", body)
}

async fn stored_ids(data: &Path) -> Vec<String> {
    let db = nova_db::Db::connect(
        &format!("sqlite:{}", data.join("nova.db").display()),
        &Default::default(),
    )
    .await
    .unwrap();
    let ids = match &db {
        nova_db::Db::Sqlite(s) => sqlx_ids(&s.reader).await,
        nova_db::Db::Postgres(_) => unreachable!("the binary ran on SQLite"),
    };
    db.close().await;
    ids
}

async fn sqlx_ids(pool: &nova_db::sqlx::SqlitePool) -> Vec<String> {
    nova_db::sqlx::query_scalar("SELECT id FROM analytics_events ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigterm_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let (port, grpc) = (free_port(), free_port());
    let running = start(data.path(), port, grpc);
    let (status, body) = get(port, "/api/v1/ready").unwrap();
    assert_eq!(status, 200, "{body}");

    // Bad batches change nothing.
    let (status, body) = post(port, &batch(0, 501)).unwrap();
    assert_eq!(status, 413, "{body}");
    let bad = json!({"events": [{"id": "x", "type": "impression", "post_id": "p"}, {"id": "y", "type": "impression", "post_id": "p", "color": "red"}]});
    let (status, body) = post(port, &bad.to_string()).unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("events[1].color"), "{body}");
    let (status, body) = get(port, "/api/v1/analytics/posts/p1").unwrap();
    assert_eq!(status, 401, "insights need a caller: {body}");

    // Batches stream in from another thread; SIGTERM lands in the middle. At most
    // MAX_BATCHES, so the sends and the replay below stay inside the per-client quota
    // (120 a minute) however fast the machine is.
    const MAX_BATCHES: usize = 50;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sender = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut b = 1;
            while !stop.load(Ordering::SeqCst) && acked.len() < MAX_BATCHES {
                match post(port, &batch(b, 100)) {
                    Some((202, _)) => acked.push(b),
                    _ => break,
                }
                sent.store(acked.len(), Ordering::SeqCst);
                b += 1;
            }
            acked
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sent.load(Ordering::SeqCst) < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = terminate(running);
    stop.store(true, Ordering::SeqCst);
    let acked = sender.join().unwrap();
    assert!(status.success(), "orderly exit: {status:?}");
    assert!(
        acked.len() >= 3,
        "batches were acknowledged before SIGTERM: {}",
        acked.len()
    );

    let expected: std::collections::BTreeSet<String> = acked
        .iter()
        .flat_map(|b| (0..100).map(move |i| format!("c::b{b}-{i}")))
        .collect();
    let stored = stored_ids(data.path()).await;
    let unique: std::collections::BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "each event once");
    assert!(
        expected.is_subset(&unique),
        "{} acknowledged events missing",
        expected.difference(&unique).count()
    );

    // Restarted, a replay of every acknowledged batch adds nothing.
    let running = start(data.path(), port, grpc);
    for b in &acked {
        let (status, body) = post(port, &batch(*b, 100)).unwrap();
        assert_eq!(status, 202, "{body}");
    }
    assert!(terminate(running).success());
    assert_eq!(stored_ids(data.path()).await.len(), stored.len());
}
