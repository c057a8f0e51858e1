#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The social gRPC adapters end to end, laid out as the k8s shells run them: one tonic
//! server on 127.0.0.1 serves graph, users and social, and the social service itself
//! reaches graph and users through their gRPC clients. Driven through
//! `SocialGrpcClient`; errors keep their kind across the wire.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use nova_auth::Authenticator;
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, Principal, SessionId, SystemClock, UserId};
use nova_graph::grpc::{GraphGrpcClient, GraphGrpcServer};
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::grpc::{MAX_BATCH, SocialGrpcClient, SocialGrpcServer};
use nova_social::store::SqlSocialStore;
use nova_social::{FollowOutcome, SocialApi, SocialService};
use nova_user::grpc::{UserGrpcClient, UserGrpcServer};
use nova_user::store::SqlUserStore;
use nova_user::{Settings, UserApi, UserService};
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

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::from(id.as_uuid()))
}

async fn account(db: &nova_db::Db, username: &str) -> UserId {
    nova_identity::fixtures::account(db, username)
        .await
        .unwrap()
        .user_id
}

#[tokio::test]
async fn social_over_the_wire_on_graph_and_users_over_the_wire() {
    let test = nova_testkit::sqlite().await;
    let db = test.db().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let channel = Endpoint::from_shared(endpoint.clone())
        .unwrap()
        .connect_lazy();

    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        CursorCodec::new(b"test key, long enough for hmac!!"),
    ));
    let users: Arc<dyn UserApi> =
        Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = SocialService::new(
        Arc::new(GraphGrpcClient::from_channel(channel.clone())),
        Arc::new(UserGrpcClient::from_channel(channel.clone())),
        Arc::new(SqlSocialStore::new(db.clone())),
    );
    let auth: Arc<dyn Authenticator> = Arc::new(TestAuth);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GraphGrpcServer::new(graph).into_service())
            .add_service(UserGrpcServer::new(users.clone(), auth.clone()).into_service())
            .add_service(SocialGrpcServer::new(Arc::new(social), auth).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = SocialGrpcClient::from_channel(channel);
    let (ann, bob, cy) = (
        account(&db, "ann").await,
        account(&db, "bob").await,
        account(&db, "cy").await,
    );
    let private = Settings {
        private_account: true,
        ..Settings::default()
    };
    users
        .update_settings(&principal(cy), private)
        .await
        .unwrap();
    let (as_ann, as_bob, as_cy) = (
        client.with_token(format!("t-{ann}")),
        client.with_token(format!("t-{bob}")),
        client.with_token(format!("t-{cy}")),
    );

    // No token: refused before the call; someone else's session: refused by the server.
    let err = client.follow(&principal(ann), bob).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let err = as_bob.follow(&principal(ann), cy).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

    assert_eq!(
        as_ann.follow(&principal(ann), bob).await.unwrap(),
        FollowOutcome::Following
    );
    assert_eq!(
        as_ann.follow(&principal(ann), bob).await.unwrap(),
        FollowOutcome::AlreadyFollowing
    );
    assert_eq!(
        as_ann.follow(&principal(ann), cy).await.unwrap(),
        FollowOutcome::Requested
    );
    let err = as_ann.follow(&principal(ann), ann).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
        "{err:?}"
    );

    // Private lists: NotFound for the unapproved, anonymous or not, like a missing user.
    let err = as_ann
        .followers(Some(&principal(ann)), cy, 0, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let err = client.followers(None, cy, 0, None).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let pending = as_cy.pending_requests(&principal(cy)).await.unwrap();
    assert_eq!(
        pending.iter().map(|r| r.requester_id).collect::<Vec<_>>(),
        [ann]
    );
    as_cy.approve_request(&principal(cy), ann).await.unwrap();
    let page = as_ann
        .followers(Some(&principal(ann)), cy, 0, None)
        .await
        .unwrap();
    assert_eq!(page.items, [ann]);
    let page = client.following(None, ann, 1, None).await.unwrap();
    assert!(page.has_next_page && page.items.len() == 1);
    let next = client
        .following(None, ann, 1, page.end_cursor.as_deref())
        .await
        .unwrap();
    assert!(!next.has_next_page && next.items.len() == 1 && next.items != page.items);

    // Blocks end follows and interaction; checks by id for other services.
    as_bob.block(&principal(bob), ann).await.unwrap();
    assert!(!client.can_interact(ann, bob).await.unwrap());
    assert_eq!(
        client.can_interact_many(ann, &[bob, cy]).await.unwrap(),
        [false, true]
    );
    assert!(!client.can_view(Some(ann), bob).await.unwrap());
    assert!(client.can_view(None, bob).await.unwrap());

    // Batch checks: at the cap they work (graph and users take a batch that size too),
    // one over is refused before any work, naming the field.
    let mut at_cap: Vec<UserId> = (1..MAX_BATCH).map(|_| UserId::new()).collect();
    at_cap.push(bob);
    let allowed = client.can_interact_many(ann, &at_cap).await.unwrap();
    assert_eq!(allowed.len(), MAX_BATCH);
    assert_eq!(allowed.last(), Some(&false));
    assert_eq!(
        client
            .author_access(Some(ann), &at_cap)
            .await
            .unwrap()
            .len(),
        MAX_BATCH
    );
    let over = [at_cap.as_slice(), &[cy]].concat();
    for (err, field) in [
        (
            client.can_interact_many(ann, &over).await.unwrap_err(),
            "target_ids",
        ),
        (
            client.author_access(Some(ann), &over).await.unwrap_err(),
            "author_ids",
        ),
    ] {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
            "{err:?}"
        );
        assert_eq!(err.field(), Some(field), "{err:?}");
    }
    let err = as_ann.follow(&principal(ann), bob).await.unwrap_err();
    assert!(!matches!(err.kind(), ErrorKind::Internal), "{err:?}");
    as_bob.unblock(&principal(bob), ann).await.unwrap();
    assert!(client.can_interact(ann, bob).await.unwrap());

    as_ann.remove_follower(&principal(ann), bob).await.unwrap();
    as_cy.deny_request(&principal(cy), bob).await.unwrap_err();
    let until = Utc::now() + chrono::Duration::hours(1);
    as_ann
        .mute(&principal(ann), bob, Some(until), true)
        .await
        .unwrap();
    as_ann.unmute(&principal(ann), bob).await.unwrap();
    as_ann.unfollow(&principal(ann), cy).await.unwrap();

    // Block lists.
    let list = as_bob
        .create_block_list(&principal(bob), "spam", "known spam")
        .await
        .unwrap();
    assert_eq!((list.owner_id, list.name.as_str()), (bob, "spam"));
    as_bob
        .add_to_block_list(&principal(bob), list.id, cy)
        .await
        .unwrap();
    let err = as_ann
        .add_to_block_list(&principal(ann), list.id, bob)
        .await
        .unwrap_err();
    assert!(!matches!(err.kind(), ErrorKind::Internal), "{err:?}");
    as_ann
        .subscribe_block_list(&principal(ann), list.id)
        .await
        .unwrap();
    assert!(!client.can_interact(ann, cy).await.unwrap());
    as_ann
        .unsubscribe_block_list(&principal(ann), list.id)
        .await
        .unwrap();
    as_bob
        .remove_from_block_list(&principal(bob), list.id, cy)
        .await
        .unwrap();
    assert!(client.can_interact(ann, cy).await.unwrap());
}
