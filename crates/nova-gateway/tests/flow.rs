//! The whole loop through GraphQL alone: register and log in (real identity, real
//! tokens), follow, post with a hashtag, read the home feed in both modes, like, see the
//! tag trend, then block — and the post is gone exactly like a missing one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use chrono::Utc;
use nova_trending::{Engagement, EngagementKind, EntityKey};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

async fn ok(world: &common::World, token: Option<&str>, query: &str, vars: Value) -> Value {
    let answer = world.gql(token, query, vars).await;
    assert!(answer["errors"].is_null(), "{query}: {answer}");
    answer["data"].clone()
}

async fn account(world: &common::World, name: &str) -> (String, String) {
    let data = ok(
        world,
        None,
        "mutation($e: String!, $u: String!, $p: String!) { register(email: $e, username: $u, password: $p) { id username emailVerified } }",
        json!({ "e": format!("{name}@example.com"), "u": name, "p": PASSWORD }),
    )
    .await;
    let id = data["register"]["id"].as_str().unwrap().to_owned();
    let data = ok(
        world,
        None,
        "mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { tokens { accessToken refreshToken } twoFactorChallenge } }",
        json!({ "u": name, "p": PASSWORD }),
    )
    .await;
    let token = data["login"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

const FEED: &str = "query($mode: FeedMode!) { homeFeed(mode: $mode, first: 10) { edges { reason node { id text hashtags likedByViewer author { username } } } } }";

#[tokio::test]
async fn register_follow_post_feed_like_trend_block() {
    let world = common::World::new().await;
    let (a_id, a_token) = account(&world, "alice").await;
    let (_, b_token) = account(&world, "bob").await;

    let me = ok(
        &world,
        Some(&b_token),
        "{ viewer { account { username } user { username } } }",
        json!({}),
    )
    .await;
    assert_eq!(me["viewer"]["account"]["username"], "bob");

    let follow = ok(
        &world,
        Some(&b_token),
        "mutation($id: ID!) { follow(userId: $id) }",
        json!({ "id": a_id }),
    )
    .await;
    assert_eq!(follow["follow"], "FOLLOWING");

    let post = ok(
        &world,
        Some(&a_token),
        "mutation { createPost(input: { text: \"Hello #RustLang world\" }) { id hashtags author { username } } }",
        json!({}),
    )
    .await;
    let post_id = post["createPost"]["id"].as_str().unwrap().to_owned();
    assert_eq!(post["createPost"]["hashtags"], json!(["rustlang"]));

    for mode in ["CHRONOLOGICAL", "RANKED"] {
        let feed = ok(&world, Some(&b_token), FEED, json!({ "mode": mode })).await;
        let ids: Vec<&str> = feed["homeFeed"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&post_id.as_str()), "{mode}: {feed}");
    }

    let liked = ok(
        &world,
        Some(&b_token),
        "mutation($id: ID!) { like(postId: $id) }",
        json!({ "id": post_id }),
    )
    .await;
    assert_eq!(liked["like"], true);
    let seen = ok(
        &world,
        Some(&b_token),
        "query($id: ID!) { post(id: $id) { likeCount likedByViewer } }",
        json!({ "id": post_id }),
    )
    .await;
    assert_eq!(
        seen["post"],
        json!({ "likeCount": 1, "likedByViewer": true })
    );

    // Trending is fed by content's events in a deployment; here the engagement goes in
    // directly and the gateway shows it.
    let now = Utc::now();
    let events: Vec<Engagement> = (0..20u128)
        .map(|account| Engagement {
            entity: EntityKey::hashtag("rustlang"),
            account,
            kind: EngagementKind::Like,
            at: now,
            lang: None,
            region: None,
        })
        .collect();
    world.domains.trending.ingest(&events).await.unwrap();
    let top = ok(
        &world,
        None,
        "{ trending(window: \"1h\") { kind isHashtag(tag: \"#RustLang\") score } }",
        json!({}),
    )
    .await;
    let first = &top["trending"][0];
    assert_eq!(first["kind"], "HASHTAG", "{top}");
    assert_eq!(first["isHashtag"], true, "{top}");

    // Alice blocks Bob: the post leaves his feed and answers like a missing one.
    let bob = ok(&world, Some(&b_token), "{ viewer { id } }", json!({})).await;
    ok(
        &world,
        Some(&a_token),
        "mutation($id: ID!) { block(userId: $id) }",
        json!({ "id": bob["viewer"]["id"] }),
    )
    .await;
    for mode in ["CHRONOLOGICAL", "RANKED"] {
        let feed = ok(&world, Some(&b_token), FEED, json!({ "mode": mode })).await;
        assert_eq!(feed["homeFeed"]["edges"], json!([]), "{mode}: {feed}");
    }
    let hidden = world
        .gql(
            Some(&b_token),
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": post_id }),
        )
        .await;
    let missing = world
        .gql(
            Some(&b_token),
            "query($id: ID!) { post(id: $id) { id } }",
            json!({ "id": nova_core::PostId::new().to_string() }),
        )
        .await;
    assert_eq!(common::error_of(&hidden), common::error_of(&missing));
    assert_eq!(common::code(&hidden), "NOT_FOUND");

    // Sessions: refresh gives new tokens, logout ends the session.
    let data = ok(
        &world,
        None,
        "mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { tokens { refreshToken } } }",
        json!({ "u": "alice", "p": PASSWORD }),
    )
    .await;
    let refresh = data["login"]["tokens"]["refreshToken"].as_str().unwrap();
    let pair = ok(
        &world,
        None,
        "mutation($r: String!) { refresh(refreshToken: $r) { accessToken userId } }",
        json!({ "r": refresh }),
    )
    .await;
    assert_eq!(pair["refresh"]["userId"], a_id.as_str());
    let out = ok(&world, Some(&a_token), "mutation { logout }", json!({})).await;
    assert_eq!(out["logout"], true);
}

#[tokio::test]
async fn profile_settings_and_follower_connections() {
    let world = common::World::new().await;
    let (alice, a_token) = world.user("alice").await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let (fan, _) = world.user(&format!("fan{i}")).await;
        world.social.follow(&fan, alice.user_id).await.unwrap();
        fans.push(fan);
    }
    let updated = ok(
        &world,
        Some(&a_token),
        "mutation { updateProfile(input: { displayName: \"Alice A.\", bio: \"hi\" }) { displayName bio } }",
        json!({}),
    )
    .await;
    assert_eq!(
        updated["updateProfile"],
        json!({ "displayName": "Alice A.", "bio": "hi" })
    );

    // Two pages of followers through Relay cursors, no repeats.
    let page = "query($id: ID!, $after: String) { user(id: $id) { followerCount followers(first: 3, after: $after) { edges { cursor node { username } } pageInfo { hasNextPage endCursor } } } }";
    let first = ok(
        &world,
        Some(&a_token),
        page,
        json!({ "id": alice.user_id.to_string() }),
    )
    .await;
    assert_eq!(first["user"]["followerCount"], 5);
    let conn = &first["user"]["followers"];
    assert_eq!(conn["edges"].as_array().unwrap().len(), 3);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let second = ok(
        &world,
        Some(&a_token),
        page,
        json!({ "id": alice.user_id.to_string(), "after": conn["pageInfo"]["endCursor"] }),
    )
    .await;
    let rest = &second["user"]["followers"];
    assert_eq!(rest["edges"].as_array().unwrap().len(), 2, "{second}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let mut names: Vec<String> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["edges"].as_array().unwrap())
        .map(|e| e["node"]["username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["fan0", "fan1", "fan2", "fan3", "fan4"]);

    // Hiding counts hides them from others, not from the owner.
    let settings = ok(&world, Some(&a_token), "{ viewer { settings { privateAccount messagePolicy hideFollowCounts hideFollowLists discoverable notifications { likes replies mentions follows reposts directMessages } } } }", json!({})).await;
    let mut input = settings["viewer"]["settings"].clone();
    input["hideFollowCounts"] = json!(true);
    ok(
        &world,
        Some(&a_token),
        "mutation($s: SettingsInput!) { updateSettings(input: $s) { hideFollowCounts } }",
        json!({ "s": input }),
    )
    .await;
    let (_, other) = world.user("other").await;
    let counts = "query($id: ID!) { user(id: $id) { followerCount } }";
    let vars = json!({ "id": alice.user_id.to_string() });
    assert_eq!(
        ok(&world, Some(&other), counts, vars.clone()).await["user"]["followerCount"],
        Value::Null
    );
    assert_eq!(
        ok(&world, Some(&a_token), counts, vars).await["user"]["followerCount"],
        5
    );
}

#[tokio::test]
async fn notifications_are_listed_counted_and_marked_read() {
    let world = common::World::new().await;
    let (ann, a_token) = world.user("ann").await;
    let (bob, b_token) = world.user("bob").await;
    let (cy, _) = world.user("cy").await;
    let post = world.post(&ann, "hello").await;
    for fan in [&bob, &cy] {
        world.content.like(fan, post).await.unwrap();
    }
    world.social.follow(&bob, ann.user_id).await.unwrap();
    world.deliver_notifications().await;

    let list = "query($f: NotificationFolder) { notifications(first: 10, folder: $f) { edges { cursor node { id kind count unread targetId actors { username } } } pageInfo { hasNextPage } } unreadNotificationCount }";
    let data = ok(&world, Some(&a_token), list, json!({})).await;
    let edges = data["notifications"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2, "{data}");
    assert_eq!(data["unreadNotificationCount"], 2);
    let like = edges.iter().find(|e| e["node"]["kind"] == "like").unwrap();
    assert_eq!(like["node"]["count"], 2);
    assert_eq!(like["node"]["targetId"], post.to_string());
    assert_eq!(
        like["node"]["actors"],
        json!([{ "username": "cy" }, { "username": "bob" }])
    );
    let like_id = like["node"]["id"].as_str().unwrap().to_owned();

    // Bob cannot mark Ann's notification: NOT_FOUND, exactly like a missing id.
    let mark = "mutation($id: ID, $all: Boolean) { markNotificationsRead(id: $id, all: $all) }";
    let theirs = world
        .gql(Some(&b_token), mark, json!({ "id": like_id }))
        .await;
    let missing = world
        .gql(
            Some(&a_token),
            mark,
            json!({ "id": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(
        (common::code(&theirs), common::code(&missing)),
        ("NOT_FOUND", "NOT_FOUND")
    );
    let both = world
        .gql(Some(&a_token), mark, json!({ "id": like_id, "all": true }))
        .await;
    assert_eq!(common::code(&both), "BAD_USER_INPUT");
    let data = ok(&world, Some(&a_token), mark, json!({ "id": like_id })).await;
    assert_eq!(data["markNotificationsRead"], 1);
    let data = ok(
        &world,
        Some(&a_token),
        "{ unreadNotificationCount }",
        json!({}),
    )
    .await;
    assert_eq!(data["unreadNotificationCount"], 1);
    let data = ok(&world, Some(&a_token), mark, json!({ "all": true })).await;
    assert_eq!(data["markNotificationsRead"], 1);

    // Strangers to the requests folder once the policy says so.
    let set = "mutation { setNotificationPolicy(filterNotFollowing: true) { filterNotFollowing } }";
    let data = ok(&world, Some(&a_token), set, json!({})).await;
    assert_eq!(data["setNotificationPolicy"]["filterNotFollowing"], true);
    world.social.follow(&cy, ann.user_id).await.unwrap();
    world.deliver_notifications().await;
    let data = ok(&world, Some(&a_token), list, json!({ "f": "REQUESTS" })).await;
    let edges = data["notifications"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{data}");
    assert_eq!(edges[0]["node"]["kind"], "follow");
    assert_eq!(edges[0]["node"]["actors"], json!([{ "username": "cy" }]));
    let anonymous = world
        .gql(None, "{ unreadNotificationCount }", json!({}))
        .await;
    assert_eq!(common::code(&anonymous), "UNAUTHENTICATED");
}
