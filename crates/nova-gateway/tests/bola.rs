//! BOLA matrix: with A's token, every ID-taking field and mutation pointed at B's objects
//! that A may not see (a private account's posts, a blocking account) answers exactly
//! what a missing id answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use nova_content::{NewPost, Visibility};
use nova_core::{PostId, UserId};
use serde_json::{Value, json};

/// Every operation taking a post id, as `$id`.
const POST_OPS: &[&str] = &[
    "query($id: ID!) { post(id: $id) { id text } }",
    "mutation($id: ID!) { like(postId: $id) }",
    "mutation($id: ID!) { unlike(postId: $id) }",
    "mutation($id: ID!) { bookmark(postId: $id) }",
    "mutation($id: ID!) { unbookmark(postId: $id) }",
    "mutation($id: ID!) { repost(postId: $id) }",
    "mutation($id: ID!) { editPost(postId: $id, text: \"mine now\") { id } }",
    "mutation($id: ID!) { deletePost(postId: $id) }",
    "mutation($id: ID!) { reply(to: $id, input: { text: \"hi\" }) { id } }",
    "mutation($id: ID!) { quote(of: $id, input: { text: \"look\" }) { id } }",
];

/// Every operation taking a user id, as `$id`.
const USER_OPS: &[&str] = &[
    "query($id: ID!) { user(id: $id) { id username } }",
    "query($id: ID!) { user(id: $id) { followers { edges { node { id } } } } }",
    "mutation($id: ID!) { follow(userId: $id) }",
];

async fn answer(world: &common::World, token: &str, op: &str, id: impl ToString) -> Value {
    world
        .gql(Some(token), op, json!({ "id": id.to_string() }))
        .await
}

/// An answer as a client can compare it: data, and errors without locations and paths.
fn comparable(answer: &Value) -> Value {
    let errors: Vec<Value> = answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| json!({ "message": e["message"], "extensions": e["extensions"] }))
                .collect()
        })
        .unwrap_or_default();
    json!({ "data": answer["data"], "errors": errors })
}

/// `op` on `hidden` answers exactly like `op` on a fresh id (reads: `NOT_FOUND`).
async fn same_as_missing(
    world: &common::World,
    token: &str,
    op: &str,
    hidden: String,
    missing: String,
) {
    let seen = answer(world, token, op, hidden).await;
    let none = answer(world, token, op, missing).await;
    assert_eq!(
        comparable(&seen),
        comparable(&none),
        "{op}: {seen} vs {none}"
    );
    if op.starts_with("query") {
        assert_eq!(common::code(&seen), "NOT_FOUND", "{op}: {seen}");
    }
}

#[tokio::test]
async fn another_users_hidden_posts_answer_like_missing_ones() {
    let world = common::World::new().await;
    let (_a, a_token) = world.user("alice").await;
    let (bob, _) = world.user("bob").await;
    let (carol, _) = world.user("carol").await;
    let (dave, _) = world.user("dave").await;

    // Bob's followers-only post; Carol's public post after she blocks Alice; Dave is
    // private and Alice does not follow him.
    let followers_only = world
        .post_with(
            &bob,
            NewPost {
                text: "followers only".into(),
                visibility: Visibility::Followers,
                quotes_allowed: true,
                ..NewPost::default()
            },
        )
        .await;
    let blocked = world.post(&carol, "public, but not for alice").await;
    world.social.block(&carol, _a.user_id).await.unwrap();
    let mut settings = world.users.settings(&dave).await.unwrap();
    settings.private_account = true;
    world.users.update_settings(&dave, settings).await.unwrap();
    let private = world.post(&dave, "private account").await;

    for hidden in [followers_only, blocked, private] {
        for op in POST_OPS {
            same_as_missing(
                &world,
                &a_token,
                op,
                hidden.to_string(),
                PostId::new().to_string(),
            )
            .await;
        }
    }
    // Nothing was changed by the attempts.
    for id in [followers_only, blocked, private] {
        let post = world.content.post(None, id).await;
        if let Ok(post) = post {
            assert_eq!(post.like_count, 0);
            assert!(!post.deleted && post.text != "mine now");
        }
    }
}

#[tokio::test]
async fn a_blocking_users_profile_and_lists_answer_like_a_missing_user() {
    let world = common::World::new().await;
    let (alice, a_token) = world.user("alice").await;
    let (carol, _) = world.user("carol").await;
    let (dave, _) = world.user("dave").await;
    world.social.block(&carol, alice.user_id).await.unwrap();
    let mut settings = world.users.settings(&dave).await.unwrap();
    settings.private_account = true;
    world.users.update_settings(&dave, settings).await.unwrap();

    for op in USER_OPS {
        same_as_missing(
            &world,
            &a_token,
            op,
            carol.user_id.to_string(),
            UserId::new().to_string(),
        )
        .await;
    }
    // By username too.
    let by_name = world
        .gql(
            Some(&a_token),
            "{ user(username: \"carol\") { id } }",
            json!({}),
        )
        .await;
    let missing = world
        .gql(
            Some(&a_token),
            "{ user(username: \"nobody_here\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(common::error_of(&by_name), common::error_of(&missing));

    // A private account's follower list is not for Alice: the same answer as a missing user's.
    let op = "query($id: ID!) { user(id: $id) { followers { edges { node { id } } } } }";
    let private = answer(&world, &a_token, op, dave.user_id).await;
    let none = answer(&world, &a_token, op, UserId::new()).await;
    assert_eq!(
        common::error_of(&private),
        common::error_of(&none),
        "{private}"
    );
}

#[tokio::test]
async fn the_owner_still_sees_their_objects() {
    let world = common::World::new().await;
    let (bob, b_token) = world.user("bob").await;
    let id = world
        .post_with(
            &bob,
            NewPost {
                text: "followers only".into(),
                visibility: Visibility::Followers,
                ..NewPost::default()
            },
        )
        .await;
    let seen = answer(&world, &b_token, POST_OPS[0], id).await;
    assert_eq!(seen["data"]["post"]["text"], "followers only", "{seen}");
    let liked = answer(&world, &b_token, POST_OPS[1], id).await;
    assert_eq!(liked["data"]["like"], true, "{liked}");
}

#[tokio::test]
async fn only_ones_own_post_can_be_pinned() {
    let world = common::World::new().await;
    let (alice, a_token) = world.user("alice").await;
    let (bob, _) = world.user("bob").await;
    let bobs = world.post(&bob, "bob's words").await;
    let own = world.post(&alice, "alice's words").await;
    let pin =
        "mutation($id: ID!) { updateProfile(input: { pinnedPostId: $id }) { pinnedPost { id } } }";
    let refused = answer(&world, &a_token, pin, bobs).await;
    assert_eq!(common::code(&refused), "BAD_USER_INPUT", "{refused}");
    // Exactly like a post that does not exist.
    let missing = answer(&world, &a_token, pin, PostId::new()).await;
    assert_eq!(comparable(&refused), comparable(&missing));
    let shown = world
        .gql(
            None,
            "query($id: ID!) { user(id: $id) { pinnedPost { id } } }",
            json!({ "id": alice.user_id.to_string() }),
        )
        .await;
    assert_eq!(shown["data"]["user"]["pinnedPost"], Value::Null, "{shown}");
    let pinned = answer(&world, &a_token, pin, own).await;
    assert_eq!(
        pinned["data"]["updateProfile"]["pinnedPost"]["id"],
        own.to_string(),
        "{pinned}"
    );
}
