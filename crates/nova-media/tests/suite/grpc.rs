//! The gRPC adapters end to end: a real tonic server on 127.0.0.1, the client as
//! content would use it (is this media the author's own, and ready?).

use std::sync::Arc;

use image::ImageFormat;
use nova_core::{ErrorKind, UserId};
use nova_media::grpc::{MediaGrpcClient, MediaGrpcServer};
use nova_media::{MediaApi, MediaId, MediaState, MediaUpdate};
use tonic::transport::server::TcpIncoming;

use crate::files::{halves, mp4};
use crate::{TestAuth, principal, service, upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_get_many_update_delete_cross_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(service(dir.path()).await);
    let (me, other) = (UserId::new(), UserId::new());
    let (p_me, p_other) = (principal(me), principal(other));
    let image = upload(&service, &p_me, &halves(80, 60, ImageFormat::Png))
        .await
        .unwrap();
    let video = upload(&service, &p_me, &mp4()).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let api: Arc<dyn MediaApi> = service.clone();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(MediaGrpcServer::new(api, Arc::new(TestAuth)).into_service())
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    let client = MediaGrpcClient::connect(endpoint).await.unwrap();
    let as_me = client.with_token(format!("t-{me}"));
    let as_other = client.with_token(format!("t-{other}"));

    // Without a token nothing is sent.
    let err = client.get(&p_me, image.id).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unauthenticated);

    // The same media as in-process, URLs included.
    let got = as_me.get(&p_me, image.id).await.unwrap();
    assert_eq!(
        (got.id, got.owner_id, got.state),
        (image.id, me, MediaState::Ready)
    );
    assert_eq!(got.variants.len(), 6);
    assert_eq!(got.blurhash, image.blurhash);
    assert!(got.variants.iter().all(|v| v.url.is_some()));

    // What content asks: mine and ready? The pending video is visible to its owner only.
    let mine = as_me
        .get_many(Some(&p_me), &[video.id, image.id, MediaId::new()])
        .await
        .unwrap();
    let states: Vec<_> = mine.iter().map(|m| (m.id, m.state)).collect();
    assert_eq!(
        states,
        vec![
            (video.id, MediaState::Pending),
            (image.id, MediaState::Ready)
        ]
    );
    let theirs = as_other
        .get_many(Some(&p_other), &[video.id, image.id])
        .await
        .unwrap();
    assert_eq!(
        theirs.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![image.id]
    );
    // Signed out (no token at all): the ready ones only, as a public post shows them.
    let public = client.get_many(None, &[video.id, image.id]).await.unwrap();
    assert_eq!(
        public.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![image.id]
    );
    // Attaching (internal: the service gate stands in front of it in a real server)
    // keeps its all-or-none answer and the field it names.
    let err = client
        .attach(other, &[image.id], "post:x")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("media_ids"));
    let err = client.attach(me, &[video.id], "post:x").await.unwrap_err();
    assert_eq!(err.field(), Some("media_ids"), "pending");
    let spare = upload(&service, &p_me, &halves(20, 20, ImageFormat::Png))
        .await
        .unwrap();
    client.attach(me, &[spare.id], "post:x").await.unwrap();
    assert_eq!(
        service
            .get(&p_me, spare.id)
            .await
            .unwrap()
            .attached_to
            .as_deref(),
        Some("post:x")
    );
    let too_many: Vec<MediaId> = (0..101).map(|_| MediaId::new()).collect();
    let err = as_me.get_many(Some(&p_me), &too_many).await.unwrap_err();
    assert_eq!(err.field(), Some("ids"));

    // Update and delete: the owner only; errors keep their kind and field.
    let update = MediaUpdate {
        alt_text: Some("over the wire".into()),
        focus: None,
    };
    let err = as_other
        .update(&p_other, image.id, update.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotFound);
    let long = MediaUpdate {
        alt_text: Some("y".repeat(1501)),
        focus: None,
    };
    assert_eq!(
        as_me
            .update(&p_me, image.id, long)
            .await
            .unwrap_err()
            .field(),
        Some("alt_text")
    );
    assert_eq!(
        as_me
            .update(&p_me, image.id, update)
            .await
            .unwrap()
            .alt_text,
        "over the wire"
    );
    assert_eq!(
        as_other
            .delete(&p_other, image.id)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );
    as_me.delete(&p_me, image.id).await.unwrap();
    assert_eq!(
        as_me.get(&p_me, image.id).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
}
