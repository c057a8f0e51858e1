//! The enforcement matrix against the real `nova` binary on embedded storage: for each
//! moderation action (label, silence, reduce reach, hide, remove, suspend) and each
//! surface (post read, thread, home feed, explore, search, trending, notifications,
//! chat, login, posting), what the author, a follower, a stranger, a moderator and an
//! anonymous viewer see; then the action is reversed and everything comes back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the whole-loop helpers are for other tests
mod common;

use std::process::{Command, Stdio};

use common::{account, eventually, graphql, login, ok, rest, rest_ok};
use nova_testkit::process::{Running, free_port, http, wait_for_http};
use serde_json::{Value, json};

/// Logs in until `done` holds for the answer, a second apart: logins are limited to
/// ten a minute per address, so a rate-limited attempt is just tried again.
fn login_until(
    port: u16,
    username: &str,
    done: impl Fn(&Result<String, Value>) -> bool,
) -> Result<String, Value> {
    for _ in 0..90 {
        let answer = login(port, username);
        if done(&answer) {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    panic!("{username}: the login never answered as expected");
}

/// Whether a GraphQL call with `token` is refused (an error, whatever the status).
fn refused(port: u16, token: &str, query: &str, variables: Value) -> bool {
    let headers = format!("Authorization: Bearer {token}\r\n");
    let body = json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = http(port, "POST", "/graphql", &headers, &body).unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    status != 200 || answer["errors"].is_array()
}

fn create_post(port: u16, token: &str, text: &str) -> String {
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

fn ids(list: &Value, path: &[&str]) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|item| {
            let mut v = item;
            for p in path {
                v = &v[*p];
            }
            v.as_str().map(str::to_owned)
        })
        .collect()
}

/// One surface, as one viewer (a token, or anonymous) meets one post.
type Surface = fn(u16, Option<&str>, &str) -> bool;

/// Reads the post by id over REST (a moderated post answers like a missing one).
fn read(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let (status, body) = rest(
        port,
        "GET",
        &format!("/api/v1/posts/{post}"),
        viewer,
        &Value::Null,
    );
    assert!(status == 200 || status == 404, "{status} {body}");
    status == 200
}

/// Opens the post's thread.
fn thread(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let (status, body) = rest(
        port,
        "GET",
        &format!("/api/v1/posts/{post}/thread"),
        viewer,
        &Value::Null,
    );
    assert!(status == 200 || status == 404, "{status} {body}");
    status == 200
}

/// The post in the viewer's chronological home feed (anonymous viewers have none).
fn home(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let Some(token) = viewer else { return false };
    ids(&home_feed(port, token, "CHRONOLOGICAL"), &["node", "id"]).contains(&post.to_owned())
}

fn home_feed(port: u16, token: &str, mode: &str) -> Value {
    ok(
        port,
        Some(token),
        &format!("{{ homeFeed(mode: {mode}, first: 50) {{ edges {{ node {{ id }} }} }} }}"),
        json!({}),
    )["homeFeed"]["edges"]
        .clone()
}

/// The post in explore.
fn explore(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let data = ok(
        port,
        viewer,
        "{ exploreFeed(first: 50) { edges { node { id } } } }",
        json!({}),
    );
    ids(&data["exploreFeed"]["edges"], &["node", "id"]).contains(&post.to_owned())
}

/// The post found by searching its distinctive word.
fn search(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let data = ok(
        port,
        viewer,
        "query($q: String!) { search(query: $q, type: POSTS, first: 50) { posts { id } } }",
        json!({ "q": "lighthouse" }),
    );
    ids(&data["search"]["posts"], &["id"]).contains(&post.to_owned())
}

/// The post among the posts trending in the last hour.
fn trending(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let data = ok(
        port,
        viewer,
        "{ trending(window: \"1h\", first: 50) { kind post { id } } }",
        json!({}),
    );
    ids(&data["trending"], &["post", "id"]).contains(&post.to_owned())
}

/// A notification about `post` (its target) in the viewer's inbox.
fn notified(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let Some(token) = viewer else { return false };
    let data = ok(
        port,
        Some(token),
        "{ notifications(first: 50) { edges { node { kind targetId } } } }",
        json!({}),
    );
    ids(&data["notifications"]["edges"], &["node", "targetId"]).contains(&post.to_owned())
}

/// The viewers of the matrix, in the order author, follower, stranger, moderator,
/// anonymous.
struct Viewers {
    author: String,
    follower: String,
    stranger: String,
    moderator: String,
}

impl Viewers {
    /// What each viewer meets on `surface` for `post`.
    fn on(&self, port: u16, surface: Surface, post: &str) -> [bool; 5] {
        [
            surface(port, Some(&self.author), post),
            surface(port, Some(&self.follower), post),
            surface(port, Some(&self.stranger), post),
            surface(port, Some(&self.moderator), post),
            surface(port, None, post),
        ]
    }

    /// Asserts each surface's row.
    fn expect(&self, port: u16, case: &str, post: &str, rows: &[(&str, Surface, [bool; 5])]) {
        for (name, surface, want) in rows {
            assert_eq!(
                self.on(port, *surface, post),
                *want,
                "{case}: {name} (author, follower, stranger, moderator, anonymous)"
            );
        }
    }
}

fn act(port: u16, moderator: &str, body: Value) -> String {
    let action = rest_ok(port, "POST", "/api/v1/moderation/actions", moderator, &body);
    action["id"].as_str().unwrap().to_owned()
}

fn act_on(port: u16, moderator: &str, kind: &str, target: (&str, &str), subject: &str) -> String {
    act(
        port,
        moderator,
        json!({
            "target": { "kind": target.0, "id": target.1 },
            "kind": kind,
            "subject": subject,
            "reason": format!("{kind}: breaks the rules"),
        }),
    )
}

fn reverse(port: u16, moderator: &str, action: &str) {
    rest_ok(
        port,
        "POST",
        &format!("/api/v1/moderation/actions/{action}/reverse"),
        moderator,
        &json!({ "note": "restored" }),
    );
}

/// The post's labels over REST and GraphQL, which must agree.
fn labels(port: u16, viewer: Option<&str>, post: &str) -> Vec<String> {
    let (status, body) = rest(
        port,
        "GET",
        &format!("/api/v1/posts/{post}"),
        viewer,
        &Value::Null,
    );
    assert_eq!(status, 200, "{body}");
    let rest_labels: Value = serde_json::from_str::<Value>(&body).unwrap()["labels"].clone();
    let gql = ok(
        port,
        viewer,
        "query($id: ID!) { post(id: $id) { labels } }",
        json!({ "id": post }),
    );
    assert_eq!(gql["post"]["labels"], rest_labels, "REST and GraphQL agree");
    serde_json::from_value(rest_labels).unwrap()
}

const EVERYONE: [bool; 5] = [true; 5];
const NOBODY: [bool; 5] = [false; 5];

#[test]
fn every_action_holds_on_every_surface_for_every_viewer_and_reversal_restores_it() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_nova"))
        .env_clear()
        .env("NOVA_DATA_DIR", data.path())
        .env("NOVA_HTTP_PORT", port.to_string())
        .env("NOVA_LOG", "warn")
        .env("NOVA_ADMIN_USERNAMES", "staffadmin")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _nova = Running(child);
    wait_for_http(port, "/api/v1/ready", "nova");

    // The admin acts (admins hold every moderator power) and is the moderator viewer.
    // Registrations are limited to ten an hour per address: six accounts in all.
    let (_, staff) = account(port, "staffadmin");
    let (alice_id, alice) = account(port, "alice");
    let (_, bob) = account(port, "bob");
    let (carol_id, carol) = account(port, "carol");
    let (_, dave) = account(port, "dave");
    let (_, erin) = account(port, "erin");

    // bob follows alice; carol and the moderators are strangers to her.
    ok(
        port,
        Some(&bob),
        "mutation($u: ID!) { follow(userId: $u) }",
        json!({ "u": alice_id }),
    );
    // Q: an older post, never moderated. P: the post under test, liked by five
    // accounts (trending counts an entity once five distinct accounts engage with it)
    // so it trends and shows in explore (and ranks above Q unless demoted).
    let q = create_post(port, &alice, "An older post, never moderated");
    let p = create_post(port, &alice, "The lighthouse keepers' logbook, 1890");
    for token in [&bob, &carol, &dave, &erin, &staff] {
        ok(
            port,
            Some(token),
            "mutation($p: ID!) { like(postId: $p) }",
            json!({ "p": p }),
        );
    }
    let v = Viewers {
        author: alice.clone(),
        follower: bob.clone(),
        stranger: carol.clone(),
        moderator: staff.clone(),
    };
    eventually(
        "P in the follower's feed, search, trending and explore",
        || {
            home(port, Some(&bob), &p)
                && v.on(port, search, &p) == EVERYONE
                && v.on(port, trending, &p) == EVERYONE
                && v.on(port, explore, &p) == EVERYONE
        },
    );
    let baseline: Vec<(&str, Surface, [bool; 5])> = vec![
        ("post read", read, EVERYONE),
        ("thread", thread, EVERYONE),
        ("home feed", home, [true, true, false, false, false]),
        ("explore", explore, EVERYONE),
        ("search", search, EVERYONE),
        ("trending", trending, EVERYONE),
    ];
    v.expect(port, "before any action", &p, &baseline);

    // ---- Label: shown on the post to every reader, over REST and GraphQL.
    let viewers: [Option<&str>; 5] = [Some(&alice), Some(&bob), Some(&carol), Some(&staff), None];
    for viewer in viewers {
        assert!(labels(port, viewer, &p).is_empty());
    }
    let label = act(
        port,
        &staff,
        json!({
            "target": { "kind": "post", "id": p },
            "kind": "label",
            "label": "sensitive",
            "subject": alice_id,
            "reason": "graphic description",
        }),
    );
    let spoiler = act(
        port,
        &staff,
        json!({
            "target": { "kind": "post", "id": p },
            "kind": "label",
            "label": "spoiler",
            "subject": alice_id,
            "reason": "ending revealed",
        }),
    );
    for viewer in viewers {
        assert_eq!(labels(port, viewer, &p), ["sensitive", "spoiler"]);
    }
    assert!(labels(port, Some(&bob), &q).is_empty(), "only on that post");
    v.expect(port, "label", &p, &baseline);
    let feed_labels = ok(
        port,
        Some(&bob),
        "{ homeFeed(mode: CHRONOLOGICAL, first: 50) { edges { node { id labels } } } }",
        json!({}),
    );
    let in_feed = feed_labels["homeFeed"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == json!(p))
        .unwrap();
    assert_eq!(
        in_feed["node"]["labels"],
        json!(["sensitive", "spoiler"]),
        "the label travels with the post into feeds"
    );
    reverse(port, &staff, &spoiler);
    for viewer in viewers {
        assert_eq!(labels(port, viewer, &p), ["sensitive"]);
    }
    reverse(port, &staff, &label);
    for viewer in viewers {
        assert!(labels(port, viewer, &p).is_empty(), "reversal removes it");
    }

    // ---- Silence alice: her posts reach only her followers (and herself). Direct
    // reads still work; discovery (explore, search, trending) leaves strangers out;
    // her mentions notify followers only.
    let silence = act_on(port, &staff, "silence", ("account", &alice_id), &alice_id);
    let follower_only = [true, true, false, false, false];
    v.expect(
        port,
        "silence",
        &p,
        &[
            ("post read", read, EVERYONE),
            ("thread", thread, EVERYONE),
            ("home feed", home, [true, true, false, false, false]),
            ("explore", explore, follower_only),
            ("search", search, follower_only),
            ("trending", trending, follower_only),
        ],
    );
    let mention = create_post(port, &alice, "Hello @bob and @carol from the lighthouse");
    eventually("the follower is told of the mention", || {
        notified(port, Some(&bob), &mention)
    });
    // Notifications are ingested in order: a later one reaching carol shows the
    // mention was dropped, not just late.
    let marker = create_post(port, &dave, "@carol a marker after the mention");
    eventually("carol told of the marker", || {
        notified(port, Some(&carol), &marker)
    });
    assert!(
        !notified(port, Some(&carol), &mention),
        "a silenced account's mention does not notify a non-follower"
    );
    reverse(port, &staff, &silence);
    v.expect(port, "silence reversed", &p, &baseline);
    let mention2 = create_post(port, &alice, "Hello again @carol");
    eventually("after reversal, the stranger is told", || {
        notified(port, Some(&carol), &mention2)
    });

    // ---- Reduce reach on P: followers still read it, chronological feeds keep it;
    // out of explore and trending for everyone; last in the ranked home feed.
    let reduce = act_on(port, &staff, "reduce_reach", ("post", &p), &alice_id);
    v.expect(
        port,
        "reduce reach",
        &p,
        &[
            ("post read", read, EVERYONE),
            ("thread", thread, EVERYONE),
            ("home feed", home, [true, true, false, false, false]),
            ("explore", explore, NOBODY),
            ("search", search, EVERYONE),
            ("trending", trending, NOBODY),
        ],
    );
    let ranked = ids(&home_feed(port, &bob, "RANKED"), &["node", "id"]);
    assert!(ranked.len() > 1 && ranked.contains(&q), "{ranked:?}");
    assert_eq!(
        ranked.last(),
        Some(&p),
        "reduced reach demotes P below every other post: {ranked:?}"
    );
    reverse(port, &staff, &reduce);
    v.expect(port, "reduce reach reversed", &p, &baseline);

    // ---- Hide P: only the author, on every surface; the mention notification of a
    // hidden post disappears for its recipient.
    let hide = act_on(port, &staff, "hide", ("post", &p), &alice_id);
    let author_only = [true, false, false, false, false];
    let hidden_rows: Vec<(&str, Surface, [bool; 5])> = vec![
        ("post read", read, author_only),
        ("thread", thread, author_only),
        ("home feed", home, author_only),
        ("explore", explore, author_only),
        ("search", search, author_only),
        ("trending", trending, author_only),
    ];
    v.expect(port, "hide", &p, &hidden_rows);
    let hide_mention = act_on(port, &staff, "hide", ("post", &mention2), &alice_id);
    assert!(
        !notified(port, Some(&carol), &mention2),
        "hidden: no notification"
    );
    reverse(port, &staff, &hide_mention);
    assert!(
        notified(port, Some(&carol), &mention2),
        "reversal restores it"
    );
    reverse(port, &staff, &hide);
    v.expect(port, "hide reversed", &p, &baseline);

    // ---- Remove P: nobody, the author included.
    let remove = act_on(port, &staff, "remove", ("post", &p), &alice_id);
    v.expect(
        port,
        "remove",
        &p,
        &[
            ("post read", read, NOBODY),
            ("thread", thread, NOBODY),
            ("home feed", home, NOBODY),
            ("explore", explore, NOBODY),
            ("search", search, NOBODY),
            ("trending", trending, NOBODY),
        ],
    );
    let remove_mention = act_on(port, &staff, "remove", ("post", &mention2), &alice_id);
    assert!(
        !notified(port, Some(&carol), &mention2),
        "removed: no notification"
    );
    reverse(port, &staff, &remove_mention);
    reverse(port, &staff, &remove);
    v.expect(port, "remove reversed", &p, &baseline);
    assert!(notified(port, Some(&carol), &mention2));

    // ---- Suspend alice: no login, no posting, no chat; her content and her
    // notifications to others are gone; nobody can open a chat with her.
    let liked_bob = create_post(port, &bob, "bob's own post");
    ok(
        port,
        Some(&alice),
        "mutation($p: ID!) { like(postId: $p) }",
        json!({ "p": liked_bob }),
    );
    eventually("bob told of alice's like", || {
        notified(port, Some(&bob), &liked_bob)
    });
    let chat = "mutation($u: ID!) { openDirectChat(userId: $u) { id } }";
    ok(port, Some(&carol), chat, json!({ "u": alice_id }));
    let suspend = act_on(port, &staff, "suspend", ("account", &alice_id), &alice_id);
    let no_login = login_until(port, "alice", |a| {
        a.as_ref()
            .is_err_and(|e| e.to_string().contains("suspended"))
    });
    assert!(no_login.is_err());
    // Her old token: posting and chat are refused (the session ended; content and chat
    // refuse a suspended account themselves too, tested in their crates).
    let posting = refused(
        port,
        &alice,
        "mutation($t: String!) { createPost(input: { text: $t }) { id } }",
        json!({ "t": "still here?" }),
    );
    assert!(posting, "posting refused");
    assert!(
        refused(port, &alice, chat, json!({ "u": carol_id })),
        "chat refused"
    );
    let others = [false, false, false, false];
    let suspended_rows: Vec<(&str, Surface, [bool; 5])> = vec![
        ("post read", read, NOBODY),
        ("thread", thread, NOBODY),
        ("home feed", home, NOBODY),
        ("explore", explore, NOBODY),
        ("search", search, NOBODY),
        ("trending", trending, NOBODY),
    ];
    // (The author's own token ended with her sessions: her column is checked after
    // reversal.)
    for (name, surface, _) in &suspended_rows {
        let seen = [
            surface(port, Some(&bob), &p),
            surface(port, Some(&carol), &p),
            surface(port, Some(&staff), &p),
            surface(port, None, &p),
        ];
        assert_eq!(
            seen, others,
            "suspend: {name} (follower, stranger, moderator, anonymous)"
        );
    }
    assert!(
        !notified(port, Some(&bob), &liked_bob),
        "a suspended account's notifications to others are not shown"
    );
    let gone = graphql(port, Some(&carol), chat, json!({ "u": alice_id }));
    assert_eq!(
        gone["errors"][0]["extensions"]["code"],
        json!("NOT_FOUND"),
        "nobody opens a chat with a suspended account: {gone}"
    );
    reverse(port, &staff, &suspend);
    let alice = login_until(port, "alice", Result::is_ok).unwrap();
    let v = Viewers {
        author: alice.clone(),
        ..v
    };
    v.expect(port, "suspend reversed", &p, &baseline);
    assert!(
        notified(port, Some(&bob), &liked_bob),
        "her notifications return"
    );
    ok(port, Some(&carol), chat, json!({ "u": alice_id }));
    ok(port, Some(&alice), chat, json!({ "u": carol_id }));
    create_post(port, &alice, "back again");
}
