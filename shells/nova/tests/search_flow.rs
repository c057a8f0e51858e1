//! Search end to end against the real `nova` binary on embedded storage: posts and
//! accounts reach the index through the event log, GraphQL and REST answer with typos,
//! prefixes, hashtags and highlights, and a followers-only post, a blocked account and a
//! deleted post never come back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the whole-loop helpers are for other tests
mod common;

use std::process::{Command, Stdio};

use common::{account, eventually, ok};
use nova_testkit::process::{Running, free_port, get, wait_for_http};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $t: SearchType!) { search(query: $q, type: $t, first: 20) { \
    posts { id text } highlights { postId html } users { id username } hashtags { name usageCount } \
    pageInfo { hasNextPage } } }";

fn search(port: u16, token: Option<&str>, q: &str, t: &str) -> Value {
    ok(port, token, SEARCH, json!({ "q": q, "t": t }))["search"].clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn posts_accounts_and_hashtags_are_found_and_nothing_invisible_is() {
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

    let (alice_id, alice) = account(port, "alice");
    let (_, bob) = account(port, "bob");
    let (_, carol) = account(port, "carol");
    let post = ok(
        port,
        Some(&alice),
        "mutation($t: String!) { createPost(input: { text: $t }) { id } }",
        json!({ "t": "Rust async runtimes compared #rustlang" }),
    )["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hidden = ok(
        port,
        Some(&alice),
        "mutation($t: String!) { createPost(input: { text: $t, visibility: FOLLOWERS }) { id } }",
        json!({ "t": "Rust async plans for followers" }),
    )["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    eventually("the post in search, through a typo", || {
        ids(&search(port, Some(&bob), "rsut async", "POSTS")["posts"]).contains(&post)
    });
    let found = search(port, None, "async", "POSTS");
    assert_eq!(ids(&found["posts"]), vec![post.clone()], "{found}");
    assert!(
        found["highlights"][0]["html"]
            .as_str()
            .unwrap()
            .contains("<b>async</b>"),
        "{found}"
    );
    assert!(!ids(&search(port, Some(&bob), "plans", "POSTS")["posts"]).contains(&hidden));
    assert_eq!(
        search(port, None, "#rust", "HASHTAGS")["hashtags"],
        json!([{ "name": "rustlang", "usageCount": 1 }])
    );
    eventually("alice found by prefix", || {
        ids(&search(port, Some(&bob), "ali", "USERS")["users"]).contains(&alice_id)
    });

    // REST answers the same, and names a bad field.
    let (status, body) = get(port, "/api/v1/search?q=rsut%20async&type=posts").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&post), "{body}");
    let (status, body) = get(port, "/api/v1/search?q=x&type=groups").unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("type"), "{body}");

    // Blocked: carol no longer finds alice nor her posts.
    ok(
        port,
        Some(&alice),
        "mutation($u: ID!) { block(userId: $u) }",
        json!({ "u": ok(port, Some(&carol), "{ viewer { id } }", json!({}))["viewer"]["id"] }),
    );
    assert!(search(port, Some(&carol), "async", "POSTS")["posts"] == json!([]));
    assert!(!ids(&search(port, Some(&carol), "alice", "USERS")["users"]).contains(&alice_id));

    // Deleted: gone for everyone after the next consumer cycle.
    ok(
        port,
        Some(&alice),
        "mutation($p: ID!) { deletePost(postId: $p) }",
        json!({ "p": post }),
    );
    // At once through the re-check, and from the index (its hashtag count) once the
    // consumer has handled the event.
    assert_eq!(search(port, None, "async", "POSTS")["posts"], json!([]));
    eventually("the deleted post's hashtag gone from the index", || {
        search(port, None, "#rust", "HASHTAGS")["hashtags"] == json!([])
    });
}
