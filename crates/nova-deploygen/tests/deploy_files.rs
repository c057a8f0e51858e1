//! The committed deploy/ and monitoring/ files are exactly what the registry generates
//! (`cargo xtask gen-deploy` rewrites them; this test is the drift check CI runs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::path::Path;

use nova_deploygen::{SyncMode, render, sync};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn committed_files_match_the_generator() {
    let differing = sync(root(), SyncMode::Check).unwrap();
    assert!(
        differing.is_empty(),
        "these files differ from what nova_runtime::deploy generates: {differing:?}\nrun `cargo xtask gen-deploy` and commit the result"
    );
}

#[test]
fn the_check_sees_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::copy(
        root().join("deploy/.env.example"),
        dir.path().join("deploy/.env.example"),
    )
    .unwrap();
    assert!(!sync(dir.path(), SyncMode::Write).unwrap().is_empty());
    assert!(sync(dir.path(), SyncMode::Check).unwrap().is_empty());
    let manifest = dir.path().join("deploy/k8s/base/feed-service.yaml");
    let edited = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("8084", "8099");
    std::fs::write(&manifest, edited).unwrap();
    std::fs::write(
        dir.path().join("deploy/k8s/base/auth-service.yaml"),
        "kind: Deployment\n",
    )
    .unwrap();
    let env = dir.path().join("deploy/.env.example");
    let edited = std::fs::read_to_string(&env)
        .unwrap()
        .replace("=9092", "=9999");
    std::fs::write(&env, edited).unwrap();
    assert_eq!(
        sync(dir.path(), SyncMode::Check).unwrap(),
        [
            "deploy/k8s/base/feed-service.yaml",
            "deploy/.env.example",
            "deploy/k8s/base/auth-service.yaml"
        ]
    );
}

#[test]
fn no_manifests_for_archived_services() {
    for f in render() {
        for archived in [
            "auth-service",
            "messaging-service",
            "cdn-service",
            "streaming-service",
            "events-service",
        ] {
            assert!(
                !f.contents.contains(archived),
                "{} mentions {archived}",
                f.path
            );
        }
    }
}
