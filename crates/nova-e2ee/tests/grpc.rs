//! The E2EE gRPC adapters end to end: a real tonic server over the real key directory
//! (SQLite), called through `KeyDirectoryGrpcClient` as `Arc<dyn KeyDirectory>`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use common::TestDevice;
use nova_core::{Error, ErrorKind, Principal, UserId};
use nova_e2ee::grpc::{Authenticator, KeyDirectoryGrpcClient, KeyDirectoryGrpcServer};
use nova_e2ee::{
    Algorithm, DeviceAddress, KeyDirectory, KeyDirectoryService, KeyKind, OutgoingMessage,
};
use tonic::transport::server::TcpIncoming;
use vodozemac::megolm::{GroupSession, SessionConfig};

/// Test double of the token verifier: fixed tokens for fixed principals.
struct Tokens(HashMap<String, Principal>);

#[async_trait]
impl Authenticator for Tokens {
    async fn authenticate(&self, token: &str) -> nova_core::Result<Principal> {
        self.0
            .get(token)
            .cloned()
            .ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_directory_over_grpc() {
    let backend = nova_testkit::sqlite().await;
    let mut ann = TestDevice::new(UserId::new(), "phone");
    let bob = TestDevice::new(UserId::new(), "laptop");
    let tokens = Tokens(HashMap::from([
        ("ann-token".to_string(), ann.principal.clone()),
        ("bob-token".to_string(), bob.principal.clone()),
    ]));
    let service: Arc<dyn KeyDirectory> = Arc::new(KeyDirectoryService::sql(backend.db().clone()));
    let server = KeyDirectoryGrpcServer::new(service, Arc::new(tokens)).into_service();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let as_ann = KeyDirectoryGrpcClient::connect(url.clone(), ann.user(), "ann-token")
        .await
        .unwrap()
        .into_shared();
    let as_bob = KeyDirectoryGrpcClient::connect(url.clone(), bob.user(), "bob-token")
        .await
        .unwrap()
        .into_shared();

    // Batches: at the cap they work, one over is refused naming the field.
    let max = nova_e2ee::model::MAX_BATCH;
    let at_cap: Vec<UserId> = (0..max).map(|_| UserId::new()).collect();
    as_ann.query_devices(&ann.principal, &at_cap).await.unwrap();
    as_ann
        .device_list_versions(&ann.principal, &at_cap)
        .await
        .unwrap();
    let over = [at_cap.as_slice(), &[UserId::new()]].concat();
    let targets: Vec<nova_e2ee::model::DeviceAddress> = over
        .iter()
        .map(|u| {
            nova_e2ee::model::DeviceAddress::new(*u, nova_e2ee::model::DeviceId::new("x").unwrap())
        })
        .collect();
    for (err, field) in [
        (
            as_ann
                .query_devices(&ann.principal, &over)
                .await
                .unwrap_err(),
            "user_ids",
        ),
        (
            as_ann
                .device_list_versions(&ann.principal, &over)
                .await
                .unwrap_err(),
            "user_ids",
        ),
        (
            as_ann
                .claim_keys(&ann.principal, &ann.device_id, &targets)
                .await
                .unwrap_err(),
            "targets",
        ),
    ] {
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
            "{err:?}"
        );
        assert_eq!(err.field(), Some(field), "{err:?}");
    }

    // Uploads cross the wire intact and are verified by the server.
    let upload = ann.upload(3);
    let mut forged = upload.clone();
    forged.one_time_keys[1].signature = forged.one_time_keys[0].signature.clone();
    let e = as_ann
        .upload_keys(&ann.principal, &ann.device_id, forged)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("one_time_keys.signature"));
    let counts = as_ann
        .upload_keys(&ann.principal, &ann.device_id, upload)
        .await
        .unwrap();
    assert_eq!((counts.one_time_keys, counts.fallback_key), (3, true));
    assert_eq!(
        as_ann
            .key_counts(&ann.principal, &ann.device_id)
            .await
            .unwrap(),
        counts
    );

    let mut bob_dev = bob;
    let upload = bob_dev.upload(1);
    as_bob
        .upload_keys(&bob_dev.principal, &bob_dev.device_id, upload)
        .await
        .unwrap();
    let lists = as_bob
        .query_devices(&bob_dev.principal, &[ann.user()])
        .await
        .unwrap();
    assert_eq!(lists[0].devices, vec![ann.device_keys()]);
    assert_eq!(
        as_bob
            .device_list_versions(&bob_dev.principal, &[ann.user()])
            .await
            .unwrap(),
        [(ann.user(), 1)]
    );
    let target = [DeviceAddress::new(ann.user(), ann.device_id.clone())];
    let claimed = as_bob
        .claim_keys(&bob_dev.principal, &bob_dev.device_id, &target)
        .await
        .unwrap();
    assert_eq!((claimed.len(), claimed[0].kind), (1, KeyKind::OneTime));
    assert_eq!(claimed[0].device, ann.device_keys());

    let mut group = GroupSession::new(SessionConfig::version_1());
    let message = OutgoingMessage {
        sender_device: bob_dev.device_id.clone(),
        algorithm: Algorithm::Megolm,
        session_id: group.session_id(),
        ciphertext: group.encrypt("over the wire").to_bytes(),
        recipients: target.to_vec(),
    };
    let id = as_bob
        .send_message(&bob_dev.principal, message.clone())
        .await
        .unwrap();
    let inbox = as_ann
        .inbox(&ann.principal, &ann.device_id, 0, 10)
        .await
        .unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        (inbox[0].id, &inbox[0].ciphertext, inbox[0].algorithm),
        (id, &message.ciphertext, Algorithm::Megolm)
    );
    assert_eq!(
        inbox[0].sender,
        DeviceAddress::new(bob_dev.user(), bob_dev.device_id.clone())
    );
    assert_eq!(
        as_ann
            .acknowledge(&ann.principal, &ann.device_id, id)
            .await
            .unwrap(),
        1
    );

    // The token decides who acts: Bob's client cannot act as Ann, a bad token gets nothing.
    let e = as_bob
        .remove_device(&ann.principal, &ann.device_id)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    let stranger = UserId::new();
    let bad = KeyDirectoryGrpcClient::connect(url, stranger, "forged")
        .await
        .unwrap();
    let someone = Principal::user(stranger, nova_core::SessionId::new());
    let e = bad
        .query_devices(&someone, &[ann.user()])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unauthenticated);
    as_ann
        .remove_device(&ann.principal, &ann.device_id)
        .await
        .unwrap();
    assert_eq!(
        as_bob
            .device_list_versions(&bob_dev.principal, &[ann.user()])
            .await
            .unwrap(),
        [(ann.user(), 2)]
    );
}
