//! Search over the real domains: the index fed from the outbox by the search consumer,
//! every page re-checked by content and social through nova-app's ports. The leak
//! matrix: nothing a viewer may not see is ever returned, by post search, user search
//! and autocomplete, or hashtag counts; index lag: edits and deletes show in the next
//! consumer cycle; pages stay full across invisible candidates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use nova_app::search::{DomainAccess, DomainCorpus};
use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience, Visibility};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, SystemClock, UserId};
use nova_db::Db;
use nova_events::{EventHandler, outbox};
use nova_graph::{GraphService, SqlGraphStore};
use nova_search::{SearchApi, SearchHit, SearchKind, SearchRequest, TantivyEngine};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_user::store::SqlUserStore;
use nova_user::{ProfileUpdate, UserApi, UserService};

/// Tokens are `t-<user id>` (JWT verification is tested in nova-identity).
struct TestAuth;

#[async_trait::async_trait]
impl nova_auth::Authenticator for TestAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let id = bearer
            .strip_prefix("t-")
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| nova_core::Error::from_kind(nova_core::ErrorKind::Unauthenticated))?;
        Ok(Principal::user(
            id,
            nova_core::SessionId::from(id.as_uuid()),
        ))
    }
}

struct World {
    db: Db,
    users: Arc<UserService>,
    social: Arc<SocialService>,
    content: Arc<ContentService>,
    search: Arc<dyn SearchApi>,
    consumer: Arc<dyn EventHandler>,
}

fn world(db: Db) -> World {
    let cursors = CursorCodec::new(b"search test key, long enough for hmac");
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
    let audience = Arc::new(SocialAudience::new(social.clone(), graph, users.clone()));
    let content = Arc::new(ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        audience,
        cursors.clone(),
    ));
    let access = DomainAccess::new(content.clone(), users.clone(), social.clone());
    let corpus = DomainCorpus::new(content.clone(), users.clone());
    let search = nova_search::setup::over(
        Arc::new(TantivyEngine::in_memory().unwrap()),
        Arc::new(access),
        Arc::new(corpus),
        cursors,
    );
    World {
        db,
        users,
        social,
        content,
        search: search.api,
        consumer: search.consumer,
    }
}

impl World {
    /// An account with a display name and bio, indexed.
    async fn user(&self, name: &str) -> Principal {
        let p = nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap();
        let update = ProfileUpdate {
            display_name: Some(format!("{name} Display")),
            bio: Some(format!("{name} writes about zebras")),
            ..ProfileUpdate::default()
        };
        self.users.update_profile(&p, update).await.unwrap();
        p
    }

    async fn post_as(&self, author: &Principal, text: &str, visibility: Visibility) -> PostId {
        let post = NewPost {
            text: text.into(),
            visibility,
            quotes_allowed: true,
            ..NewPost::default()
        };
        self.content.create_post(author, post).await.unwrap().id
    }

    async fn post(&self, author: &Principal, text: &str) -> PostId {
        self.post_as(author, text, Visibility::Public).await
    }

    /// One consumer cycle: every unpublished outbox event to the search consumer (twice:
    /// redeliveries must be harmless), then marked published.
    async fn deliver(&self) -> usize {
        let store = outbox::store(&self.db);
        let events = store.fetch_unpublished(10_000).await.unwrap();
        for e in &events {
            self.consumer.handle(e).await.unwrap();
            self.consumer.handle(e).await.unwrap();
        }
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        store
            .mark_published(&ids, chrono::Utc::now())
            .await
            .unwrap();
        events.len()
    }

    async fn page(
        &self,
        viewer: Option<&Principal>,
        query: &str,
        kind: SearchKind,
        first: u32,
        after: Option<String>,
    ) -> nova_core::Page<SearchHit> {
        let request = SearchRequest {
            query: query.into(),
            kind,
            first,
            after,
        };
        self.search.search(viewer, request).await.unwrap()
    }

    /// Every post id the viewer finds for `query`, following cursors to the end.
    async fn posts(&self, viewer: Option<&Principal>, query: &str) -> Vec<PostId> {
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let page = self
                .page(viewer, query, SearchKind::Posts, 100, after)
                .await;
            for hit in page.items {
                match hit {
                    SearchHit::Post(p) => out.push(p.id),
                    other => panic!("a post search returned {other:?}"),
                }
            }
            if !page.has_next_page {
                return out;
            }
            after = page.end_cursor;
        }
    }

    async fn users_found(&self, viewer: Option<&Principal>, query: &str) -> Vec<UserId> {
        let page = self.page(viewer, query, SearchKind::Users, 100, None).await;
        page.items
            .into_iter()
            .map(|h| match h {
                SearchHit::User(u) => u.id,
                other => panic!("a user search returned {other:?}"),
            })
            .collect()
    }

    async fn tags(&self, viewer: Option<&Principal>, prefix: &str) -> Vec<(String, u64)> {
        let page = self
            .page(viewer, prefix, SearchKind::Hashtags, 100, None)
            .await;
        page.items
            .into_iter()
            .map(|h| match h {
                SearchHit::Hashtag(t) => (t.name, t.usage_count),
                other => panic!("a hashtag search returned {other:?}"),
            })
            .collect()
    }
}

mod suite {
    use super::*;

    pub async fn nothing_invisible_is_ever_found(db: Db) {
        let w = world(db);
        let alice = w.user("alice").await;
        let bob = w.user("bob").await;
        let carol = w.user("carol").await;
        let dave = w.user("dave").await;
        let erin = w.user("erin").await;
        let frank = w.user("frank").await;
        let gina = w.user("gina").await;
        let hank = w.user("hank").await;
        let ivan = w.user("ivan").await;
        let olga = w.user("olga").await;

        // carol follows alice; erin is dave's approved follower; dave's account is private.
        w.social.follow(&carol, alice.user_id).await.unwrap();
        let mut settings = w.users.settings(&dave).await.unwrap();
        settings.private_account = true;
        w.users.update_settings(&dave, settings).await.unwrap();
        w.social.follow(&erin, dave.user_id).await.unwrap();
        w.social.approve_request(&dave, erin.user_id).await.unwrap();
        // frank blocks bob; bob blocks gina.
        w.social.block(&frank, bob.user_id).await.unwrap();
        w.social.block(&bob, gina.user_id).await.unwrap();
        // olga is not findable.
        let mut settings = w.users.settings(&olga).await.unwrap();
        settings.discoverable = false;
        w.users.update_settings(&olga, settings).await.unwrap();

        let public = w.post(&alice, "zebra crossing #zebrapublic").await;
        let followers = w
            .post_as(
                &alice,
                "zebra for followers #zebrafollowers",
                Visibility::Followers,
            )
            .await;
        let mentioned = w
            .post_as(
                &alice,
                "zebra secret for @carol #zebramention",
                Visibility::Mentioned,
            )
            .await;
        let private = w
            .post(&dave, "zebra from a private account #zebraprivate")
            .await;
        let by_blocker = w.post(&frank, "zebra by frank").await;
        let by_blocked = w.post(&gina, "zebra by gina").await;
        let by_deleted = w.post(&hank, "zebra by hank #zebradeleted").await;
        let deleted = w.post(&ivan, "zebra soon deleted #zebragone").await;
        w.deliver().await;
        w.users.delete_account(&hank, "leaving").await.unwrap();
        w.content.delete_post(&ivan, deleted).await.unwrap();
        w.deliver().await;

        let sorted = |mut v: Vec<PostId>| {
            v.sort();
            v
        };
        let expect = |ids: &[PostId]| sorted(ids.to_vec());
        // Anonymous: public posts of public, active accounts only.
        assert_eq!(
            sorted(w.posts(None, "zebra").await),
            expect(&[public, by_blocker, by_blocked])
        );
        // bob: no followers-only (not following), no mention, no private account, no
        // block either way.
        assert_eq!(
            sorted(w.posts(Some(&bob), "zebra").await),
            expect(&[public])
        );
        // carol follows alice and is mentioned.
        assert_eq!(
            sorted(w.posts(Some(&carol), "zebra").await),
            expect(&[public, followers, mentioned, by_blocker, by_blocked])
        );
        // erin follows the private account.
        assert!(w.posts(Some(&erin), "zebra").await.contains(&private));
        // The author sees their own.
        assert!(w.posts(Some(&dave), "zebra").await.contains(&private));
        // Operators cannot reach around the rules.
        assert!(w.posts(Some(&bob), "from:frank").await.is_empty());
        assert!(w.posts(None, "from:dave").await.is_empty());
        assert!(w.posts(Some(&carol), "from:hank").await.is_empty());
        assert!(w.posts(Some(&bob), "#zebramention").await.is_empty());
        for viewer in [None, Some(&bob), Some(&carol), Some(&ivan)] {
            let found = w.posts(viewer, "zebra").await;
            assert!(!found.contains(&by_deleted), "a deleted account's post");
            assert!(!found.contains(&deleted), "a deleted post");
        }

        // Hashtag counts come from public posts of public, active accounts only.
        for viewer in [None, Some(&bob), Some(&carol)] {
            assert_eq!(
                w.tags(viewer, "#zebra").await,
                vec![("zebrapublic".to_owned(), 1)],
                "hashtags as {viewer:?}"
            );
        }

        // Users: blocks either way, deleted accounts and opted-out accounts are not found,
        // by name or by prefix.
        assert_eq!(w.users_found(None, "frank").await, vec![frank.user_id]);
        assert!(w.users_found(Some(&bob), "frank").await.is_empty());
        assert!(w.users_found(Some(&bob), "fra").await.is_empty());
        assert!(w.users_found(Some(&bob), "gina").await.is_empty());
        assert!(w.users_found(Some(&gina), "bob").await.is_empty());
        assert!(w.users_found(None, "hank").await.is_empty());
        assert!(w.users_found(None, "han").await.is_empty());
        assert!(w.users_found(Some(&alice), "olga").await.is_empty());
        assert!(w.users_found(Some(&alice), "olg").await.is_empty());
        assert_eq!(
            w.users_found(Some(&alice), "caro").await,
            vec![carol.user_id]
        );
    }

    pub async fn edits_and_deletes_show_in_the_next_consumer_cycle(db: Db) {
        let w = world(db);
        let ada = w.user("ada").await;
        let id = w.post(&ada, "first words about quokkas").await;
        assert!(
            w.posts(None, "quokkas").await.is_empty(),
            "not before the consumer ran"
        );
        w.deliver().await;
        assert_eq!(w.posts(None, "quokkas").await, vec![id]);
        assert_eq!(w.posts(None, "quokas").await, vec![id], "a typo finds it");

        w.content
            .edit_post(&ada, id, "second words about wombats")
            .await
            .unwrap();
        w.deliver().await;
        assert!(
            w.posts(None, "quokkas").await.is_empty(),
            "the old text is gone"
        );
        assert_eq!(w.posts(None, "wombats").await, vec![id]);

        w.content.delete_post(&ada, id).await.unwrap();
        w.deliver().await;
        assert!(w.posts(None, "wombats").await.is_empty());
        assert!(w.posts(Some(&ada), "wombats").await.is_empty());

        // A deactivated account leaves the index with its posts and comes back with them.
        let kept = w.post(&ada, "wombats return").await;
        w.deliver().await;
        w.users.deactivate(&ada).await.unwrap();
        w.deliver().await;
        assert!(w.posts(None, "wombats").await.is_empty());
        assert!(w.users_found(None, "ada").await.is_empty());
        w.users.reactivate(&ada).await.unwrap();
        w.deliver().await;
        assert_eq!(w.posts(None, "wombats").await, vec![kept]);
        assert_eq!(w.users_found(None, "ada").await, vec![ada.user_id]);
    }

    pub async fn the_grpc_client_finds_what_the_service_finds(db: Db) {
        use nova_search::grpc::{SearchGrpcClient, SearchGrpcServer};
        let w = world(db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_lazy();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(
                    SearchGrpcServer::new(w.search.clone(), Arc::new(TestAuth)).into_service(),
                )
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let client = SearchGrpcClient::from_channel(channel);
        let alice = w.user("alice").await;
        let bob = w.user("bob").await;
        let public = w.post(&alice, "gRPC carries narwhals #narwhal").await;
        let followers = w
            .post_as(&alice, "narwhals for followers", Visibility::Followers)
            .await;
        w.social.follow(&bob, alice.user_id).await.unwrap();
        w.deliver().await;
        let ask = |kind, q: &str, after: Option<String>| SearchRequest {
            query: q.into(),
            kind,
            first: 1,
            after,
        };
        // Anonymous over the wire: the public post only, highlighted, paged by cursor.
        let remote = client
            .search(None, ask(SearchKind::Posts, "narwhals", None))
            .await
            .unwrap();
        let local = w
            .search
            .search(None, ask(SearchKind::Posts, "narwhals", None))
            .await
            .unwrap();
        // The recency boost depends on the moment of the query: scores differ by a hair.
        let unscored = |mut page: nova_core::Page<SearchHit>| {
            for hit in &mut page.items {
                if let SearchHit::Post(p) = hit {
                    p.score = 0.0;
                }
            }
            page
        };
        assert_eq!(unscored(remote.clone()), unscored(local));
        assert!(
            matches!(&remote.items[..], [SearchHit::Post(p)] if p.id == public && p.highlight.contains("<b>narwhals</b>"))
        );
        // Bob's token: he follows alice, so both posts over two pages.
        let as_bob = client.with_token(format!("t-{}", bob.user_id));
        // The principal the token stands for (its session id is the user id).
        let bob = Principal::user(
            bob.user_id,
            nova_core::SessionId::from(bob.user_id.as_uuid()),
        );
        let first = as_bob
            .search(Some(&bob), ask(SearchKind::Posts, "narwhals", None))
            .await
            .unwrap();
        assert!(first.has_next_page);
        let second = as_bob
            .search(
                Some(&bob),
                ask(SearchKind::Posts, "narwhals", first.end_cursor.clone()),
            )
            .await
            .unwrap();
        let mut seen: Vec<PostId> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|h| match h {
                SearchHit::Post(p) => p.id,
                other => panic!("{other:?}"),
            })
            .collect();
        seen.sort();
        let mut both = vec![public, followers];
        both.sort();
        assert_eq!(seen, both);
        // Users and hashtags travel too; a bad type is InvalidArgument naming `type`.
        let users = client
            .search(None, ask(SearchKind::Users, "ali", None))
            .await
            .unwrap();
        assert!(matches!(&users.items[..], [SearchHit::User(u)] if u.id == alice.user_id));
        let tags = client
            .search(None, ask(SearchKind::Hashtags, "narw", None))
            .await
            .unwrap();
        assert!(
            matches!(&tags.items[..], [SearchHit::Hashtag(t)] if t.name == "narwhal" && t.usage_count == 1)
        );
        let mut raw = nova_proto::nova::search::v1::search_service_client::SearchServiceClient::new(
            tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect_lazy(),
        );
        let bad = nova_proto::nova::search::v1::SearchRequest {
            query: "x".into(),
            r#type: "groups".into(),
            ..Default::default()
        };
        let err = raw.search(bad).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().starts_with("type:"), "{}", err.message());
    }

    pub async fn pages_stay_full_past_invisible_candidates(db: Db) {
        let w = world(db);
        let gina = w.user("gina").await;
        let frank = w.user("frank").await;
        let bob = w.user("bob").await;
        w.social.block(&frank, bob.user_id).await.unwrap();
        let mut visible = Vec::new();
        for i in 0..3 {
            visible.push(w.post(&gina, &format!("yak number {i}")).await);
        }
        // Newer, so ranked first, and all invisible to bob.
        for i in 0..45 {
            w.post(&frank, &format!("yak number {i}")).await;
        }
        w.deliver().await;
        let first = w.page(Some(&bob), "yak", SearchKind::Posts, 2, None).await;
        assert_eq!(
            first.items.len(),
            2,
            "a full page past 45 invisible candidates"
        );
        assert!(first.has_next_page);
        let second = w
            .page(
                Some(&bob),
                "yak",
                SearchKind::Posts,
                2,
                first.end_cursor.clone(),
            )
            .await;
        assert_eq!(second.items.len(), 1);
        assert!(!second.has_next_page);
        let mut seen: Vec<PostId> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|h| match h {
                SearchHit::Post(p) => p.id,
                other => panic!("{other:?}"),
            })
            .collect();
        seen.sort();
        visible.sort();
        assert_eq!(seen, visible);
        // Anonymous viewers see all 48 over pages of 20.
        assert_eq!(w.posts(None, "yak").await.len(), 48);
    }
}

nova_testkit::db_conformance_suite!(suite:
    the_grpc_client_finds_what_the_service_finds,
    nothing_invisible_is_ever_found,
    edits_and_deletes_show_in_the_next_consumer_cycle,
    pages_stay_full_past_invisible_candidates,
);
