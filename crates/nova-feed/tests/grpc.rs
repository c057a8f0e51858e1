//! The feed over the wire: FeedGrpcServer in front of the real service, FeedGrpcClient
//! giving the same pages (and the new-post stream) as the service in-process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, Principal, SessionId, UserId};
use nova_feed::grpc::{FeedGrpcClient, FeedGrpcServer};
use nova_feed::{FeedApi, FeedMode};
use nova_social::SocialApi;
use tonic::transport::Endpoint;
use tonic::transport::server::TcpIncoming;

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
struct TestAuth;

#[async_trait]
impl Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
        Ok(principal(id))
    }
}

/// The principal a `t-<id>` token stands for (its session id is the user id).
fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

#[tokio::test]
async fn the_client_reads_what_the_service_serves() {
    let backend = nova_testkit::sqlite().await;
    let w = common::memory_world(backend.db().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let channel = Endpoint::from_shared(format!("http://{}", listener.local_addr().unwrap()))
        .unwrap()
        .connect_lazy();
    let api: Arc<dyn FeedApi> = w.feed.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(FeedGrpcServer::new(api, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = FeedGrpcClient::from_channel(channel);

    let (alice, bob) = (w.user("alice").await, w.user("bob").await);
    w.social.follow(&alice, bob.user_id).await.unwrap();
    let alice = principal(alice.user_id);
    let as_alice = client.with_token(format!("t-{}", alice.user_id));
    // Without a token: refused before the call.
    let err = client
        .home(&alice, FeedMode::Chronological, 10, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    assert!(
        as_alice
            .home(&alice, FeedMode::Chronological, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let mut stream = as_alice.new_posts(&alice).await.unwrap();
    w.deliver().await;
    let posts = [w.post(&bob, "one").await, w.post(&bob, "two").await];
    w.deliver().await;

    // What she missed since her last home read.
    assert_eq!(as_alice.catch_up(&alice, 10).await.unwrap().items.len(), 2);
    let remote = as_alice
        .home(&alice, FeedMode::Chronological, 1, None)
        .await
        .unwrap();
    let local = w
        .feed
        .home(&alice, FeedMode::Chronological, 1, None)
        .await
        .unwrap();
    assert_eq!(remote.items, local.items);
    assert_eq!(remote.items[0].post.id, posts[1]);
    let next = as_alice
        .home(
            &alice,
            FeedMode::Chronological,
            1,
            remote.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].post.id, posts[0]);
    let ranked = as_alice
        .home(&alice, FeedMode::Ranked, 10, None)
        .await
        .unwrap();
    assert!(ranked.items.iter().all(|i| i.score.is_some()));
    assert!(
        client
            .explore(None, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(stream.next().await, Some(posts[0]));
    assert_eq!(stream.next().await, Some(posts[1]));
}
