//! The gateway's chat fields and its `chatEvents` subscription over the chat gRPC client,
//! as graphql-gateway runs them: each request's `ChatGrpcClient` carries the caller's
//! token to `nova.chat.v1.ChatService` (127.0.0.1) in front of the real chat service,
//! which verifies it itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::{SinkExt, StreamExt};
use nova_chat::grpc::{ChatGrpcClient, ChatGrpcServer};
use nova_chat::store::SqlChatStore;
use nova_chat::{ChatApi, ChatRelations, ChatService, Reach};
use nova_core::UserId;
use nova_gateway::{Domains, GatewayOptions};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tonic::transport::Endpoint;
use tonic::transport::server::TcpIncoming;

/// Everyone exists and may talk (who may message whom is nova-chat's to test).
struct Open;

#[async_trait]
impl ChatRelations for Open {
    async fn reach(&self, _: UserId, others: &[UserId]) -> nova_core::Result<Vec<Reach>> {
        let open = Reach {
            exists: true,
            can_interact: true,
            follows_actor: false,
        };
        Ok(vec![open; others.len()])
    }
}

/// Serves a chat service over gRPC and points `world`'s gateway at it, as nova-app wires
/// graphql-gateway: a client without a token, and one with the caller's per request.
async fn chat_over_grpc(world: &mut common::World) -> Arc<ChatService> {
    let db = world.sqlite.db().clone();
    let chat = Arc::new(ChatService::new(
        Arc::new(SqlChatStore::new(db)),
        Arc::new(Open),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let api: Arc<dyn ChatApi> = chat.clone();
    let server = ChatGrpcServer::new(api, world.domains.auth.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server.into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client =
        ChatGrpcClient::from_channel(Endpoint::from_shared(endpoint).unwrap().connect_lazy());
    let domains = Domains {
        chat: Some(Arc::new(client.clone())),
        with_token: Some(Arc::new(move |base: &Domains, token: &str| Domains {
            chat: Some(Arc::new(client.with_token(token))),
            ..base.clone()
        })),
        ..world.domains.clone()
    };
    world.router = nova_gateway::router(domains, GatewayOptions::default());
    chat
}

#[tokio::test]
async fn chat_fields_reach_the_chat_service_over_grpc() {
    let mut world = common::World::new().await;
    let chat = chat_over_grpc(&mut world).await;
    let (ann, a) = world.user("ann").await;
    let (bob, b) = world.user("bob").await;
    let (_, c) = world.user("cat").await;

    let opened = world
        .gql(
            Some(&a),
            "mutation($u: ID!) { openDirectChat(userId: $u) { id kind } }",
            json!({ "u": bob.user_id.to_string() }),
        )
        .await;
    let direct = &opened["data"]["openDirectChat"];
    assert_eq!(direct["kind"], "direct", "{opened}");
    let id = direct["id"].as_str().unwrap().to_owned();
    // Stored by the service behind the wire.
    let listed = chat.conversations(&bob, false, 10).await.unwrap();
    assert_eq!(listed[0].id.to_string(), id);
    assert_eq!(listed[0].created_by, ann.user_id);

    let members = world
        .gql(
            Some(&b),
            "query($c: ID!) { chatMembers(conversationId: $c) { version } }",
            json!({ "c": id }),
        )
        .await;
    assert!(
        members["data"]["chatMembers"]["version"].is_i64(),
        "{members}"
    );
    // An outsider: NOT_FOUND, as for a missing conversation.
    let query = "query($c: ID!) { chatConversation(id: $c) { id } }";
    let outsider = world.gql(Some(&c), query, json!({ "c": id })).await;
    assert_eq!(common::code(&outsider), "NOT_FOUND", "{outsider}");
    let missing = json!({ "c": nova_chat::ConversationId::new().to_string() });
    let absent = world.gql(Some(&c), query, missing).await;
    assert_eq!(common::error_of(&outsider), common::error_of(&absent));
    let anonymous = world.gql(None, query, json!({ "c": id })).await;
    assert_eq!(common::code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON message that is not a keep-alive.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = socket.next().await.unwrap().unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] != "ping" && value["type"] != "ka" {
                return value;
            }
        }
    }
}

#[tokio::test]
async fn chat_events_cross_the_grpc_stream() {
    let mut world = common::World::new().await;
    let chat = chat_over_grpc(&mut world).await;
    let (ann, _) = world.user("ann").await;
    let (bob, b) = world.user("bob").await;
    let direct = chat.open_direct(&ann, bob.user_id).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = world.router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({
        "type": "connection_init",
        "payload": { "Authorization": format!("Bearer {b}") },
    });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(10), next(&mut socket))
        .await
        .unwrap();
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription { chatEvents(deviceId: \"bob-phone\") { kind conversationId userId } }",
        },
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    // Live once the gRPC stream reached pub/sub: Ann types until one arrives.
    let mut pushed = None;
    for _ in 0..50 {
        chat.typing(&ann, direct.id).await.unwrap();
        if let Ok(message) =
            tokio::time::timeout(Duration::from_millis(200), next(&mut socket)).await
        {
            pushed = Some(message);
            break;
        }
    }
    let message = pushed.expect("a pushed chat event");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(
        message["payload"]["data"]["chatEvents"],
        json!({
            "kind": "typing",
            "conversationId": direct.id.to_string(),
            "userId": ann.user_id.to_string(),
        })
    );
}
