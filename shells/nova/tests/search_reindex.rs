//! `nova search reindex` against the real binary: on Tantivy it refuses while the server
//! holds the index, and with the server stopped it rebuilds a lost index from the
//! database; on OpenSearch (the server of `NOVA_TEST_OPENSEARCH_URL`) it rebuilds while
//! the server keeps serving and writing, and moves the alias to the new index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the whole-loop helpers are for other tests
mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{account, eventually, ok};
use nova_testkit::process::{Running, free_port, wait_for_http};
use serde_json::{Value, json};

const SEARCH: &str =
    "query($q: String!) { search(query: $q, type: POSTS, first: 50) { posts { id text } } }";

fn found(port: u16, q: &str) -> Vec<String> {
    ok(port, None, SEARCH, json!({ "q": q }))["search"]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn post(port: u16, token: &str, text: &str) -> String {
    ok(
        port,
        Some(token),
        "mutation($t: String!) { createPost(input: { text: $t }) { id } }",
        json!({ "t": text }),
    )["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn nova(data: &Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nova"));
    cmd.env_clear()
        .env("NOVA_DATA_DIR", data)
        .env("NOVA_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn serve(data: &Path, port: u16, env: &[(&str, String)]) -> Running {
    let child = nova(data, env)
        .env("NOVA_HTTP_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let running = Running(child);
    wait_for_http(port, "/api/v1/ready", "nova");
    running
}

fn reindex(data: &Path, env: &[(&str, String)]) -> Output {
    nova(data, env)
        .args(["search", "reindex"])
        .output()
        .unwrap()
}

#[test]
fn reindex_rebuilds_a_lost_tantivy_index_from_the_database() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = serve(data.path(), port, &[]);
    let (_, alice) = account(port, "alice");
    let (_, bob) = account(port, "bob");
    let first = post(port, &alice, "Reindexing tantivy segments #rustlang");
    let second = post(port, &bob, "Segments merge in the background");
    eventually("both posts indexed", || found(port, "segments").len() == 2);

    // The serving process holds the index: the rebuild refuses and changes nothing.
    let busy = reindex(data.path(), &[]);
    assert_eq!(busy.status.code(), Some(2), "{busy:?}");
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("stop the server first"), "{stderr}");
    assert_eq!(found(port, "segments").len(), 2);
    drop(server);

    // The index is lost; the database is not.
    std::fs::remove_dir_all(data.path().join("search")).unwrap();
    let rebuilt = reindex(data.path(), &[]);
    let stdout = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    assert!(
        stdout.contains("2 accounts, 2 posts"),
        "{stdout} / {}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(!data.path().join("search.rebuild").exists());
    assert!(!data.path().join("search.old").exists());

    let _server = serve(data.path(), port, &[]);
    let mut ids = found(port, "segments");
    ids.sort();
    let mut expected = vec![first.clone(), second];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(found(port, "#rustlang"), vec![first]);
}

#[test]
fn reindex_on_opensearch_swaps_the_alias_while_the_server_keeps_writing() {
    let Some(url) = nova_testkit::opensearch_url() else {
        return;
    };
    let alias = format!("nova-reindex-{}", std::process::id());
    let env = [
        ("SEARCH_BACKEND", "opensearch".to_owned()),
        ("ELASTICSEARCH_URL", url.clone()),
        ("SEARCH_INDEX", alias.clone()),
    ];
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(data.path(), port, &env);
    let (_, alice) = account(port, "alice");
    let mut posts: Vec<String> = (0..5)
        .map(|i| post(port, &alice, &format!("cluster words number {i}")))
        .collect();
    eventually("the posts in OpenSearch", || {
        found(port, "cluster").len() == 5
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let alias_indices = || -> Vec<String> {
        let answer: Value = runtime.block_on(async {
            reqwest::get(format!("{url}/_alias/{alias}"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        answer.as_object().unwrap().keys().cloned().collect()
    };
    let before = alias_indices();
    assert_eq!(before.len(), 1);

    // Writes go on while the rebuild runs.
    let writer = std::thread::spawn({
        let alice = alice.clone();
        move || {
            (5..10)
                .map(|i| post(port, &alice, &format!("cluster words number {i}")))
                .collect::<Vec<_>>()
        }
    });
    let rebuilt = reindex(data.path(), &env);
    posts.extend(writer.join().unwrap());
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let after = alias_indices();
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);

    posts.sort();
    eventually("every post, and only those, in the new index", || {
        let mut ids = found(port, "cluster");
        ids.sort();
        ids == posts
    });
    runtime.block_on(async {
        let _ = reqwest::Client::new()
            .delete(format!("{url}/{}", after[0]))
            .send()
            .await;
    });
}
