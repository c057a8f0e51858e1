//! The end-to-end flow of issue #9, over GraphQL against whatever serves `/graphql` on a
//! port: the all-in-one `nova` or the distributed gateway in front of the services.

use std::time::{Duration, Instant};

use nova_testkit::process::http;
use serde_json::{Value, json};

/// One GraphQL call; `(data, errors)`.
pub fn graphql(port: u16, token: Option<&str>, query: &str, variables: Value) -> Value {
    let headers = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = http(port, "POST", "/graphql", &headers, &body)
        .unwrap_or_else(|| panic!("nothing answers /graphql on {port}"));
    assert!(status == 200 || status == 400, "{status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `data` of a call that must succeed.
pub fn ok(port: u16, token: Option<&str>, query: &str, variables: Value) -> Value {
    let answer = graphql(port, token, query, variables);
    assert!(answer.get("errors").is_none(), "{query}: {answer}");
    answer["data"].clone()
}

/// The password [`account`] registers with.
pub const PASSWORD: &str = "correct horse battery";

/// A REST call: `(status, body)`.
pub fn rest(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, String) {
    let headers = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    http(port, method, path, &headers, &body).unwrap_or_else(|| panic!("{method} {path}"))
}

/// A REST call that must answer 2xx with JSON.
pub fn rest_ok(port: u16, method: &str, path: &str, token: &str, body: &Value) -> Value {
    let (status, text) = rest(port, method, path, Some(token), body);
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Logs in an [`account`]; the access token or the GraphQL errors.
pub fn login(port: u16, username: &str) -> Result<String, Value> {
    let answer = graphql(
        port,
        None,
        "mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { tokens { accessToken } } }",
        json!({ "u": username, "p": PASSWORD }),
    );
    match answer["data"]["login"]["tokens"]["accessToken"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => Err(answer["errors"].clone()),
    }
}

/// Polls `check` until it holds (events travel asynchronously to feed and trending).
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Registers `username` and logs in; `(user id, access token)`.
pub fn account(port: u16, username: &str) -> (String, String) {
    let data = ok(
        port,
        None,
        "mutation($e: String!, $u: String!, $p: String!) { register(email: $e, username: $u, password: $p) { id } }",
        json!({ "e": format!("{username}@example.com"), "u": username, "p": PASSWORD }),
    );
    let id = data["register"]["id"].as_str().unwrap().to_owned();
    let data = ok(
        port,
        None,
        "mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { tokens { accessToken } } }",
        json!({ "u": username, "p": PASSWORD }),
    );
    let token = data["login"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

fn feed_ids(port: u16, token: &str, mode: &str) -> Vec<String> {
    let data = ok(
        port,
        Some(token),
        &format!("{{ homeFeed(mode: {mode}, first: 20) {{ edges {{ node {{ id }} }} }} }}"),
        json!({}),
    );
    data["homeFeed"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn tag_is_trending(port: u16, tag: &str) -> bool {
    let data = ok(
        port,
        None,
        "query($t: String!) { trending(window: \"1h\", first: 50) { label isHashtag(tag: $t) } }",
        json!({ "t": tag }),
    );
    data["trending"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["isHashtag"] == json!(true))
}

/// The error of `post(id)` as the caller sees it: code and message, nothing else.
fn post_error(port: u16, token: &str, id: &str) -> (Value, Value) {
    let answer = graphql(
        port,
        Some(token),
        "query($id: ID!) { post(id: $id) { id text } }",
        json!({ "id": id }),
    );
    let error = &answer["errors"][0];
    assert!(error.is_object(), "expected an error: {answer}");
    (
        error["extensions"]["code"].clone(),
        error["message"].clone(),
    )
}

/// register A and B → B follows A → A posts with a hashtag → B's home feed shows it in
/// both modes → B and three more accounts like it → the tag trends → A blocks B → B's feed and `post(id)` no
/// longer show it, with the same error as a missing post.
pub fn whole_loop(port: u16, suffix: &str) {
    let (a_id, a) = account(port, &format!("alice{suffix}"));
    let (b_id, b) = account(port, &format!("bob{suffix}"));
    let tag = format!("e2e{suffix}");

    ok(
        port,
        Some(&b),
        "mutation($u: ID!) { follow(userId: $u) }",
        json!({ "u": a_id }),
    );
    let post = ok(
        port,
        Some(&a),
        "mutation($t: String!) { createPost(input: { text: $t }) { id hashtags author { id } } }",
        json!({ "t": format!("Hello from the whole loop #{tag}") }),
    );
    let post_id = post["createPost"]["id"].as_str().unwrap().to_owned();
    assert_eq!(post["createPost"]["hashtags"], json!([tag]));
    assert_eq!(post["createPost"]["author"]["id"], json!(a_id));

    for mode in ["CHRONOLOGICAL", "RANKED"] {
        eventually(&format!("the post in B's {mode} home feed"), || {
            feed_ids(port, &b, mode).contains(&post_id)
        });
    }
    let liked = ok(
        port,
        Some(&b),
        "mutation($p: ID!) { like(postId: $p) }",
        json!({ "p": post_id }),
    );
    assert_eq!(liked["like"], json!(true));
    let seen = ok(
        port,
        Some(&b),
        "query($p: ID!) { post(id: $p) { likeCount likedByViewer viewerFollowsAuthor } }",
        json!({ "p": post_id }),
    );
    assert_eq!(seen["post"]["likeCount"], json!(1), "{seen}");
    assert_eq!(seen["post"]["likedByViewer"], json!(true), "{seen}");
    assert_eq!(seen["post"]["viewerFollowsAuthor"], json!(true), "{seen}");
    // A tag trends only once 5 distinct accounts engaged with it (so one or two accounts
    // cannot push a private joke onto the public list): three more like the post.
    for name in ["carol", "dave", "erin"] {
        let (_, token) = account(port, &format!("{name}{suffix}"));
        ok(
            port,
            Some(&token),
            "mutation($p: ID!) { like(postId: $p) }",
            json!({ "p": post_id }),
        );
    }
    eventually(&format!("#{tag} trending"), || tag_is_trending(port, &tag));

    ok(
        port,
        Some(&a),
        "mutation($u: ID!) { block(userId: $u) }",
        json!({ "u": b_id }),
    );
    for mode in ["CHRONOLOGICAL", "RANKED"] {
        assert!(
            !feed_ids(port, &b, mode).contains(&post_id),
            "B still sees A's post in {mode} right after the block"
        );
    }
    let blocked = post_error(port, &b, &post_id);
    let missing = post_error(port, &b, "01900000-0000-7000-8000-000000000000");
    assert_eq!(
        blocked, missing,
        "a blocked post must look exactly like a missing one"
    );
    assert_eq!(blocked.0, json!("NOT_FOUND"));
}
