#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The users gRPC adapters end to end: a real tonic server on 127.0.0.1 over the real
//! service on SQLite, driven through `UserGrpcClient` as another service would.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::Authenticator;
use nova_core::{Error, ErrorKind, MediaId, Principal, SessionId, UserId};
use nova_user::grpc::{UserGrpcClient, UserGrpcServer};
use nova_user::store::SqlUserStore;
use nova_user::{MessagePolicy, ProfileUpdate, Settings, UserApi, UserService};
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
        Ok(Principal::user(id, SessionId::from(id.as_uuid())))
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
async fn every_call_crosses_the_wire_and_errors_keep_their_kind() {
    let test = nova_testkit::sqlite().await;
    let db = test.db().clone();
    let service: Arc<dyn UserApi> =
        Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(UserGrpcServer::new(service, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = UserGrpcClient::connect(endpoint).await.unwrap();
    let (ann, bob) = (account(&db, "ann").await, account(&db, "bob").await);
    let as_ann = client.with_token(format!("t-{ann}"));

    // Lookups need no token.
    assert_eq!(client.profile(ann).await.unwrap().username, "ann");
    assert_eq!(
        client.profile_by_username("BOB").await.unwrap().user_id,
        bob
    );
    let missing = UserId::new();
    let batch = client.profiles(&[bob, missing, ann]).await.unwrap();
    assert_eq!(
        batch.iter().map(|p| p.user_id).collect::<Vec<_>>(),
        [bob, ann]
    );
    let err = client.profile(missing).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);

    // Principal calls: no token, no call; a token for someone else is refused.
    let err = client.settings(&principal(ann)).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
    let err = as_ann.settings(&principal(bob)).await.unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Unauthenticated,
        "session id must match the token"
    );

    let avatar = MediaId::new();
    let update = ProfileUpdate {
        display_name: Some("Ann".into()),
        avatar: Some(Some(avatar)),
        links: Some(vec!["https://ann.example".into()]),
        ..ProfileUpdate::default()
    };
    let p = as_ann
        .update_profile(&principal(ann), update)
        .await
        .unwrap();
    assert_eq!((p.display_name.as_str(), p.avatar), ("Ann", Some(avatar)));
    let clear = ProfileUpdate {
        avatar: Some(None),
        ..ProfileUpdate::default()
    };
    let p = as_ann.update_profile(&principal(ann), clear).await.unwrap();
    assert_eq!((p.avatar, p.links.len()), (None, 1));
    let bad = ProfileUpdate {
        bio: Some("x".repeat(501)),
        ..ProfileUpdate::default()
    };
    let err = as_ann
        .update_profile(&principal(ann), bad)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::InvalidArgument {
            field: "bio".into()
        }
    );

    let settings = Settings {
        private_account: true,
        message_policy: MessagePolicy::Following,
        ..Settings::default()
    };
    assert_eq!(
        as_ann
            .update_settings(&principal(ann), settings)
            .await
            .unwrap(),
        settings
    );
    assert_eq!(as_ann.settings(&principal(ann)).await.unwrap(), settings);
    let privacy = client.privacy(&[ann, bob]).await.unwrap();
    assert!(privacy.iter().any(|p| p.user_id == ann
        && p.private_account
        && p.message_policy == MessagePolicy::Following));

    let p = as_ann
        .change_username(&principal(ann), "annie")
        .await
        .unwrap();
    assert_eq!(p.username, "annie");
    let as_bob = client.with_token(format!("t-{bob}"));
    let err = as_bob
        .change_username(&principal(bob), "annie")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Conflict, "{err:?}");

    as_ann.deactivate(&principal(ann)).await.unwrap();
    assert_eq!(
        client.profile(ann).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    as_ann.reactivate(&principal(ann)).await.unwrap();
    client.profile(ann).await.unwrap();
    let err = as_bob
        .moderator_delete(&principal(bob), ann, "spam")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
    as_ann
        .delete_account(&principal(ann), "leaving")
        .await
        .unwrap();
    assert_eq!(
        client.profile(ann).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
}

#[tokio::test]
async fn batch_reads_over_the_cap_are_refused_naming_the_field() {
    use nova_user::grpc::MAX_BATCH;
    let test = nova_testkit::sqlite().await;
    let service: Arc<dyn UserApi> = Arc::new(UserService::new(Arc::new(SqlUserStore::new(
        test.db().clone(),
    ))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(UserGrpcServer::new(service, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = UserGrpcClient::connect(endpoint).await.unwrap();
    let at_cap: Vec<UserId> = (0..MAX_BATCH).map(|_| UserId::new()).collect();
    assert!(client.profiles(&at_cap).await.unwrap().is_empty());
    client.privacy(&at_cap).await.unwrap();
    let over = [at_cap.as_slice(), &[UserId::new()]].concat();
    for err in [
        client.profiles(&over).await.unwrap_err(),
        client.privacy(&over).await.unwrap_err(),
    ] {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
            "{err:?}"
        );
        assert_eq!(err.field(), Some("user_ids"), "{err:?}");
        assert!(err.message().contains(&MAX_BATCH.to_string()), "{err:?}");
    }
}
