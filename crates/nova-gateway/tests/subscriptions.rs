//! Subscriptions over a real WebSocket (`graphql-transport-ws`): the token comes in
//! `connection_init`, new posts in the caller's home feed arrive as `next` messages, and
//! a subscription without a token is refused with `UNAUTHENTICATED`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nova_auth::Revocations;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn serve(world: &common::World) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = world.router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn connect(addr: std::net::SocketAddr, init: Value) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": init });
    socket.send(Message::text(init.to_string())).await.unwrap();
    socket
}

/// The next JSON message that is not a keep-alive.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" && value["type"] != "ka" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn new_posts_in_the_home_feed_are_pushed() {
    let world = common::World::new().await;
    let (alice, _) = world.user("alice").await;
    let (bob, b_token) = world.user("bob").await;
    world.social.follow(&bob, alice.user_id).await.unwrap();
    // Bob has read his feed once (fan-out only feeds timelines that exist).
    let feed = world
        .gql(
            Some(&b_token),
            "{ homeFeed { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert!(feed["errors"].is_null(), "{feed}");

    let addr = serve(&world).await;
    let mut socket = connect(
        addr,
        json!({ "Authorization": format!("Bearer {b_token}") }),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "subscription { homeFeedPosts { id text author { username } } }" },
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    // The subscription is live once the feed's pub/sub has a subscriber; fan out until
    // the first post arrives.
    let mut pushed = None;
    for i in 0..50 {
        let id = world.post(&alice, &format!("hello #{i}")).await;
        world.feed.fan_out(id, alice.user_id).await.unwrap();
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(200), next(&mut socket)).await
        {
            pushed = Some((id, message));
            break;
        }
    }
    let (id, message) = pushed.expect("a pushed post");
    assert_eq!(message["type"], "next", "{message}");
    let post = &message["payload"]["data"]["homeFeedPosts"];
    assert_eq!(post["id"], id.to_string(), "{message}");
    assert_eq!(post["author"]["username"], "alice");
}

#[tokio::test]
async fn subscriptions_need_a_token() {
    let world = common::World::new().await;
    let addr = serve(&world).await;
    let mut socket = connect(addr, json!({})).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "subscription { homeFeedPosts { id } }" },
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let message = next(&mut socket).await;
    let errors = if message["type"] == "error" {
        message["payload"].clone()
    } else {
        message["payload"]["errors"].clone()
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "UNAUTHENTICATED",
        "{message}"
    );

    // A bad token is refused at connection time.
    let mut socket = connect(addr, json!({ "Authorization": "Bearer forged" })).await;
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .unwrap();
    let refused = match message {
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => true,
        Some(Ok(Message::Text(text))) => text.contains("error") || text.contains("UNAUTH"),
        Some(Ok(_)) => false,
    };
    assert!(refused);
}

/// How a connection ended: the close code, if the server sent one; `Some(0)` when it
/// dropped the connection without a close frame.
async fn closed(socket: &mut Socket) -> Option<u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within 10 s");
        match message {
            Some(Ok(Message::Close(frame))) => return Some(frame.map_or(0, |f| f.code.into())),
            None | Some(Err(_)) => return Some(0),
            Some(Ok(Message::Text(text))) if text.contains("\"ping\"") => continue,
            Some(Ok(_)) => return None,
        }
    }
}

#[tokio::test]
async fn messages_over_the_post_body_cap_close_the_connection() {
    let world = common::World::new().await;
    let addr = serve(&world).await;
    let mut socket = connect(addr, json!({})).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    let limit = nova_gateway::QueryLimits::default().max_body_bytes;
    let query = format!(
        "subscription {{ homeFeedPosts {{ id }} }} #{}",
        "x".repeat(limit)
    );
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    // The server may close while the message is still being written.
    let _ = socket.send(Message::text(subscribe.to_string())).await;
    assert!(closed(&mut socket).await.is_some());
}

#[tokio::test]
async fn a_message_before_connection_init_closes_the_connection() {
    let world = common::World::new().await;
    let addr = serve(&world).await;
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "subscription { homeFeedPosts { id } }" },
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    assert_eq!(closed(&mut socket).await, Some(4400));
}

#[tokio::test]
async fn connections_are_capped_per_address_and_per_user() {
    let mut options = nova_gateway::GatewayOptions::default();
    options.query.max_ws_per_address = 2;
    options.query.max_ws_per_user = 1;
    let world = common::World::with_options(options).await;
    let (_, token) = world.user("alice").await;
    let addr = serve(&world).await;
    let auth = json!({ "Authorization": format!("Bearer {token}") });
    let mut first = connect(addr, auth.clone()).await;
    assert_eq!(next(&mut first).await["type"], "connection_ack");
    // The same user again: refused at connection_init.
    let mut second = connect(addr, auth.clone()).await;
    assert!(closed(&mut second).await.is_some());
    drop(second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut anonymous = connect(addr, json!({})).await;
    assert_eq!(next(&mut anonymous).await["type"], "connection_ack");
    // A third connection from this address: refused at the upgrade.
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
    // Closing one frees its slot.
    drop(anonymous);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect(addr, json!({})).await;
    assert_eq!(next(&mut again).await["type"], "connection_ack");
    drop(first);
}

#[tokio::test]
async fn an_ended_session_closes_its_open_subscriptions() {
    let world = common::World::new().await;
    let (alice, token) = world.user("alice").await;
    let (_, other_token) = world.user("bob").await;
    let addr = serve(&world).await;
    let mut ended = connect(addr, json!({ "Authorization": format!("Bearer {token}") })).await;
    let mut other = connect(
        addr,
        json!({ "Authorization": format!("Bearer {other_token}") }),
    )
    .await;
    for socket in [&mut ended, &mut other] {
        assert_eq!(next(socket).await["type"], "connection_ack");
        let subscribe = json!({
            "id": "1",
            "type": "subscribe",
            "payload": { "query": "subscription { homeFeedPosts { id } }" },
        });
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .unwrap();
    }

    world.revocations.revoke(alice.session_id).await.unwrap();
    assert_eq!(
        closed(&mut ended).await,
        Some(nova_gateway::CLOSE_SESSION_ENDED)
    );
    // Another session's connection stays open: a ping is answered with a pong.
    other
        .send(Message::text(json!({ "type": "ping" }).to_string()))
        .await
        .unwrap();
    assert_eq!(next(&mut other).await["type"], "pong");
}

#[tokio::test]
async fn written_notifications_are_pushed() {
    let world = common::World::new().await;
    let (ann, a_token) = world.user("ann").await;
    let (bob, _) = world.user("bob").await;
    let addr = serve(&world).await;
    let mut socket = connect(
        addr,
        json!({ "Authorization": format!("Bearer {a_token}") }),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": "subscription { notifications { id kind count actors { username } } }" },
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    // Live once the subscription reached pub/sub: like new posts until one arrives.
    let mut pushed = None;
    for i in 0..50 {
        let post = world.post(&ann, &format!("post {i}")).await;
        world.content.like(&bob, post).await.unwrap();
        world.deliver_notifications().await;
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(200), next(&mut socket)).await
        {
            pushed = Some(message);
            break;
        }
    }
    let message = pushed.expect("a pushed notification");
    assert_eq!(message["type"], "next", "{message}");
    let n = &message["payload"]["data"]["notifications"];
    assert_eq!(n["kind"], "like", "{message}");
    assert_eq!(n["count"], 1);
    assert_eq!(n["actors"], json!([{ "username": "bob" }]));
}
