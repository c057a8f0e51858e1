//! Trust & safety end to end against the real `nova` binary on embedded storage: the
//! first admin comes from `NOVA_ADMIN_USERNAMES` and grants moderator roles (audited);
//! a keyword rule refuses a post with its public reason (GraphQL and REST); hide, remove
//! and suspend hold on post reads, threads, home feeds and logins for the author, a
//! follower, a stranger, a moderator and an anonymous viewer, and reversal restores each;
//! an appeal is decided by a different moderator, with every step in the audit log; and
//! every moderation route answers a non-moderator exactly like a missing route.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)] // the whole-loop helpers are for other tests
mod common;

use std::process::{Command, Stdio};

use common::{account, eventually, graphql, login, ok, rest, rest_ok};
use nova_testkit::process::{Running, free_port, wait_for_http};
use serde_json::{Value, json};

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

/// Whether `viewer` (a token, or anonymous) can read the post by id over REST; a
/// post that cannot be read answers exactly like a missing one.
fn reads(port: u16, viewer: Option<&str>, post: &str) -> bool {
    let (status, body) = rest(
        port,
        "GET",
        &format!("/api/v1/posts/{post}"),
        viewer,
        &Value::Null,
    );
    match status {
        200 => true,
        404 => {
            let missing = rest(
                port,
                "GET",
                "/api/v1/posts/01900000-0000-7000-8000-000000000000",
                viewer,
                &Value::Null,
            );
            assert_eq!(
                (status, body),
                missing,
                "a moderated post reads like a missing one"
            );
            false
        }
        other => panic!("GET post: {other} {body}"),
    }
}

/// Whether `viewer` can open the thread of `root` (a moderated root reads as missing).
fn thread_opens(port: u16, viewer: Option<&str>, root: &str) -> bool {
    let (status, body) = rest(
        port,
        "GET",
        &format!("/api/v1/posts/{root}/thread"),
        viewer,
        &Value::Null,
    );
    assert!(status == 200 || status == 404, "{status} {body}");
    status == 200
}

fn home_feed(port: u16, token: &str) -> Vec<String> {
    let data = ok(
        port,
        Some(token),
        "{ homeFeed(mode: CHRONOLOGICAL, first: 50) { edges { node { id } } } }",
        json!({}),
    );
    data["homeFeed"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every viewer of the matrix: `(name, token)`.
struct Viewers<'a> {
    author: &'a str,
    follower: &'a str,
    stranger: &'a str,
    moderator: &'a str,
}

impl Viewers<'_> {
    /// Who can read `post` (directly), in the order author, follower, stranger,
    /// moderator, anonymous.
    fn read(&self, port: u16, post: &str) -> [bool; 5] {
        [
            reads(port, Some(self.author), post),
            reads(port, Some(self.follower), post),
            reads(port, Some(self.stranger), post),
            reads(port, Some(self.moderator), post),
            reads(port, None, post),
        ]
    }
}

fn act(port: u16, moderator: &str, kind: &str, target: (&str, &str), subject: &str) -> String {
    let action = rest_ok(
        port,
        "POST",
        "/api/v1/moderation/actions",
        moderator,
        &json!({
            "target": { "kind": target.0, "id": target.1 },
            "kind": kind,
            "subject": subject,
            "reason": format!("{kind}: breaks the rules"),
            "note": "matrix",
        }),
    );
    action["id"].as_str().unwrap().to_owned()
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

#[test]
fn moderation_is_enforced_appealed_audited_and_hidden_from_everyone_else() {
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

    let (_, root) = account(port, "staffadmin");
    let (mod1_id, mod1) = account(port, "mod1");
    let (mod2_id, _) = account(port, "mod2");
    let (alice_id, alice) = account(port, "alice");
    let (_, bob) = account(port, "bob");
    let (_, carol) = account(port, "carol");

    // ---- Authorization: every moderation route, and the role route, answers a
    // non-moderator (signed in or not) exactly like a route that does not exist.
    let missing = rest(
        port,
        "GET",
        "/api/v1/no-such-route",
        Some(&alice),
        &Value::Null,
    );
    let some_id = "01900000-0000-7000-8000-000000000000";
    let routes: Vec<(&str, String)> = vec![
        ("GET", "/api/v1/moderation/queue".into()),
        (
            "GET",
            format!("/api/v1/moderation/reports?kind=post&id={some_id}"),
        ),
        ("POST", "/api/v1/moderation/queue/assign".into()),
        ("POST", "/api/v1/moderation/queue/escalate".into()),
        ("POST", "/api/v1/moderation/queue/dismiss".into()),
        ("POST", "/api/v1/moderation/actions".into()),
        (
            "POST",
            format!("/api/v1/moderation/actions/{some_id}/reverse"),
        ),
        ("GET", "/api/v1/moderation/appeals".into()),
        (
            "POST",
            format!("/api/v1/moderation/appeals/{some_id}/decide"),
        ),
        ("GET", "/api/v1/moderation/audit".into()),
        ("GET", "/api/v1/moderation/rules".into()),
        ("POST", "/api/v1/moderation/rules".into()),
        ("GET", format!("/api/v1/moderation/rules/{some_id}/history")),
        ("POST", "/api/v1/admin/roles".into()),
    ];
    for (method, path) in &routes {
        for token in [Some(alice.as_str()), None, Some("not-a-token")] {
            let answer = rest(port, method, path, token, &json!({ "x": 1 }));
            assert_eq!(answer, missing, "{method} {path} as {token:?}");
        }
    }
    // A moderator (not an admin) cannot grant roles either.

    // ---- Roles: the admin grants moderator; the grant shows in the next token.
    for user in [&mod1_id, &mod2_id] {
        let changed = rest_ok(
            port,
            "POST",
            "/api/v1/admin/roles",
            &root,
            &json!({ "user_id": user, "role": "moderator", "granted": true, "reason": "new staff" }),
        );
        assert_eq!(changed["changed"], json!(true), "{changed}");
    }
    assert_eq!(
        rest(
            port,
            "GET",
            "/api/v1/moderation/queue",
            Some(&mod1),
            &Value::Null
        ),
        missing,
        "a token issued before the grant does not carry the role"
    );
    let mod1 = login(port, "mod1").unwrap();
    let mod2 = login(port, "mod2").unwrap();
    let (status, _) = rest(
        port,
        "GET",
        "/api/v1/moderation/queue",
        Some(&mod1),
        &Value::Null,
    );
    assert_eq!(status, 200);
    let answer = rest(
        port,
        "POST",
        "/api/v1/admin/roles",
        Some(&mod1),
        &json!({ "user_id": alice_id, "role": "moderator", "granted": true, "reason": "x" }),
    );
    assert_eq!(answer, missing, "a moderator cannot grant roles");

    // ---- Rules before publishing: a keyword rule refuses with its public reason.
    rest_ok(
        port,
        "POST",
        "/api/v1/moderation/rules",
        &mod1,
        &json!({
            "name": "follower sellers",
            "body": { "type": "keywords", "phrases": ["buy followers"], "fold": true },
            "outcome": { "type": "reject" },
            "public_reason": "Selling followers is not allowed.",
        }),
    );
    let refused = graphql(
        port,
        Some(&alice),
        "mutation($t: String!) { createPost(input: { text: $t }) { id } }",
        json!({ "t": "BUY F0LL0WERS here, cheap" }),
    );
    assert!(
        refused["data"].is_null() || refused["data"]["createPost"].is_null(),
        "{refused}"
    );
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Selling followers is not allowed."),
        "{refused}"
    );
    let (status, body) = rest(
        port,
        "POST",
        "/api/v1/posts",
        Some(&alice),
        &json!({ "text": "buy followers today" }),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("Selling followers is not allowed."), "{body}");
    // Unrelated text passes.
    let post = create_post(port, &alice, "A quiet morning by the lake");
    let reply = create_post(port, &alice, "Second post, for the remove case");

    // ---- The enforcement matrix.
    ok(
        port,
        Some(&bob),
        "mutation($u: ID!) { follow(userId: $u) }",
        json!({ "u": alice_id }),
    );
    eventually("alice's post in bob's home feed", || {
        home_feed(port, &bob).contains(&post)
    });
    let viewers = Viewers {
        author: &alice,
        follower: &bob,
        stranger: &carol,
        moderator: &mod2,
    };
    let everyone = [true; 5];
    assert_eq!(viewers.read(port, &post), everyone);
    assert!(thread_opens(port, Some(&carol), &post));

    // ---- GraphQL: a user reports; the moderation namespace is NOT_FOUND for anyone but
    // moderators, who see the report in the queue.
    let report = ok(
        port,
        Some(&carol),
        "mutation($id: ID!) { report(input: { targetKind: \"post\", targetId: $id, reason: \"spam\", text: \"ads\" }) { id status } }",
        json!({ "id": post }),
    );
    assert_eq!(report["report"]["status"], json!("open"), "{report}");
    for token in [Some(alice.as_str()), None] {
        for query in [
            "{ moderation { queue { targetId } } }",
            "mutation { moderation { reverse(actionId: \"01900000-0000-7000-8000-000000000000\") { id } } }",
        ] {
            let answer = graphql(port, token, query, json!({}));
            assert_eq!(
                answer["errors"][0]["extensions"]["code"],
                json!("NOT_FOUND"),
                "{query}: {answer}"
            );
        }
    }
    let queue = ok(
        port,
        Some(&mod1),
        "{ moderation { queue { targetId reportCount topReason } } }",
        json!({}),
    );
    assert_eq!(
        queue["moderation"]["queue"][0]["targetId"],
        json!(post),
        "{queue}"
    );

    // hide: only the author.
    let hide = act(port, &mod1, "hide", ("post", &post), &alice_id);
    assert_eq!(
        viewers.read(port, &post),
        [true, false, false, false, false]
    );
    assert!(
        !home_feed(port, &bob).contains(&post),
        "hidden: not in the follower's feed"
    );
    assert!(thread_opens(port, Some(&alice), &post));
    assert!(!thread_opens(port, Some(&carol), &post));

    // remove: nobody, the author included.
    let remove = act(port, &mod1, "remove", ("post", &reply), &alice_id);
    assert_eq!(viewers.read(port, &reply), [false; 5]);
    assert!(!home_feed(port, &bob).contains(&reply));
    reverse(port, &mod1, &remove);
    assert_eq!(viewers.read(port, &reply), everyone, "reversal restores");

    // ---- Appeal: alice sees the strike with its reason, appeals once; the moderator
    // who acted cannot decide; another one grants, which reverses the hide.
    let strikes = rest_ok(port, "GET", "/api/v1/appeals", &alice, &Value::Null);
    let strike = strikes
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"]["id"] == json!(hide))
        .unwrap_or_else(|| panic!("{strikes}"));
    assert_eq!(strike["action"]["reason"], json!("hide: breaks the rules"));
    let seen = ok(
        port,
        Some(&alice),
        "{ viewer { strikes { action { id kind reason note actorId } appeal { id } } } }",
        json!({}),
    );
    let strike_gql = seen["viewer"]["strikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["action"])
        .find(|a| a["id"] == json!(hide))
        .unwrap_or_else(|| panic!("{seen}"));
    assert_eq!(strike_gql["kind"], json!("hide"), "{seen}");
    assert_eq!(
        strike_gql["note"],
        Value::Null,
        "the subject does not see the moderators' note"
    );
    assert_eq!(strike_gql["actorId"], Value::Null, "nor who acted");
    let appeal = rest_ok(
        port,
        "POST",
        "/api/v1/appeals",
        &alice,
        &json!({ "action_id": hide, "text": "It is a photo of a lake." }),
    );
    let appeal_id = appeal["id"].as_str().unwrap().to_owned();
    let (status, _) = rest(
        port,
        "POST",
        "/api/v1/appeals",
        Some(&alice),
        &json!({ "action_id": hide, "text": "again" }),
    );
    assert_eq!(status, 409, "one appeal per action");
    let (status, body) = rest(
        port,
        "POST",
        &format!("/api/v1/moderation/appeals/{appeal_id}/decide"),
        Some(&mod1),
        &json!({ "grant": true, "note": "mine" }),
    );
    assert!(
        status == 403 || status == 400,
        "the acting moderator may not decide: {status} {body}"
    );
    let decided = rest_ok(
        port,
        "POST",
        &format!("/api/v1/moderation/appeals/{appeal_id}/decide"),
        &mod2,
        &json!({ "grant": true, "note": "fair enough" }),
    );
    assert_eq!(decided["status"], json!("granted"), "{decided}");
    assert_eq!(
        viewers.read(port, &post),
        everyone,
        "a granted appeal restores"
    );
    eventually("the post back in the follower's feed", || {
        home_feed(port, &bob).contains(&post)
    });

    // ---- Hold: a held post is stored, only its author sees it, until a moderator
    // releases it (reverses the hold).
    rest_ok(
        port,
        "POST",
        "/api/v1/moderation/rules",
        &mod1,
        &json!({
            "name": "giveaways",
            "body": { "type": "keywords", "phrases": ["crypto giveaway"] },
            "outcome": { "type": "hold" },
        }),
    );
    let held = create_post(port, &alice, "Huge crypto giveaway, reply to enter");
    assert_eq!(
        viewers.read(port, &held),
        [true, false, false, false, false]
    );
    let strikes = rest_ok(port, "GET", "/api/v1/appeals", &alice, &Value::Null);
    let hold = strikes
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"]["target"]["id"] == json!(held))
        .unwrap_or_else(|| panic!("the hold is among the author's strikes: {strikes}"))["action"]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    reverse(port, &mod2, &hold);
    assert_eq!(
        viewers.read(port, &held),
        everyone,
        "a released post is seen by all"
    );

    // ---- Suspend: no login, sessions ended, posts hidden from everyone else.
    let suspend = act(port, &mod1, "suspend", ("account", &alice_id), &alice_id);
    eventually("alice's login refused", || login(port, "alice").is_err());
    let refused = login(port, "alice").unwrap_err();
    assert!(refused.to_string().contains("suspended"), "{refused}");
    eventually("alice's session ended", || {
        rest(port, "GET", "/api/v1/auth/me", Some(&alice), &Value::Null).0 == 401
    });
    // (The author's own token ended with the session.)
    let others = [
        reads(port, Some(&bob), &post),
        reads(port, Some(&carol), &post),
        reads(port, Some(&mod2), &post),
        reads(port, None, &post),
    ];
    assert_eq!(others, [false; 4], "a suspended author's posts are hidden");
    assert!(!home_feed(port, &bob).contains(&post));
    reverse(port, &mod2, &suspend);
    let alice = {
        let mut token = None;
        eventually("alice can log in again", || {
            token = login(port, "alice").ok();
            token.is_some()
        });
        token.unwrap()
    };
    let viewers = Viewers {
        author: &alice,
        ..viewers
    };
    assert_eq!(
        viewers.read(port, &post),
        everyone,
        "lifting the suspension restores"
    );

    // ---- The audit log holds every step: who, what, why.
    let audit = rest_ok(
        port,
        "GET",
        "/api/v1/moderation/audit?limit=200",
        &mod2,
        &Value::Null,
    );
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for step in [
        "rule.changed",
        "action.taken",
        "action.reversed",
        "appeal.filed",
        "appeal.decided",
    ] {
        assert!(actions.contains(&step), "{step} missing from {actions:?}");
    }
    eventually("role grants in the audit log", || {
        let audit = rest_ok(
            port,
            "GET",
            "/api/v1/moderation/audit?limit=200",
            &mod2,
            &Value::Null,
        );
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == json!("role.granted"))
            .count()
            == 2
    });
}
