//! DataLoaders: a page of 50 posts with their authors, the authors' counts and "viewer
//! follows author" costs a fixed handful of domain calls, not one per post.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use serde_json::json;

const PAGE: &str = r#"
query Page($first: Int!) {
  homeFeed(first: $first) {
    edges {
      cursor
      reason
      node {
        id
        text
        hashtags
        viewerFollowsAuthor
        author { id username followerCount followingCount viewerFollows }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test]
async fn a_page_of_50_posts_costs_a_bounded_number_of_domain_calls() {
    let world = common::World::new().await;
    let (viewer, token) = world.user("viewer").await;
    let mut authors = Vec::new();
    for i in 0..10 {
        let (author, _) = world.user(&format!("author{i}")).await;
        world.social.follow(&viewer, author.user_id).await.unwrap();
        authors.push(author);
    }
    for round in 0..6 {
        for (i, author) in authors.iter().enumerate() {
            world
                .post(author, &format!("post {round} by {i} #round{round}"))
                .await;
        }
    }

    world.calls.reset();
    let answer = world.gql(Some(&token), PAGE, json!({ "first": 50 })).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let edges = answer["data"]["homeFeed"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    for edge in edges {
        let node = &edge["node"];
        assert_eq!(node["viewerFollowsAuthor"], true, "{node}");
        assert_eq!(node["author"]["viewerFollows"], true);
        assert_eq!(node["author"]["followerCount"], 1);
    }
    assert_eq!(answer["data"]["homeFeed"]["pageInfo"]["hasNextPage"], true);

    let calls = world.calls.snapshot();
    // One feed page, and per kind of data one batched call per loader tick: the 10
    // distinct authors in one profile batch, one counts batch (plus privacy); posts came
    // hydrated with the page, and with them social's access answer for their authors,
    // so neither the block check nor the relationships are asked again. A slow
    // (debug, loaded) machine may split a kind over a few 1 ms ticks (seen: 3 under CI
    // load), but never per author (10) or per post (50).
    assert_eq!(world.calls.get("FeedApi::home"), 1, "{calls:?}");
    for batched in ["UserApi::profiles", "GraphApi::counts", "UserApi::privacy"] {
        let n = world.calls.get(batched);
        assert!((1..=3).contains(&n), "{batched}: {calls:?}");
    }
    for reused in ["SocialApi::can_interact_many", "GraphApi::relationships"] {
        assert_eq!(world.calls.get(reused), 0, "{reused}: {calls:?}");
    }
    assert_eq!(world.calls.get("ContentApi::posts"), 0, "{calls:?}");
    assert_eq!(world.calls.get("ContentApi::post"), 0, "{calls:?}");
    assert!(world.calls.total() <= 16, "{calls:?}");

    // The next page resumes after the cursor without repeating a post.
    let end = answer["data"]["homeFeed"]["pageInfo"]["endCursor"].clone();
    let next = world
        .gql(
            Some(&token),
            "query($after: String) { homeFeed(first: 50, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }",
            json!({ "after": end }),
        )
        .await;
    let rest = next["data"]["homeFeed"]["edges"].as_array().unwrap();
    assert_eq!(rest.len(), 10, "{next}");
    let first_ids: Vec<_> = edges.iter().map(|e| &e["node"]["id"]).collect();
    assert!(rest.iter().all(|e| !first_ids.contains(&&e["node"]["id"])));
    assert_eq!(next["data"]["homeFeed"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn the_same_user_and_post_in_many_places_are_loaded_once() {
    let world = common::World::new().await;
    let (author, token) = world.user("author").await;
    let root = world.post(&author, "root").await;
    for i in 0..20 {
        world
            .post_with(
                &author,
                nova_content::NewPost {
                    text: format!("reply {i}"),
                    reply_to: Some(root),
                    ..Default::default()
                },
            )
            .await;
    }
    world.calls.reset();
    let answer = world
        .gql(
            Some(&token),
            "query($id: ID!) { post(id: $id) { replies(first: 20) { edges { node { author { username } root { id author { username } } replyTo { id } } } } } }",
            json!({ "id": root.to_string() }),
        )
        .await;
    assert!(answer["errors"].is_null(), "{answer}");
    let edges = answer["data"]["post"]["replies"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 20);
    let calls = world.calls.snapshot();
    // post(id) loads the root (1 batch), the thread is 1 call; every `root` and
    // `replyTo` is that same cached post, every author the same cached user.
    assert_eq!(world.calls.get("ContentApi::posts"), 1, "{calls:?}");
    assert_eq!(world.calls.get("ContentApi::thread"), 1, "{calls:?}");
    assert_eq!(world.calls.get("UserApi::profiles"), 1, "{calls:?}");
}

/// Social answers "may the viewer see these authors" for a whole page in one call, and
/// content reuses that answer: hydrating posts by 10 authors asks the graph for
/// relationships once (content used to ask social, which asked graph, and then graph
/// again itself).
#[tokio::test]
async fn hydrating_a_page_asks_the_graph_for_relationships_once() {
    let world = common::World::new().await;
    let (viewer, _) = world.user("viewer").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let (author, _) = world.user(&format!("author{i}")).await;
        world.social.follow(&viewer, author.user_id).await.unwrap();
        ids.push(world.post(&author, &format!("post by {i}")).await);
    }

    world.inner_calls.reset();
    let posts = world.content.posts(Some(&viewer), &ids).await.unwrap();
    assert_eq!(posts.len(), 10);
    let calls = world.inner_calls.snapshot();
    assert_eq!(
        world.inner_calls.get("GraphApi::relationships"),
        1,
        "{calls:?}"
    );
}

/// A `homeFeed` page of 50 posts by 10 authors, in both modes, with "viewer follows
/// author" and the authors selected: the (viewer, author) relationships are asked of the
/// graph at most once per page, by anyone (feed, content, social or the gateway's
/// loaders): social answers access once, the answer travels with the hydrated posts and
/// everyone after reuses it.
#[tokio::test]
async fn a_home_feed_page_asks_the_graph_for_relationships_at_most_once_in_both_modes() {
    let world = common::World::new().await;
    let (viewer, token) = world.user("viewer").await;
    let mut authors = Vec::new();
    for i in 0..10 {
        let (author, _) = world.user(&format!("author{i}")).await;
        world.social.follow(&viewer, author.user_id).await.unwrap();
        authors.push(author);
    }
    for round in 0..6 {
        for (i, author) in authors.iter().enumerate() {
            world.post(author, &format!("post {round} by {i}")).await;
        }
    }
    let query = r#"
query Page($mode: FeedMode!) {
  homeFeed(mode: $mode, first: 50) {
    edges {
      node {
        id
        viewerFollowsAuthor
        author { id username viewerFollows followsViewer viewerBlocks viewerMutes }
      }
    }
  }
}"#;
    // The first read rebuilds the viewer's lost home timeline from SQL (per followee,
    // once per rebuild, not per page); pages are what is pinned here.
    let warm = world
        .gql(Some(&token), query, json!({ "mode": "CHRONOLOGICAL" }))
        .await;
    assert!(warm["errors"].is_null(), "{warm}");
    for mode in ["CHRONOLOGICAL", "RANKED"] {
        world.calls.reset();
        world.inner_calls.reset();
        let answer = world
            .gql(Some(&token), query, json!({ "mode": mode }))
            .await;
        assert!(answer["errors"].is_null(), "{mode}: {answer}");
        let edges = answer["data"]["homeFeed"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 50, "{mode}");
        for edge in edges {
            let node = &edge["node"];
            assert_eq!(node["viewerFollowsAuthor"], true, "{mode}: {node}");
            assert_eq!(node["author"]["viewerFollows"], true, "{mode}: {node}");
            assert_eq!(node["author"]["followsViewer"], false, "{mode}: {node}");
            assert_eq!(node["author"]["viewerBlocks"], false, "{mode}: {node}");
            assert_eq!(node["author"]["viewerMutes"], false, "{mode}: {node}");
        }
        let outer = world.calls.snapshot();
        let inner = world.inner_calls.snapshot();
        // Every graph relationship lookup, whoever asked: the gateway directly, or
        // feed, content and social behind it.
        let relationships = world.calls.get("GraphApi::relationships")
            + world.inner_calls.get("GraphApi::relationships");
        assert!(
            relationships <= 1,
            "{mode}: {relationships} relationship lookups; gateway {outer:?}, domains {inner:?}"
        );
        assert_eq!(world.calls.get("FeedApi::home"), 1, "{mode}: {outer:?}");
        assert_eq!(world.calls.get("ContentApi::posts"), 0, "{mode}: {outer:?}");
    }
}
