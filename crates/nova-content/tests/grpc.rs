//! The content gRPC adapters end to end: the same API-level checks run against the
//! in-process `ContentService` and against `ContentGrpcClient` talking to a
//! `ContentGrpcServer` over TCP, on SQLite and PostgreSQL. Errors keep their kind,
//! message and field across the wire, so a hidden post still answers exactly like a
//! missing one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::Authenticator;
use nova_content::grpc::{ContentGrpcClient, ContentGrpcServer, MAX_GET_POSTS};
use nova_content::store::{SqlContentStore, TimelineKind};
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience, Visibility};
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, PostId, Principal, SessionId, SystemClock, UserId};
use nova_db::Db;
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_user::UserService;
use nova_user::store::SqlUserStore;
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

/// The content API as one caller reaches it.
type ApiFor = Arc<dyn Fn(&Principal) -> Arc<dyn ContentApi> + Send + Sync>;

/// Where the checks send their calls: one handle per caller, one anonymous.
struct Target {
    content: ApiFor,
    anonymous: Arc<dyn ContentApi>,
}

fn text(t: &str) -> NewPost {
    NewPost {
        text: t.into(),
        quotes_allowed: true,
        ..NewPost::default()
    }
}

fn same(a: Error, b: Error) {
    assert_eq!(
        (a.kind(), a.message(), a.field()),
        (b.kind(), b.message(), b.field())
    );
}

/// The API-level checks; `tag` keeps the usernames of two runs on one database apart.
async fn checks(db: &Db, social: &SocialService, target: &Target, tag: &str) {
    let account = |name: &str| {
        let name = format!("{name}_{tag}");
        async move {
            let id = nova_identity::fixtures::account(db, &name)
                .await
                .unwrap()
                .user_id;
            principal(id)
        }
    };
    let (ann, bob, cy) = (
        account("ann").await,
        account("bob").await,
        account("cy").await,
    );
    let api = |p: &Principal| (target.content)(p);
    social.follow(&bob, ann.user_id).await.unwrap();

    // Create, then read back identically (facets, mention resolved) as anyone.
    let created = api(&ann)
        .create_post(
            &ann,
            text(&format!("hello #Nova @bob_{tag} https://nova.example")),
        )
        .await
        .unwrap();
    assert_eq!(created.facets.len(), 3);
    assert_eq!(
        target.anonymous.post(None, created.id).await.unwrap(),
        created
    );

    // Visibility: a post the viewer may not see is NotFound like a missing one.
    let hidden = api(&ann)
        .create_post(
            &ann,
            NewPost {
                visibility: Visibility::Followers,
                ..text("followers only")
            },
        )
        .await
        .unwrap()
        .id;
    let missing = PostId::new();
    same(
        api(&cy).post(Some(&cy), hidden).await.unwrap_err(),
        api(&cy).post(Some(&cy), missing).await.unwrap_err(),
    );
    same(
        target.anonymous.post(None, hidden).await.unwrap_err(),
        target.anonymous.post(None, missing).await.unwrap_err(),
    );
    same(
        api(&cy).like(&cy, hidden).await.unwrap_err(),
        api(&cy).like(&cy, missing).await.unwrap_err(),
    );
    assert_eq!(api(&bob).post(Some(&bob), hidden).await.unwrap().id, hidden);
    // Batch get: in the order asked, invisible and missing left out.
    let ids: Vec<PostId> = api(&cy)
        .posts(Some(&cy), &[hidden, created.id, missing])
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, [created.id]);
    let posts = api(&bob)
        .posts(Some(&bob), &[created.id, missing, hidden])
        .await
        .unwrap();
    let ids: Vec<PostId> = posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, [created.id, hidden]);
    // Social's access answer travels with each hydrated post (locally and over gRPC),
    // so feed and the gateway need not ask the graph again.
    for post in &posts {
        let access = post.access.expect("hydrated posts carry the access answer");
        assert_eq!(access.author, ann.user_id);
        assert!(access.exists && access.can_interact && access.viewer_follows);
        assert!(!access.author_follows_viewer && !access.viewer_blocks && !access.viewer_mutes);
        assert!(access.relationship(bob.user_id).following);
    }
    // Reposts (moved here from social): only of posts the reposter may see; a hidden
    // post answers exactly like a missing one.
    assert!(api(&bob).repost(&bob, hidden).await.unwrap());
    assert!(!api(&bob).repost(&bob, hidden).await.unwrap());
    same(
        api(&cy).repost(&cy, hidden).await.unwrap_err(),
        api(&cy).repost(&cy, missing).await.unwrap_err(),
    );
    assert!(!api(&cy).unrepost(&cy, missing).await.unwrap());
    assert!(api(&bob).unrepost(&bob, hidden).await.unwrap());
    assert!(!api(&bob).unrepost(&bob, hidden).await.unwrap());

    // Likes: idempotent, counted, flagged for the viewer.
    assert!(api(&bob).like(&bob, created.id).await.unwrap());
    assert!(!api(&bob).like(&bob, created.id).await.unwrap());
    assert!(api(&cy).like(&cy, created.id).await.unwrap());
    let seen = api(&bob).post(Some(&bob), created.id).await.unwrap();
    assert_eq!((seen.like_count, seen.liked_by_viewer), (2, true));
    assert!(api(&cy).unlike(&cy, created.id).await.unwrap());
    assert!(!api(&cy).unlike(&cy, created.id).await.unwrap());
    assert_eq!(
        target
            .anonymous
            .post(None, created.id)
            .await
            .unwrap()
            .like_count,
        1
    );

    // Bookmarks are the caller's own.
    assert!(api(&cy).bookmark(&cy, created.id).await.unwrap());
    let marked = api(&cy).bookmarks(&cy, 10).await.unwrap();
    assert_eq!(marked.len(), 1);
    assert!(marked[0].bookmarked_by_viewer);
    assert!(api(&bob).bookmarks(&bob, 10).await.unwrap().is_empty());
    assert!(api(&cy).unbookmark(&cy, created.id).await.unwrap());

    // Edits keep their history; only the author edits.
    let edited = api(&ann)
        .edit_post(&ann, created.id, "hello again #nova")
        .await
        .unwrap();
    assert!(edited.edited_at.is_some());
    assert_eq!(edited.text, "hello again #nova");
    let history = target
        .anonymous
        .edit_history(None, created.id)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].previous_text, created.text);
    assert_eq!(history[0].editor_id, ann.user_id);
    assert_eq!(
        api(&bob)
            .edit_post(&bob, created.id, "hijack")
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::PermissionDenied
    );

    // A thread, paged, with a tombstone keeping its place.
    let mut replies = Vec::new();
    for i in 0..3 {
        let reply = api(&bob)
            .create_post(
                &bob,
                NewPost {
                    reply_to: Some(created.id),
                    ..text(&format!("reply {i}"))
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (reply.root_id, reply.depth),
            (Some(created.id), 1),
            "a reply knows its thread"
        );
        replies.push(reply.id);
    }
    api(&bob).delete_post(&bob, replies[1]).await.unwrap();
    same(
        api(&cy).post(Some(&cy), replies[1]).await.unwrap_err(),
        api(&cy).post(Some(&cy), missing).await.unwrap_err(),
    );
    let first = target
        .anonymous
        .thread(None, created.id, 2, None)
        .await
        .unwrap();
    assert!(first.has_next_page);
    assert_eq!(
        first.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        replies[..2]
    );
    assert!(first.items[1].deleted && first.items[1].text.is_empty());
    let next = target
        .anonymous
        .thread(None, created.id, 2, first.end_cursor.as_deref())
        .await
        .unwrap();
    assert!(!next.has_next_page);
    assert_eq!(
        next.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        replies[2..]
    );
    assert_eq!(
        target
            .anonymous
            .post(None, created.id)
            .await
            .unwrap()
            .reply_count,
        3
    );
    same(
        api(&cy)
            .thread(Some(&cy), hidden, 10, None)
            .await
            .unwrap_err(),
        api(&cy)
            .thread(Some(&cy), missing, 10, None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        target
            .anonymous
            .thread(None, created.id, 2, Some("forged"))
            .await
            .unwrap_err()
            .field(),
        Some("cursor")
    );

    // Author timelines, filtered for the viewer.
    let timeline = |viewer: Option<Principal>| {
        let api = match &viewer {
            Some(p) => api(p),
            None => target.anonymous.clone(),
        };
        async move {
            api.author_timeline(viewer.as_ref(), ann.user_id, TimelineKind::Posts, 10, None)
                .await
                .unwrap()
                .items
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(timeline(Some(cy.clone())).await, [created.id]);
    assert_eq!(timeline(Some(bob.clone())).await, [hidden, created.id]);
    let bob_replies = api(&cy)
        .author_timeline(Some(&cy), bob.user_id, TimelineKind::Replies, 10, None)
        .await
        .unwrap();
    assert_eq!(bob_replies.items.len(), 2, "the deleted reply is gone");

    // Idempotency keys.
    let keyed = NewPost {
        idempotency_key: Some(format!("key-{tag}")),
        ..text("once")
    };
    let a = api(&ann).create_post(&ann, keyed.clone()).await.unwrap();
    let b = api(&ann).create_post(&ann, keyed.clone()).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(
        api(&ann)
            .create_post(
                &ann,
                NewPost {
                    text: "twice".into(),
                    ..keyed
                }
            )
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::Conflict
    );

    // Validation errors name their field.
    assert_eq!(
        api(&ann)
            .create_post(&ann, text(&"x".repeat(501)))
            .await
            .unwrap_err()
            .field(),
        Some("text")
    );
}

mod suite {
    use super::*;

    pub async fn answers_the_same_locally_and_over_grpc(db: Db) {
        let cursors = CursorCodec::new(b"test key, long enough for hmac!!");
        let graph = Arc::new(GraphService::new(
            Arc::new(SqlGraphStore::new(db.clone())),
            SystemClock::shared(),
            cursors.clone(),
        ));
        let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
        let social = Arc::new(SocialService::new(
            graph.clone(),
            users.clone(),
            Arc::new(SqlSocialStore::new(db.clone())),
        ));
        let audience = Arc::new(SocialAudience::new(social.clone(), graph, users));
        let content = Arc::new(ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            audience,
            cursors,
        ));

        let local = Target {
            content: Arc::new({
                let content = content.clone();
                move |_: &Principal| content.clone() as Arc<dyn ContentApi>
            }),
            anonymous: content.clone(),
        };
        checks(&db, &social, &local, "local").await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let auth: Arc<dyn Authenticator> = Arc::new(TestAuth);
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(ContentGrpcServer::new(content, auth).into_service())
                .serve_with_incoming(TcpIncoming::from(listener)),
        );
        let channel = Endpoint::from_shared(endpoint).unwrap().connect_lazy();
        let client = ContentGrpcClient::from_channel(channel);

        // Without a token nothing is sent; with someone else's session the server refuses.
        let someone = principal(UserId::new());
        assert_eq!(
            client
                .create_post(&someone, text("hi"))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );
        assert_eq!(
            client
                .with_token(format!("t-{}", UserId::new()))
                .like(&someone, PostId::new())
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Unauthenticated
        );

        // A batch read at the cap works; one over is refused before any work.
        let at_cap: Vec<PostId> = (0..MAX_GET_POSTS).map(|_| PostId::new()).collect();
        assert!(client.posts(None, &at_cap).await.unwrap().is_empty());
        let over = [at_cap.as_slice(), &[PostId::new()]].concat();
        let err = client.posts(None, &over).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument { .. }),
            "{err:?}"
        );
        assert_eq!(err.field(), Some("post_ids"), "{err:?}");

        let remote = Target {
            content: Arc::new({
                let client = client.clone();
                move |p: &Principal| {
                    Arc::new(client.with_token(format!("t-{}", p.user_id))) as Arc<dyn ContentApi>
                }
            }),
            anonymous: Arc::new(client),
        };
        checks(&db, &social, &remote, "grpc").await;
    }
}

nova_testkit::db_conformance_suite!(suite: answers_the_same_locally_and_over_grpc);
