//! nova-content on SQLite and PostgreSQL: facets, visibility (BOLA), the block matrix,
//! reply/quote controls, likes under concurrency, edits, tombstones, idempotency, paging.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use nova_content::facets::FacetKind;
use nova_content::store::{SqlContentStore, TimelineKind};
use nova_content::{
    Attachments, ContentApi, ContentConfig, ContentService, MediaAttachment, NewPost, ReplyPolicy,
    SocialAudience, Visibility,
};
use nova_core::cursor::CursorCodec;
use nova_core::{Error, ErrorKind, MediaId, PostId, Principal, SystemClock, UserId};
use nova_db::Db;
use nova_events::outbox;
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_user::store::SqlUserStore;
use nova_user::{Settings, UserApi, UserService};

struct World {
    content: Arc<ContentService>,
    social: Arc<SocialService>,
    users: Arc<UserService>,
    db: Db,
}

fn world_with(db: Db, config: ContentConfig) -> World {
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
    let audience = Arc::new(SocialAudience::new(social.clone(), graph, users.clone()));
    let content = Arc::new(
        ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            audience,
            cursors,
        )
        .with_config(config),
    );
    World {
        content,
        social,
        users,
        db,
    }
}

fn world(db: Db) -> World {
    world_with(db, ContentConfig::default())
}

impl World {
    async fn user(&self, name: &str) -> Principal {
        nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
    }

    async fn post(&self, author: &Principal, text: &str) -> PostId {
        self.content
            .create_post(
                author,
                NewPost {
                    text: text.into(),
                    quotes_allowed: true,
                    ..NewPost::default()
                },
            )
            .await
            .unwrap()
            .id
    }

    async fn post_with(&self, author: &Principal, new: NewPost) -> PostId {
        self.content.create_post(author, new).await.unwrap().id
    }
}

/// A media domain in miniature: who uploaded what, and which post claimed it.
#[derive(Default)]
struct Uploads {
    owned: std::sync::Mutex<std::collections::HashMap<MediaId, (UserId, Option<PostId>)>>,
    calls: std::sync::atomic::AtomicUsize,
}

impl Uploads {
    fn upload(&self, owner: UserId) -> MediaId {
        let id = MediaId::new();
        self.owned.lock().unwrap().insert(id, (owner, None));
        id
    }
    fn claimed(&self, id: MediaId) -> Option<PostId> {
        self.owned.lock().unwrap().get(&id).and_then(|(_, p)| *p)
    }
    fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Attachments for Uploads {
    async fn attach(
        &self,
        author: UserId,
        post: PostId,
        media: &[MediaId],
    ) -> nova_core::Result<()> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut owned = self.owned.lock().unwrap();
        let usable = media.iter().all(|id| {
            owned
                .get(id)
                .is_some_and(|(owner, used)| *owner == author && used.is_none_or(|p| p == post))
        });
        if !usable {
            return Err(Error::invalid("media_ids", "not the author's"));
        }
        for id in media {
            owned.insert(*id, (author, Some(post)));
        }
        Ok(())
    }
}

fn same(a: Error, b: Error) {
    assert_eq!(
        (a.kind(), a.message(), a.field()),
        (b.kind(), b.message(), b.field())
    );
}

fn text(t: &str) -> NewPost {
    NewPost {
        text: t.into(),
        quotes_allowed: true,
        ..NewPost::default()
    }
}

mod suite {
    use super::*;

    pub async fn posts_carry_facets_and_events(db: Db) {
        let w = world(db.clone());
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let post = w
            .content
            .create_post(
                &ann,
                text("Hi @bob and @nobody_here #Nova #nova https://nova.example"),
            )
            .await
            .unwrap();
        let mentions: Vec<_> = post
            .facets
            .iter()
            .filter_map(|f| match &f.kind {
                FacetKind::Mention { user_id, .. } => Some(*user_id),
                _ => None,
            })
            .collect();
        assert_eq!(mentions, [Some(bob.user_id), None]);
        let events = outbox::store(&db).fetch_unpublished(100).await.unwrap();
        let created = events
            .iter()
            .find(|e| e.event_type == "post.created")
            .unwrap();
        let payload: nova_proto::nova::content::v1::PostCreated =
            prost::Message::decode(created.payload.as_slice()).unwrap();
        assert_eq!(payload.hashtags, ["nova"]);
        assert_eq!(payload.mention_ids, [bob.user_id.to_string()]);
        // A repost says how public the post is (trending counts only public ones).
        assert!(w.content.repost(&bob, post.id).await.unwrap());
        let events = outbox::store(&db).fetch_unpublished(100).await.unwrap();
        let repost = events
            .iter()
            .find(|e| e.event_type == "repost.created")
            .unwrap();
        let payload: nova_proto::nova::social::v1::RepostChanged =
            prost::Message::decode(repost.payload.as_slice()).unwrap();
        assert_eq!(
            (payload.user_id, payload.visibility),
            (bob.user_id.to_string(), "public".to_owned())
        );
        for (bad, field) in [
            (text(&"x".repeat(501)), "text"),
            (text("   "), "text"),
            (
                NewPost {
                    language: Some("not a tag!".into()),
                    ..text("hi")
                },
                "language",
            ),
            (
                NewPost {
                    reply_to: Some(PostId::new()),
                    ..text("hi")
                },
                "reply_to",
            ),
        ] {
            assert_eq!(
                w.content.create_post(&ann, bad).await.unwrap_err().field(),
                Some(field)
            );
        }
        // 500 graphemes of emoji are fine although they are many more bytes.
        w.content
            .create_post(&ann, text(&"🏳️‍🌈".repeat(500)))
            .await
            .unwrap();
    }

    /// For every read, a post the viewer may not see answers exactly like a missing one.
    pub async fn forbidden_and_missing_posts_look_the_same(db: Db) {
        let w = world(db);
        let (author, follower, stranger, blocked) = (
            w.user("author").await,
            w.user("follower").await,
            w.user("stranger").await,
            w.user("blocked").await,
        );
        w.social.follow(&follower, author.user_id).await.unwrap();
        let followers_only = w
            .post_with(
                &author,
                NewPost {
                    visibility: Visibility::Followers,
                    ..text("for followers")
                },
            )
            .await;
        let mentioned_only = w
            .post_with(
                &author,
                NewPost {
                    visibility: Visibility::Mentioned,
                    ..text("psst @follower")
                },
            )
            .await;
        let public = w.post(&author, "hello world").await;
        w.social.block(&author, blocked.user_id).await.unwrap();
        let missing = PostId::new();
        let cases = [
            (&stranger, followers_only),
            (&stranger, mentioned_only),
            (&blocked, public),
        ];
        for (viewer, hidden) in cases {
            same(
                w.content.post(Some(viewer), hidden).await.unwrap_err(),
                w.content.post(Some(viewer), missing).await.unwrap_err(),
            );
            same(
                w.content.like(viewer, hidden).await.unwrap_err(),
                w.content.like(viewer, missing).await.unwrap_err(),
            );
            same(
                w.content.bookmark(viewer, hidden).await.unwrap_err(),
                w.content.bookmark(viewer, missing).await.unwrap_err(),
            );
            same(
                w.content
                    .edit_history(Some(viewer), hidden)
                    .await
                    .unwrap_err(),
                w.content
                    .edit_history(Some(viewer), missing)
                    .await
                    .unwrap_err(),
            );
            same(
                w.content
                    .thread(Some(viewer), hidden, 10, None)
                    .await
                    .unwrap_err(),
                w.content
                    .thread(Some(viewer), missing, 10, None)
                    .await
                    .unwrap_err(),
            );
            assert!(
                w.content
                    .posts(Some(viewer), &[hidden, missing])
                    .await
                    .unwrap()
                    .is_empty()
            );
            let reply = |to| NewPost {
                reply_to: Some(to),
                ..text("reply")
            };
            same(
                w.content
                    .create_post(viewer, reply(hidden))
                    .await
                    .unwrap_err(),
                w.content
                    .create_post(viewer, reply(missing))
                    .await
                    .unwrap_err(),
            );
        }
        // The right viewers do see them.
        assert_eq!(
            w.content
                .post(Some(&follower), followers_only)
                .await
                .unwrap()
                .id,
            followers_only
        );
        assert_eq!(
            w.content
                .post(Some(&follower), mentioned_only)
                .await
                .unwrap()
                .id,
            mentioned_only
        );
        assert!(w.content.post(None, followers_only).await.is_err());
        assert_eq!(w.content.post(None, public).await.unwrap().id, public);
        // Timelines filter the same way: the stranger sees only the public post.
        let seen: Vec<PostId> = w
            .content
            .author_timeline(
                Some(&stranger),
                author.user_id,
                TimelineKind::Posts,
                10,
                None,
            )
            .await
            .unwrap()
            .items
            .iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(seen, [public]);
        let err = w
            .content
            .author_timeline(
                Some(&blocked),
                author.user_id,
                TimelineKind::Posts,
                10,
                None,
            )
            .await
            .unwrap_err();
        same(
            err,
            w.content
                .author_timeline(Some(&blocked), UserId::new(), TimelineKind::Posts, 10, None)
                .await
                .unwrap_err(),
        );
        // A private author's posts exist only for approved followers.
        let private = w.user("private").await;
        w.users
            .update_settings(
                &private,
                Settings {
                    private_account: true,
                    ..Settings::default()
                },
            )
            .await
            .unwrap();
        let secret = w.post(&private, "members only").await;
        same(
            w.content.post(Some(&stranger), secret).await.unwrap_err(),
            w.content.post(Some(&stranger), missing).await.unwrap_err(),
        );
    }

    /// A blocked user cannot reply, quote, like or mention the blocker.
    pub async fn the_block_matrix(db: Db) {
        let w = world(db);
        let (blocker, blocked) = (w.user("blocker").await, w.user("blockee").await);
        let post = w.post(&blocker, "my post").await;
        let theirs = w.post(&blocked, "their post").await;
        w.social.block(&blocker, blocked.user_id).await.unwrap();
        assert!(
            w.content
                .create_post(
                    &blocked,
                    NewPost {
                        reply_to: Some(post),
                        ..text("reply")
                    }
                )
                .await
                .is_err()
        );
        assert!(
            w.content
                .create_post(
                    &blocked,
                    NewPost {
                        quote_of: Some(post),
                        ..text("quote")
                    }
                )
                .await
                .is_err()
        );
        assert_eq!(
            w.content.like(&blocked, post).await.unwrap_err().kind(),
            &ErrorKind::NotFound
        );
        // Mentions of the blocker stay unresolved: no link, no notification, no access.
        let mention = w
            .content
            .create_post(&blocked, text("hey @blocker"))
            .await
            .unwrap();
        assert!(mention.facets.iter().all(|f| !matches!(
            f.kind,
            FacetKind::Mention {
                user_id: Some(_),
                ..
            }
        )));
        // And the other way round.
        assert!(
            w.content
                .create_post(
                    &blocker,
                    NewPost {
                        reply_to: Some(theirs),
                        ..text("reply")
                    }
                )
                .await
                .is_err()
        );
        assert_eq!(
            w.content.like(&blocker, theirs).await.unwrap_err().kind(),
            &ErrorKind::NotFound
        );
    }

    pub async fn reply_and_quote_controls_and_depth(db: Db) {
        let w = world_with(
            db,
            ContentConfig {
                max_depth: 3,
                ..ContentConfig::default()
            },
        );
        let (op, friend, other) = (
            w.user("op").await,
            w.user("friend").await,
            w.user("other").await,
        );
        w.social.follow(&op, friend.user_id).await.unwrap();
        let only_following = w
            .post_with(
                &op,
                NewPost {
                    reply_policy: ReplyPolicy::Following,
                    ..text("friends reply")
                },
            )
            .await;
        let nobody = w
            .post_with(
                &op,
                NewPost {
                    reply_policy: ReplyPolicy::Nobody,
                    quotes_allowed: false,
                    ..text("no replies")
                },
            )
            .await;
        let reply = |to| NewPost {
            reply_to: Some(to),
            ..text("reply")
        };
        w.content
            .create_post(&friend, reply(only_following))
            .await
            .unwrap();
        assert_eq!(
            w.content
                .create_post(&other, reply(only_following))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        assert_eq!(
            w.content
                .create_post(&friend, reply(nobody))
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        w.content.create_post(&op, reply(nobody)).await.unwrap();
        assert_eq!(
            w.content
                .create_post(
                    &other,
                    NewPost {
                        quote_of: Some(nobody),
                        ..text("q")
                    }
                )
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        let quoted = w.post(&op, "quote me").await;
        w.content
            .create_post(
                &other,
                NewPost {
                    quote_of: Some(quoted),
                    ..text("quoting")
                },
            )
            .await
            .unwrap();
        assert_eq!(w.content.post(None, quoted).await.unwrap().quote_count, 1);
        // Depth limit.
        let mut parent = w.post(&op, "root").await;
        for _ in 0..3 {
            parent = w.content.create_post(&op, reply(parent)).await.unwrap().id;
        }
        assert_eq!(
            w.content
                .create_post(&op, reply(parent))
                .await
                .unwrap_err()
                .field(),
            Some("reply_to")
        );
    }

    pub async fn concurrent_likes_keep_exact_counts(db: Db) {
        let w = world(db);
        let author = w.user("liked").await;
        let post = w.post(&author, "like me").await;
        let mut fans = Vec::new();
        for i in 0..20 {
            fans.push(w.user(&format!("fan{i}")).await);
        }
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let (content, fan) = (w.content.clone(), fans[i % fans.len()].clone());
                tokio::spawn(async move {
                    if i % 3 == 0 {
                        content.unlike(&fan, post).await.unwrap();
                    } else {
                        content.like(&fan, post).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let stored = w.content.post(None, post).await.unwrap().like_count;
        let rows = nova_content::store::ContentStore::count_like_rows(
            &SqlContentStore::new(w.db.clone()),
            post,
        )
        .await
        .unwrap();
        assert_eq!(stored, rows);
        assert!(w.content.like(&author, post).await.unwrap());
        assert!(
            !w.content.like(&author, post).await.unwrap(),
            "liking twice is one like"
        );
    }

    pub async fn edits_keep_history_and_deletes_leave_tombstones(db: Db) {
        let w = world(db);
        let (op, replier, other) = (
            w.user("editor").await,
            w.user("replier").await,
            w.user("other2").await,
        );
        let root = w.post(&op, "first version #old").await;
        let reply = w
            .content
            .create_post(
                &replier,
                NewPost {
                    reply_to: Some(root),
                    ..text("a reply")
                },
            )
            .await
            .unwrap()
            .id;
        let edited = w
            .content
            .edit_post(&op, root, "second version #new")
            .await
            .unwrap();
        assert!(edited.edited_at.is_some());
        let history = w.content.edit_history(Some(&other), root).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|e| e.previous_text.as_str())
                .collect::<Vec<_>>(),
            ["first version #old"]
        );
        assert_eq!(
            w.content
                .edit_post(&other, root, "hijack")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        assert_eq!(
            w.content
                .delete_post(&other, reply)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        w.content.delete_post(&replier, reply).await.unwrap();
        let thread = w
            .content
            .thread(Some(&other), root, 10, None)
            .await
            .unwrap();
        assert_eq!(thread.items.len(), 1, "the tombstone keeps its place");
        assert!(thread.items[0].deleted && thread.items[0].text.is_empty());
        assert_eq!(
            w.content
                .post(Some(&other), reply)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
    }

    pub async fn tombstones_of_private_replies_say_nothing_about_them(db: Db) {
        let w = world(db);
        let (op, secret, stranger) = (
            w.user("tomb_op").await,
            w.user("tomb_secret").await,
            w.user("tomb_stranger").await,
        );
        let root = w.post(&op, "public root").await;
        let reply = w
            .post_with(
                &secret,
                NewPost {
                    reply_to: Some(root),
                    visibility: Visibility::Followers,
                    ..text("for my followers only #hidden")
                },
            )
            .await;
        w.content.delete_post(&secret, reply).await.unwrap();
        for viewer in [None, Some(&stranger), Some(&op), Some(&secret)] {
            let thread = w.content.thread(viewer, root, 10, None).await.unwrap();
            assert_eq!(thread.items.len(), 1, "the tombstone keeps its place");
            let tomb = &thread.items[0];
            assert!(tomb.deleted);
            assert_eq!((tomb.id, tomb.reply_to), (reply, Some(root)));
            assert_ne!(tomb.author_id, secret.user_id, "the author is not shown");
            assert_eq!(tomb.visibility, Visibility::Public, "nor its audience");
            assert!(tomb.text.is_empty() && tomb.facets.is_empty());
            assert_eq!((tomb.like_count, tomb.quote_count), (0, 0));
        }
    }

    pub async fn idempotency_keys_create_once(db: Db) {
        let w = world(db);
        let ann = w.user("idem").await;
        let new = NewPost {
            idempotency_key: Some("k-1".into()),
            ..text("once")
        };
        let a = w.content.create_post(&ann, new.clone()).await.unwrap();
        let b = w.content.create_post(&ann, new.clone()).await.unwrap();
        assert_eq!(a.id, b.id);
        let other_body = NewPost {
            text: "different".into(),
            ..new
        };
        assert_eq!(
            w.content
                .create_post(&ann, other_body)
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );
    }

    /// A post's media go through the [`Attachments`] port: the author's own uploads are
    /// claimed for the post; anyone else's are refused on `media` and nothing is stored;
    /// a retry with the same idempotency key does not claim again.
    pub async fn media_are_claimed_for_their_post(db: Db) {
        let uploads = Arc::new(Uploads::default());
        let mut w = world(db);
        w.content = Arc::new(
            Arc::try_unwrap(w.content)
                .ok()
                .unwrap()
                .with_attachments(uploads.clone()),
        );
        let (ann, bob) = (w.user("pix_ann").await, w.user("pix_bob").await);
        let picture = uploads.upload(ann.user_id);
        let with = |key: &str| NewPost {
            media: vec![MediaAttachment {
                media_id: picture,
                alt_text: "a picture".into(),
            }],
            idempotency_key: Some(key.into()),
            ..text("look")
        };
        let refused = w.content.create_post(&bob, with("b-1")).await.unwrap_err();
        assert_eq!(refused.field(), Some("media"), "{refused}");
        let page = w
            .content
            .author_timeline(Some(&bob), bob.user_id, TimelineKind::Posts, 10, None)
            .await
            .unwrap();
        assert!(page.items.is_empty(), "a refused post is not stored");

        let post = w.content.create_post(&ann, with("a-1")).await.unwrap();
        assert_eq!(post.media[0].media_id, picture);
        assert_eq!(uploads.claimed(picture), Some(post.id));
        let calls = uploads.calls();
        let again = w.content.create_post(&ann, with("a-1")).await.unwrap();
        assert_eq!(again.id, post.id);
        assert_eq!(
            uploads.calls(),
            calls,
            "a retry is answered without claiming"
        );
        // Used by one post, not by another.
        let twice = w.content.create_post(&ann, with("a-2")).await.unwrap_err();
        assert_eq!(twice.field(), Some("media"));
    }

    /// Posts created at once share write transactions (group commit), yet each caller
    /// gets its own answer: one bad post in a batch fails alone, and every post that
    /// was acknowledged is stored with its `post.created` event.
    pub async fn concurrent_creations_commit_together_and_fail_alone(db: Db) {
        let w = world(db.clone());
        let ann = w.user("batch").await;
        let ghost = Principal::user(UserId::new(), nova_core::SessionId::new());
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let content = w.content.clone();
                let author = if i == 30 { ghost.clone() } else { ann.clone() };
                let new = NewPost {
                    idempotency_key: (i % 20 == 0).then(|| "same-key".to_owned()),
                    ..text(&format!("post {i} #batch"))
                };
                tokio::spawn(async move { (i, content.create_post(&author, new).await) })
            })
            .collect();
        let mut created = Vec::new();
        let (mut keyed, mut conflicts) = (Vec::new(), 0);
        for t in tasks {
            let (i, result) = t.await.unwrap();
            match (i, result) {
                (30, result) => assert!(result.is_err(), "an author without an account"),
                (i, Ok(post)) if i % 20 == 0 => keyed.push(post.id),
                (i, Err(e)) if i % 20 == 0 => {
                    assert_eq!(e.kind(), &ErrorKind::Conflict, "{e:?}");
                    conflicts += 1;
                }
                (_, result) => created.push(result.unwrap().id),
            }
        }
        // Three bodies under one key: one post, the other two conflict.
        assert_eq!((keyed.len(), conflicts), (1, 2));
        created.extend(keyed);
        assert_eq!(
            created.len(),
            60 - 1 - 2,
            "all but the ghost's and the two conflicts"
        );
        let stored = w.content.posts(None, &created).await.unwrap();
        assert_eq!(stored.len(), created.len());
        let events = outbox::store(&db).fetch_unpublished(1000).await.unwrap();
        let mut announced: Vec<String> = events
            .iter()
            .filter(|e| e.event_type == "post.created")
            .map(|e| e.aggregate_id.clone())
            .collect();
        announced.sort();
        let mut expected: Vec<String> = created.iter().map(ToString::to_string).collect();
        expected.sort();
        assert_eq!(
            announced, expected,
            "one event per stored post, none for failures"
        );
    }

    /// Paging an author's timeline while they keep posting: no duplicates, no gaps.
    pub async fn pages_have_no_gaps_or_duplicates_while_posts_arrive(db: Db) {
        let w = world(db);
        let author = w.user("prolific").await;
        let mut expected = Vec::new();
        for i in 0..25 {
            expected.push(w.post(&author, &format!("post {i}")).await);
        }
        expected.reverse();
        for page_size in [1u32, 4, 7] {
            let (mut seen, mut after) = (Vec::new(), None::<String>);
            loop {
                let page = w
                    .content
                    .author_timeline(
                        None,
                        author.user_id,
                        TimelineKind::Posts,
                        page_size,
                        after.as_deref(),
                    )
                    .await
                    .unwrap();
                seen.extend(page.items.iter().map(|p| p.id));
                // New posts arrive between pages; they are newer than the cursor.
                w.post(&author, "interleaved").await;
                if !page.has_next_page {
                    break;
                }
                after = page.end_cursor;
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                seen.len(),
                "no duplicates (page size {page_size})"
            );
            let older: Vec<PostId> = seen
                .iter()
                .copied()
                .filter(|id| expected.contains(id))
                .collect();
            assert_eq!(older, expected, "no gaps (page size {page_size})");
            expected = seen; // the next pass starts from everything that existed
        }
        assert_eq!(
            w.content
                .author_timeline(None, author.user_id, TimelineKind::Posts, 5, Some("forged"))
                .await
                .unwrap_err()
                .field(),
            Some("cursor")
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    posts_carry_facets_and_events,
    forbidden_and_missing_posts_look_the_same,
    the_block_matrix,
    reply_and_quote_controls_and_depth,
    concurrent_likes_keep_exact_counts,
    edits_keep_history_and_deletes_leave_tombstones,
    tombstones_of_private_replies_say_nothing_about_them,
    idempotency_keys_create_once,
    media_are_claimed_for_their_post,
    concurrent_creations_commit_together_and_fail_alone,
    pages_have_no_gaps_or_duplicates_while_posts_arrive,
);
