//! Abuse: requests over the limits are refused before any resolver runs (no domain call
//! at all), attempts are counted per field even when aliased or batched, production
//! hides introspection and GraphiQL, and every error carries its code.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use nova_gateway::GatewayOptions;
use serde_json::{Value, json};

fn nested(field: &str, inner: &str, depth: usize) -> String {
    let mut q = inner.to_owned();
    for _ in 0..depth {
        q = format!("{field} {{ {q} }}");
    }
    q
}

async fn refused_without_calls(world: &common::World, token: Option<&str>, query: &str) -> Value {
    world.calls.reset();
    let answer = world.gql(token, query, json!({})).await;
    assert!(answer["data"].is_null(), "{answer}");
    assert!(answer["errors"][0]["message"].is_string(), "{answer}");
    assert_eq!(common::code(&answer), "BAD_USER_INPUT", "{answer}");
    assert_eq!(world.calls.total(), 0, "{:?}", world.calls.snapshot());
    answer
}

#[tokio::test]
async fn over_depth_and_over_complexity_queries_never_reach_a_domain() {
    let world = common::World::new().await;
    let (_, token) = world.user("alice").await;
    // 17 levels: viewer → user → (pinnedPost → author) × 7 → id.
    let chain = nested("pinnedPost { author", "id", 7).replace(" }", " } }");
    let deep = format!("{{ viewer {{ user {{ {chain} }} }} }}");
    let answer = refused_without_calls(&world, Some(&token), &deep).await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deep"),
        "{answer}"
    );

    // 100 posts × 100 replies × 100 replies of replies ≫ the complexity budget.
    let wide = "{ homeFeed(first: 100) { edges { node { replies(first: 100) { edges { node { replies(first: 100) { edges { node { id text } } } } } } } } } }";
    let answer = refused_without_calls(&world, Some(&token), wide).await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("omplex"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_thousand_aliased_logins_are_refused_before_any_attempt() {
    let world = common::World::new().await;
    let fields: String = (0..1000)
        .map(|i| format!("a{i}: login(identifier: \"victim\", password: \"guess-{i}-xxxxxxxx\") {{ tokens {{ accessToken }} }}\n"))
        .collect();
    let query = format!("mutation {{ {fields} }}");
    let answer = refused_without_calls(&world, None, &query).await;
    assert_eq!(common::code(&answer), "BAD_USER_INPUT", "{answer}");
    assert_eq!(world.calls.get("IdentityApi::login"), 0);
}

#[tokio::test]
async fn login_attempts_are_counted_per_field_across_aliases_and_batches() {
    let world = common::World::new().await;
    let three = "mutation { a: login(identifier: \"victim\", password: \"wrong-password-1\") { tokens { accessToken } } \
                 b: login(identifier: \"victim\", password: \"wrong-password-2\") { tokens { accessToken } } \
                 c: login(identifier: \"victim\", password: \"wrong-password-3\") { tokens { accessToken } } }";
    let batch: Vec<Value> = (0..10).map(|_| json!({ "query": three })).collect();
    world.calls.reset();
    let (status, answer) = world.raw(None, serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    let answers = answer.as_array().unwrap();
    assert_eq!(answers.len(), 10);
    // The login bucket holds 10 attempts: three operations (9 logins) fit, the fourth
    // would make 12 and is refused whole, like every later one.
    let limit = GatewayOptions::default().rates.login.limit as usize;
    let attempts = world.calls.get("IdentityApi::login");
    assert!(
        attempts <= limit,
        "{attempts} login calls for a budget of {limit}"
    );
    assert_eq!(attempts, 9);
    let limited = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert_eq!(limited, 7, "{answer}");

    // More operations than the batch limit: refused whole.
    let batch: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let (status, answer) = world.raw(None, serde_json::to_vec(&batch).unwrap()).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(common::code(&answer), "BAD_USER_INPUT");
}

#[tokio::test]
async fn ten_thousand_deep_documents_are_refused_before_parsing_deeply() {
    let world = common::World::new().await;
    let (_, token) = world.user("alice").await;
    // A fragment whose selections nest 10,000 deep.
    let deep = format!(
        "query {{ ...F }} fragment F on Query {{ {} }}",
        nested("viewer", "id", 10_000)
    );
    let answer = refused_without_calls(&world, Some(&token), &deep).await;
    assert_eq!(common::code(&answer), "BAD_USER_INPUT", "{answer}");
    // A chain of 10,000 fragments, each spreading the next.
    let mut chain = String::from("query { ...F0 }\n");
    for i in 0..10_000 {
        chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
    }
    chain.push_str("fragment F10000 on Query { viewer { id } }");
    refused_without_calls(&world, Some(&token), &chain).await;
    // A fragment bomb: 2^30 expansions from 30 short lines.
    let mut bomb = String::from("query { ...B0 }\n");
    for i in 0..30 {
        bomb.push_str(&format!(
            "fragment B{i} on Query {{ ...B{} ...B{} }}\n",
            i + 1,
            i + 1
        ));
    }
    bomb.push_str("fragment B30 on Query { viewer { id } }");
    refused_without_calls(&world, Some(&token), &bomb).await;
}

#[tokio::test]
async fn oversized_bodies_and_non_json_posts_are_refused() {
    let world = common::World::new().await;
    let limit = GatewayOptions::default().query.max_body_bytes;
    let big = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(limit)) });
    let (status, answer) = world.raw(None, serde_json::to_vec(&big).unwrap()).await;
    assert_eq!(status, 413, "{answer}");
    let (status, _) = world.raw(None, b"{not json".to_vec()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn production_hides_introspection_and_graphiql() {
    let introspect = "{ __schema { queryType { name } } }";
    let dev = common::World::new().await;
    let answer = dev.gql(None, introspect, json!({})).await;
    assert_eq!(
        answer["data"]["__schema"]["queryType"]["name"], "Query",
        "{answer}"
    );
    let (status, page) = dev.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("graphiql"), "{page}");

    let prod = common::World::with_options(GatewayOptions {
        production: true,
        ..GatewayOptions::default()
    })
    .await;
    let answer = prod.gql(None, introspect, json!({})).await;
    assert!(answer["data"]["__schema"].is_null(), "{answer}");
    assert_eq!(prod.get("/").await.0, 404);
    assert_eq!(prod.get("/graphql").await.0, 405);
}

#[tokio::test]
async fn errors_carry_their_codes() {
    let world = common::World::new().await;
    let answer = world.gql(None, "{ viewer { id } }", json!({})).await;
    assert_eq!(common::code(&answer), "UNAUTHENTICATED", "{answer}");

    let (status, answer) = world
        .raw(
            Some("not-a-token"),
            serde_json::to_vec(&json!({ "query": "{ __typename }" })).unwrap(),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(common::code(&answer), "UNAUTHENTICATED", "{answer}");

    let answer = world
        .gql(None, "{ post(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(common::code(&answer), "BAD_USER_INPUT", "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["field"], "id");

    let missing = nova_core::PostId::new();
    let answer = world
        .gql(
            None,
            &format!("{{ post(id: \"{missing}\") {{ id }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(common::code(&answer), "NOT_FOUND", "{answer}");

    let answer = world
        .gql(
            None,
            "{ homeFeed(first: 500) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(common::code(&answer), "BAD_USER_INPUT", "{answer}");
}

#[tokio::test]
async fn the_standard_introspection_query_passes_and_data_queries_keep_their_depth() {
    let world = common::World::new().await;
    // graphql-js `getIntrospectionQuery` with descriptions, specifiedByURL, isRepeatable,
    // schema description and input-value deprecation, `ofType` nine levels deep.
    let query = include_str!("fixtures/introspection_query.graphql");
    let answer = world.gql(None, query, json!({})).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let types = answer["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Query"), "{answer}");
    assert_eq!(answer["data"]["__schema"]["queryType"]["name"], "Query");

    // The same depth reaching data is still refused, alone or behind introspection.
    let (_, token) = world.user("alice").await;
    let chain = nested("pinnedPost { author", "id", 7).replace(" }", " } }");
    for deep in [
        format!("{{ viewer {{ user {{ {chain} }} }} }}"),
        format!("{{ __typename viewer {{ user {{ {chain} }} }} }}"),
    ] {
        let answer = refused_without_calls(&world, Some(&token), &deep).await;
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("deep"), "{answer}");
    }
}
