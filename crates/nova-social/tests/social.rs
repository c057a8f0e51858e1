//! nova-social on SQLite and PostgreSQL: follow requests, the block matrix, private
//! accounts (BOLA), block lists and reposts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use nova_content::consumer::BlockedPairs;
use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, PostId, Principal, SystemClock, UserId};
use nova_db::{Db, DbKind};
use nova_events::{EventHandler, outbox};
use nova_graph::{CachedGraphStore, GraphApi, GraphService, GraphStore, SqlGraphStore};
use nova_social::store::SqlSocialStore;
use nova_social::{FollowOutcome, SocialApi, SocialService};
use nova_user::store::SqlUserStore;
use nova_user::{Settings, UserApi, UserService};

struct World {
    social: Arc<SocialService>,
    graph: Arc<GraphService>,
    users: Arc<UserService>,
    /// Reposts live in content (with the post); its audience is this social.
    content: Arc<ContentService>,
    db: Db,
}

/// On SQLite the world runs as the embedded `nova` does, with the in-process read
/// caches of graph and social; on PostgreSQL without (as replicated services do). So
/// every case checks that a write is visible to the very next read through the caches.
fn world(db: Db) -> World {
    let embedded = db.kind() == DbKind::Sqlite;
    let mut graph_store: Arc<dyn GraphStore> = Arc::new(SqlGraphStore::new(db.clone()));
    if embedded {
        graph_store = Arc::new(CachedGraphStore::new(graph_store, 10_000));
    }
    let graph = Arc::new(GraphService::new(
        graph_store,
        SystemClock::shared(),
        CursorCodec::new(b"test key, long enough for hmac!!"),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let mut social = SocialService::new(
        graph.clone(),
        users.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    );
    if embedded {
        social = social.with_read_cache(10_000);
    }
    let social = Arc::new(social);
    let content = ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        Arc::new(SocialAudience::new(
            social.clone(),
            graph.clone(),
            users.clone(),
        )),
        CursorCodec::new(b"test key, long enough for hmac!!"),
    );
    let content = Arc::new(content);
    World {
        social,
        graph,
        users,
        content,
        db,
    }
}

impl World {
    async fn user(&self, name: &str) -> Principal {
        nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
    }

    async fn private_user(&self, name: &str) -> Principal {
        let p = self.user(name).await;
        self.users
            .update_settings(
                &p,
                Settings {
                    private_account: true,
                    ..Settings::default()
                },
            )
            .await
            .unwrap();
        p
    }

    async fn post_by(&self, author: &Principal) -> PostId {
        let post = NewPost {
            text: "a public post".into(),
            ..NewPost::default()
        };
        self.content.create_post(author, post).await.unwrap().id
    }

    async fn follows(&self, a: &Principal, b: &Principal) -> bool {
        self.graph
            .relationships(&[(a.user_id, b.user_id)])
            .await
            .unwrap()[0]
            .following
    }
}

fn same_answer(a: Error, b: Error) {
    assert_eq!((a.kind(), a.message()), (b.kind(), b.message()));
}

mod suite {
    use super::*;

    pub async fn public_follows_private_requests(db: Db) {
        let w = world(db);
        let (ann, bob, cat) = (
            w.user("ann").await,
            w.user("bob").await,
            w.private_user("cat").await,
        );
        assert_eq!(
            w.social.follow(&ann, bob.user_id).await.unwrap(),
            FollowOutcome::Following
        );
        assert_eq!(
            w.social.follow(&ann, bob.user_id).await.unwrap(),
            FollowOutcome::AlreadyFollowing
        );
        assert_eq!(
            w.social
                .follow(&ann, ann.user_id)
                .await
                .unwrap_err()
                .field(),
            Some("user_id")
        );
        assert_eq!(
            w.social
                .follow(&ann, UserId::new())
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );

        assert_eq!(
            w.social.follow(&ann, cat.user_id).await.unwrap(),
            FollowOutcome::Requested
        );
        assert_eq!(
            w.social.follow(&bob, cat.user_id).await.unwrap(),
            FollowOutcome::Requested
        );
        assert!(!w.follows(&ann, &cat).await);
        let pending: Vec<UserId> = w
            .social
            .pending_requests(&cat)
            .await
            .unwrap()
            .iter()
            .map(|r| r.requester_id)
            .collect();
        assert_eq!(pending, [ann.user_id, bob.user_id]);
        w.social.approve_request(&cat, ann.user_id).await.unwrap();
        w.social.deny_request(&cat, bob.user_id).await.unwrap();
        assert!(w.follows(&ann, &cat).await);
        assert!(!w.follows(&bob, &cat).await);
        assert!(w.social.pending_requests(&cat).await.unwrap().is_empty());
        assert_eq!(
            w.social
                .approve_request(&cat, bob.user_id)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        // A request can be withdrawn; a follower can be removed.
        assert_eq!(
            w.social.follow(&bob, cat.user_id).await.unwrap(),
            FollowOutcome::Requested
        );
        w.social.unfollow(&bob, cat.user_id).await.unwrap();
        assert!(w.social.pending_requests(&cat).await.unwrap().is_empty());
        w.social.remove_follower(&cat, ann.user_id).await.unwrap();
        assert!(!w.follows(&ann, &cat).await);
    }

    /// For a blocked pair: follow, follow request and repost of the blocker's post are
    /// rejected, and existing follows, requests and reposts are gone.
    pub async fn the_block_matrix(db: Db) {
        let w = world(db);
        let (alice, bert) = (w.private_user("alice").await, w.user("bert").await);
        let alice_post = w.post_by(&alice).await;
        let bert_post = w.post_by(&bert).await;
        // Before: bert follows alice (approved), alice follows bert, reposts both ways.
        w.social.follow(&bert, alice.user_id).await.unwrap();
        w.social
            .approve_request(&alice, bert.user_id)
            .await
            .unwrap();
        w.social.follow(&alice, bert.user_id).await.unwrap();
        assert!(w.content.repost(&bert, alice_post).await.unwrap());
        assert!(w.content.repost(&alice, bert_post).await.unwrap());
        w.social.unfollow(&bert, alice.user_id).await.unwrap();
        assert_eq!(
            w.social.follow(&bert, alice.user_id).await.unwrap(),
            FollowOutcome::Requested
        );

        w.social.block(&alice, bert.user_id).await.unwrap();
        // Content ends the reposts when `block.created` reaches its consumer; delivered
        // twice, as a log may redeliver, it ends them once.
        let blocked_pairs = BlockedPairs::new(w.content.clone());
        for _ in 0..2 {
            for event in outbox::store(&w.db).fetch_unpublished(1000).await.unwrap() {
                blocked_pairs.handle(&event).await.unwrap();
            }
        }
        let removed = outbox::store(&w.db)
            .fetch_unpublished(1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == "repost.removed")
            .count();
        assert_eq!(removed, 2, "one repost.removed per repost, both ways");

        assert!(
            !w.follows(&alice, &bert).await && !w.follows(&bert, &alice).await,
            "follows end both ways"
        );
        assert!(
            w.social.pending_requests(&alice).await.unwrap().is_empty(),
            "requests end"
        );
        assert!(
            !w.content.unrepost(&bert, alice_post).await.unwrap(),
            "reposts end"
        );
        for (viewer, target) in [(&bert, &alice), (&alice, &bert)] {
            assert!(
                !w.social
                    .can_interact(viewer.user_id, target.user_id)
                    .await
                    .unwrap()
            );
        }
        let missing = w.social.follow(&bert, UserId::new()).await.unwrap_err();
        same_answer(
            w.social.follow(&bert, alice.user_id).await.unwrap_err(),
            missing,
        );
        let missing_post = w.content.repost(&bert, PostId::new()).await.unwrap_err();
        same_answer(
            w.content.repost(&bert, alice_post).await.unwrap_err(),
            missing_post,
        );
        assert_eq!(
            w.social
                .follow(&alice, bert.user_id)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        assert_eq!(
            w.social
                .mute(&bert, alice.user_id, None, false)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        assert!(
            !w.social
                .can_view(Some(bert.user_id), alice.user_id)
                .await
                .unwrap()
        );

        w.social.unblock(&alice, bert.user_id).await.unwrap();
        assert!(
            w.social
                .can_interact(bert.user_id, alice.user_id)
                .await
                .unwrap()
        );
        assert_eq!(
            w.social.follow(&bert, alice.user_id).await.unwrap(),
            FollowOutcome::Requested
        );
    }

    /// A private account's lists answer non-approved viewers exactly like a missing user.
    pub async fn private_accounts_hide_their_lists(db: Db) {
        let w = world(db);
        let (priv_, fan, stranger, friend) = (
            w.private_user("priv").await,
            w.user("fan").await,
            w.user("stranger").await,
            w.user("friend").await,
        );
        w.social.follow(&priv_, friend.user_id).await.unwrap();
        w.social.follow(&fan, priv_.user_id).await.unwrap();
        w.social.approve_request(&priv_, fan.user_id).await.unwrap();
        let missing_id = UserId::new();
        for viewer in [Some(&stranger), None] {
            let missing = w
                .social
                .followers(viewer, missing_id, 10, None)
                .await
                .unwrap_err();
            same_answer(
                w.social
                    .followers(viewer, priv_.user_id, 10, None)
                    .await
                    .unwrap_err(),
                missing,
            );
            let missing = w
                .social
                .following(viewer, missing_id, 10, None)
                .await
                .unwrap_err();
            same_answer(
                w.social
                    .following(viewer, priv_.user_id, 10, None)
                    .await
                    .unwrap_err(),
                missing,
            );
            assert!(
                !w.social
                    .can_view(viewer.map(|v| v.user_id), priv_.user_id)
                    .await
                    .unwrap()
            );
        }
        // The owner and approved followers see them.
        assert_eq!(
            w.social
                .followers(Some(&priv_), priv_.user_id, 10, None)
                .await
                .unwrap()
                .items,
            [fan.user_id]
        );
        assert_eq!(
            w.social
                .following(Some(&fan), priv_.user_id, 10, None)
                .await
                .unwrap()
                .items,
            [friend.user_id]
        );
        assert!(
            w.social
                .can_view(Some(fan.user_id), priv_.user_id)
                .await
                .unwrap()
        );
        // Hidden lists are the owner's alone, even for a public account.
        w.users
            .update_settings(
                &friend,
                Settings {
                    hide_follow_lists: true,
                    ..Settings::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            w.social
                .followers(Some(&fan), friend.user_id, 10, None)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        assert_eq!(
            w.social
                .followers(Some(&friend), friend.user_id, 10, None)
                .await
                .unwrap()
                .items,
            [priv_.user_id]
        );
    }

    pub async fn subscribed_block_lists_count_as_blocks(db: Db) {
        let w = world(db);
        let (curator, troll, sub, other) = (
            w.user("curator").await,
            w.user("troll").await,
            w.user("sub").await,
            w.user("other").await,
        );
        let list = w
            .social
            .create_block_list(&curator, "Spam accounts", "known spammers")
            .await
            .unwrap();
        w.social
            .add_to_block_list(&curator, list.id, troll.user_id)
            .await
            .unwrap();
        assert_eq!(
            w.social
                .add_to_block_list(&other, list.id, sub.user_id)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        assert_eq!(
            w.social
                .create_block_list(&curator, " ", "")
                .await
                .unwrap_err()
                .field(),
            Some("name")
        );
        assert!(
            w.social
                .can_interact(troll.user_id, sub.user_id)
                .await
                .unwrap()
        );
        w.social.subscribe_block_list(&sub, list.id).await.unwrap();
        assert_eq!(
            w.social
                .can_interact_many(sub.user_id, &[troll.user_id, other.user_id])
                .await
                .unwrap(),
            [false, true]
        );
        assert!(
            !w.social
                .can_interact(troll.user_id, sub.user_id)
                .await
                .unwrap(),
            "both ways"
        );
        assert_eq!(
            w.social
                .follow(&troll, sub.user_id)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        w.social
            .unsubscribe_block_list(&sub, list.id)
            .await
            .unwrap();
        assert!(
            w.social
                .can_interact(troll.user_id, sub.user_id)
                .await
                .unwrap()
        );
        w.social.subscribe_block_list(&sub, list.id).await.unwrap();
        w.social
            .remove_from_block_list(&curator, list.id, troll.user_id)
            .await
            .unwrap();
        assert!(
            w.social
                .can_interact(troll.user_id, sub.user_id)
                .await
                .unwrap()
        );
    }

    pub async fn reposts_are_deduplicated_and_emit_events(db: Db) {
        let w = world(db.clone());
        let (author, fan) = (w.user("author").await, w.user("fan2").await);
        let post = w.post_by(&author).await;
        assert!(w.content.repost(&fan, post).await.unwrap());
        assert!(
            !w.content.repost(&fan, post).await.unwrap(),
            "one repost per user per post"
        );
        assert!(w.content.unrepost(&fan, post).await.unwrap());
        assert!(!w.content.unrepost(&fan, post).await.unwrap());
        let types: Vec<String> = outbox::store(&db)
            .fetch_unpublished(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .filter(|t| t.starts_with("repost."))
            .collect();
        assert_eq!(types, ["repost.created", "repost.removed"]);
    }
}

nova_testkit::db_conformance_suite!(suite:
    public_follows_private_requests,
    the_block_matrix,
    private_accounts_hide_their_lists,
    subscribed_block_lists_count_as_blocks,
    reposts_are_deduplicated_and_emit_events,
);
