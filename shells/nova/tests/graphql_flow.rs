//! The whole loop over GraphQL against the real `nova` binary on embedded storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the REST and login helpers are for the moderation tests
mod common;

use std::process::{Command, Stdio};

use nova_testkit::process::{Running, free_port, wait_for_http};

#[test]
fn register_follow_post_feed_like_trend_block_over_graphql() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _nova = Running(child);
    wait_for_http(port, "/api/v1/ready", "nova");
    common::whole_loop(port, "");
}
