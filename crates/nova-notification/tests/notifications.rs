//! nova-notification on SQLite and PostgreSQL, fed by the real content, social and graph
//! services' outbox events: grouping, exactly-once replays, undo, who may notify whom,
//! the requests folder, read markers, unread counts, pages and the live stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use common::world;
use nova_db::Db;

mod suite {
    use super::*;
    use std::time::Duration as StdDuration;

    use chrono::{Duration, TimeZone, Utc};
    use futures::StreamExt;
    use nova_content::{ContentApi, NewPost};
    use nova_core::{ErrorKind, Principal, UserId};
    use nova_events::EventEnvelope;
    use nova_notification::{
        Folder, MarkRead, Notification, NotificationApi, NotificationId, NotificationKind, Policy,
    };
    use nova_proto::nova::content::v1 as content;
    use nova_social::SocialApi;
    use prost::Message;

    async fn inbox(w: &common::World, p: &Principal) -> Vec<Notification> {
        w.notifications
            .list(p, Folder::Inbox, 100, None)
            .await
            .unwrap()
            .items
    }

    async fn unread(w: &common::World, p: &Principal) -> u64 {
        w.notifications
            .unread_count(p, Folder::Inbox)
            .await
            .unwrap()
    }

    fn kinds(items: &[Notification]) -> Vec<(NotificationKind, u64)> {
        items.iter().map(|n| (n.kind, n.count)).collect()
    }

    /// 1,000 accounts like one post; the log is delivered (each event twice) and then
    /// replayed whole, twice: one group of 1,000. An unlike takes one out.
    pub async fn likes_group_once_whatever_the_replays(db: Db) {
        let w = world(db);
        let author = w.user("author").await;
        let post = w.post(&author, "like me").await;
        let mut fans = Vec::new();
        for i in 0..1000 {
            let fan = w.user(&format!("fan{i:04}")).await;
            w.content.like(&fan, post).await.unwrap();
            fans.push(fan);
        }
        let log = w.deliver().await;
        for _ in 0..2 {
            for chunk in log.chunks(250) {
                w.notifications.ingest(chunk).await.unwrap();
            }
        }
        let items = inbox(&w, &author).await;
        assert_eq!(kinds(&items), [(NotificationKind::Like, 1000)]);
        let group = &items[0];
        assert_eq!(group.target_id.as_deref(), Some(post.to_string().as_str()));
        assert!(group.unread);
        // The latest three, newest first.
        let latest: Vec<UserId> = group.actors.iter().map(|a| a.user_id).collect();
        let expected: Vec<UserId> = fans.iter().rev().take(3).map(|f| f.user_id).collect();
        assert_eq!(latest, expected);
        assert_eq!(unread(&w, &author).await, 1);

        w.content.unlike(&fans[0], post).await.unwrap();
        let undo = w.deliver().await;
        w.notifications.ingest(&undo).await.unwrap();
        w.notifications.ingest(&log).await.unwrap();
        assert_eq!(
            kinds(&inbox(&w, &author).await),
            [(NotificationKind::Like, 999)]
        );
        assert_eq!(unread(&w, &author).await, 1);
    }

    /// Reply, quote, mention, follows (grouped) and follow requests, each for the right
    /// recipient, with the actor's own post as subject.
    pub async fn every_source_notifies_its_recipient(db: Db) {
        let w = world(db);
        let (ann, bob, cat) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("cat").await,
        );
        let post = w.post(&ann, "hello").await;
        let reply = w
            .create(
                &bob,
                NewPost {
                    text: "hi @ann and @cat".into(),
                    reply_to: Some(post),
                    ..NewPost::default()
                },
            )
            .await;
        let quote = w
            .create(
                &cat,
                NewPost {
                    text: "look".into(),
                    quote_of: Some(post),
                    ..NewPost::default()
                },
            )
            .await;
        w.social.follow(&bob, ann.user_id).await.unwrap();
        w.social.follow(&cat, ann.user_id).await.unwrap();
        w.content.repost(&bob, post).await.unwrap();
        w.deliver().await;

        let items = inbox(&w, &ann).await;
        let mut got = kinds(&items);
        got.sort_by_key(|(k, _)| k.as_str());
        // The reply mentions ann too: the reply says it once.
        assert_eq!(
            got,
            [
                (NotificationKind::Follow, 2),
                (NotificationKind::Quote, 1),
                (NotificationKind::Reply, 1),
                (NotificationKind::Repost, 1),
            ]
        );
        let find = |k| items.iter().find(|n| n.kind == k).unwrap();
        let r = find(NotificationKind::Reply);
        assert_eq!(r.target_id, Some(post.to_string()));
        assert_eq!(r.actors[0].user_id, bob.user_id);
        assert_eq!(r.actors[0].subject_id, Some(reply.to_string()));
        assert_eq!(
            find(NotificationKind::Quote).actors[0].subject_id,
            Some(quote.to_string())
        );
        assert_eq!(find(NotificationKind::Follow).target_id, None);
        assert_eq!(unread(&w, &ann).await, 4);

        let for_cat = inbox(&w, &cat).await;
        assert_eq!(kinds(&for_cat), [(NotificationKind::Mention, 1)]);
        assert_eq!(for_cat[0].target_id, Some(reply.to_string()));
        // Bob hears nothing of his own actions.
        assert!(inbox(&w, &bob).await.is_empty());

        // A private account gets a request; withdrawing it takes it back.
        w.make_private(&cat).await;
        let dan = w.user("dan").await;
        w.social.follow(&dan, cat.user_id).await.unwrap();
        w.deliver().await;
        let got = kinds(&inbox(&w, &cat).await);
        assert_eq!(got[0], (NotificationKind::FollowRequest, 1));
        w.social.unfollow(&dan, cat.user_id).await.unwrap();
        w.deliver().await;
        assert_eq!(
            kinds(&inbox(&w, &cat).await),
            [(NotificationKind::Mention, 1)]
        );
    }

    /// Unfollow, unrepost and deleted posts take actors out; empty groups go, and the
    /// unread count follows.
    pub async fn undoing_removes_actors_and_empty_groups(db: Db) {
        let w = world(db);
        let (ann, bob, cat) = (
            w.user("ann").await,
            w.user("bob").await,
            w.user("cat").await,
        );
        let post = w.post(&ann, "hello").await;
        let other = w.post(&ann, "second").await;
        let reply = w
            .create(
                &bob,
                NewPost {
                    text: "a reply".into(),
                    reply_to: Some(other),
                    ..NewPost::default()
                },
            )
            .await;
        w.social.follow(&bob, ann.user_id).await.unwrap();
        w.social.follow(&cat, ann.user_id).await.unwrap();
        w.content.repost(&bob, post).await.unwrap();
        w.content.like(&cat, post).await.unwrap();
        w.deliver().await;
        assert_eq!(inbox(&w, &ann).await.len(), 4);
        assert_eq!(unread(&w, &ann).await, 4);

        w.social.unfollow(&bob, ann.user_id).await.unwrap();
        w.content.unrepost(&bob, post).await.unwrap();
        w.content.delete_post(&bob, reply).await.unwrap();
        w.deliver().await;
        let items = inbox(&w, &ann).await;
        let mut got = kinds(&items);
        got.sort_by_key(|(k, _)| k.as_str());
        assert_eq!(
            got,
            [(NotificationKind::Follow, 1), (NotificationKind::Like, 1)]
        );
        assert_eq!(unread(&w, &ann).await, 2);

        // The liked post itself goes: its like group goes with it.
        w.content.delete_post(&ann, post).await.unwrap();
        w.deliver().await;
        assert_eq!(
            kinds(&inbox(&w, &ann).await),
            [(NotificationKind::Follow, 1)]
        );
        assert_eq!(unread(&w, &ann).await, 1);
    }

    /// Never from oneself, a blocked or blocking account, or a muted one; a reposts-only
    /// mute silences reposts alone.
    pub async fn blocked_and_muted_accounts_do_not_notify(db: Db) {
        let w = world(db);
        let ann = w.user("ann").await;
        let (blocked, blocker, muted, half) = (
            w.user("blocked").await,
            w.user("blocker").await,
            w.user("muted").await,
            w.user("half").await,
        );
        let post = w.post(&ann, "hello").await;
        w.content.like(&ann, post).await.unwrap();
        for p in [&blocked, &blocker, &muted, &half] {
            w.post(p, "hi @ann").await;
            w.content.like(p, post).await.unwrap();
            w.content.repost(p, post).await.unwrap();
        }
        // The relations change before the events arrive: they are asked at delivery.
        w.social.block(&ann, blocked.user_id).await.unwrap();
        w.social.block(&blocker, ann.user_id).await.unwrap();
        w.social
            .mute(&ann, muted.user_id, None, false)
            .await
            .unwrap();
        w.social.mute(&ann, half.user_id, None, true).await.unwrap();
        w.deliver().await;

        let items = inbox(&w, &ann).await;
        let mut got = kinds(&items);
        got.sort_by_key(|(k, _)| k.as_str());
        assert_eq!(
            got,
            [(NotificationKind::Like, 1), (NotificationKind::Mention, 1)]
        );
        assert!(
            items
                .iter()
                .all(|n| n.actors.iter().all(|a| a.user_id == half.user_id))
        );
    }

    /// With the policy on, accounts the recipient does not follow land in `requests`.
    pub async fn strangers_go_to_requests_when_filtered(db: Db) {
        let w = world(db);
        let (ann, friend, stranger) = (
            w.user("ann").await,
            w.user("friend").await,
            w.user("stranger").await,
        );
        let on = Policy {
            filter_not_following: true,
        };
        assert_eq!(
            w.notifications.policy(&ann).await.unwrap(),
            Policy::default()
        );
        assert_eq!(w.notifications.set_policy(&ann, on).await.unwrap(), on);
        assert_eq!(w.notifications.policy(&ann).await.unwrap(), on);
        w.social.follow(&ann, friend.user_id).await.unwrap();
        w.post(&friend, "hey @ann").await;
        w.post(&stranger, "buy now @ann").await;
        w.deliver().await;

        let items = inbox(&w, &ann).await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].actors[0].user_id, friend.user_id);
        let requests = w
            .notifications
            .list(&ann, Folder::Requests, 10, None)
            .await
            .unwrap()
            .items;
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].folder, Folder::Requests);
        assert_eq!(requests[0].actors[0].user_id, stranger.user_id);
        assert_eq!(unread(&w, &ann).await, 1);
        assert_eq!(
            w.notifications
                .unread_count(&ann, Folder::Requests)
                .await
                .unwrap(),
            1
        );
    }

    /// Mark one, mark up to, mark all; a new actor makes a read group unread again;
    /// another user's notification answers NotFound like a missing one.
    pub async fn read_markers_and_unread_counts(db: Db) {
        let w = world(db);
        let ann = w.user("ann").await;
        let mut posts = Vec::new();
        for i in 0..5 {
            posts.push(w.post(&ann, &format!("post {i}")).await);
        }
        let fans = [w.user("fan1").await, w.user("fan2").await];
        for post in &posts {
            w.content.like(&fans[0], *post).await.unwrap();
        }
        w.deliver().await;
        let items = inbox(&w, &ann).await; // newest first: posts[4] .. posts[0]
        assert_eq!(items.len(), 5);
        assert_eq!(unread(&w, &ann).await, 5);

        let one = MarkRead::One(items[0].id);
        assert_eq!(
            w.notifications
                .mark_read(&ann, Folder::Inbox, one)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            w.notifications
                .mark_read(&ann, Folder::Inbox, one)
                .await
                .unwrap(),
            0
        );
        assert_eq!(unread(&w, &ann).await, 4);
        // Up to the third: it and the two older ones.
        let up_to = MarkRead::UpTo(items[2].id);
        assert_eq!(
            w.notifications
                .mark_read(&ann, Folder::Inbox, up_to)
                .await
                .unwrap(),
            3
        );
        assert_eq!(unread(&w, &ann).await, 1);
        let now = inbox(&w, &ann).await;
        assert_eq!(
            now.iter().map(|n| n.unread).collect::<Vec<_>>(),
            [false, true, false, false, false]
        );

        // Someone else (or nobody) owns these ids: the same NotFound.
        let (fan, missing) = (&fans[0], NotificationId::new());
        for (who, id) in [(fan, items[1].id), (&ann, missing)] {
            for which in [MarkRead::One(id), MarkRead::UpTo(id)] {
                let err = w
                    .notifications
                    .mark_read(who, Folder::Inbox, which)
                    .await
                    .unwrap_err();
                assert_eq!(*err.kind(), ErrorKind::NotFound);
            }
        }
        assert_eq!(unread(&w, &ann).await, 1);

        // A second fan on a read group: unread again, and first in the list.
        w.content.like(&fans[1], posts[0]).await.unwrap();
        w.deliver().await;
        let now = inbox(&w, &ann).await;
        assert_eq!(now[0].target_id, Some(posts[0].to_string()));
        assert_eq!((now[0].count, now[0].unread), (2, true));
        assert_eq!(unread(&w, &ann).await, 2);

        let all = w
            .notifications
            .mark_read(&ann, Folder::Inbox, MarkRead::All)
            .await
            .unwrap();
        assert_eq!(all, 2);
        assert_eq!(unread(&w, &ann).await, 0);
        // A service principal acting for nobody reads nothing.
        let service = Principal::service("feed-service");
        let err = w
            .notifications
            .unread_count(&service, Folder::Inbox)
            .await
            .unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::PermissionDenied);
    }

    /// Pages of 10 over 25 groups, newest first, no gaps or repeats; forged cursors fail.
    pub async fn pages_follow_cursors(db: Db) {
        let w = world(db);
        let (ann, fan) = (w.user("ann").await, w.user("fan").await);
        let mut posts = Vec::new();
        for i in 0..25 {
            let post = w.post(&ann, &format!("post {i}")).await;
            w.content.like(&fan, post).await.unwrap();
            posts.push(post.to_string());
        }
        w.deliver().await;
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let page = w
                .notifications
                .list(&ann, Folder::Inbox, 10, after.as_deref())
                .await
                .unwrap();
            pages += 1;
            seen.extend(page.items.iter().filter_map(|n| n.target_id.clone()));
            if !page.has_next_page {
                break;
            }
            after = page.end_cursor;
        }
        assert_eq!(pages, 3);
        posts.reverse();
        assert_eq!(seen, posts);
        let err = w
            .notifications
            .list(&ann, Folder::Inbox, 10, Some("forged"))
            .await
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));
        // Another user's view of the same list is their own: empty.
        assert!(inbox(&w, &fan).await.is_empty());
    }

    /// Activity more than a window apart starts a new group; within it, one group.
    pub async fn the_window_splits_groups(db: Db) {
        let w = common::world_with(db, |s| s.with_window(Duration::hours(1)));
        let ann = w.user("ann").await;
        let fans = [w.user("a").await, w.user("b").await, w.user("c").await];
        let post = "0190a0a0-0000-7000-8000-0000000000aa";
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        let like = |fan: &Principal, minutes: i64| {
            let p = content::LikeChanged {
                post_id: post.into(),
                post_author_id: ann.user_id.to_string(),
                user_id: fan.user_id.to_string(),
                ..Default::default()
            };
            EventEnvelope::new(
                "like.created",
                post,
                base + Duration::minutes(minutes),
                p.encode_to_vec(),
            )
        };
        let events = [like(&fans[0], 5), like(&fans[1], 50), like(&fans[2], 70)];
        w.notifications.ingest(&events).await.unwrap();
        let items = inbox(&w, &ann).await;
        assert_eq!(
            kinds(&items),
            [(NotificationKind::Like, 1), (NotificationKind::Like, 2)]
        );
        assert_eq!(items[0].updated_at, base + Duration::minutes(70));
        assert_eq!(items[1].created_at, base + Duration::minutes(5));
    }

    /// A subscriber hears of each written notification as the recipient may read it.
    pub async fn live_stream_delivers_new_notifications(db: Db) {
        let w = world(db);
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let post = w.post(&ann, "hello").await;
        let mut live = w.notifications.subscribe(&ann).await.unwrap();
        w.content.like(&bob, post).await.unwrap();
        w.deliver().await;
        let got = tokio::time::timeout(StdDuration::from_secs(5), live.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.kind, got.count, got.recipient_id),
            (NotificationKind::Like, 1, ann.user_id)
        );
        assert_eq!(got.actors[0].user_id, bob.user_id);
        // Redelivery wrote nothing new, so nothing more arrives.
        let more = tokio::time::timeout(StdDuration::from_millis(200), live.next()).await;
        assert!(more.is_err());
    }
}

nova_testkit::db_conformance_suite!(suite:
    likes_group_once_whatever_the_replays,
    every_source_notifies_its_recipient,
    undoing_removes_actors_and_empty_groups,
    blocked_and_muted_accounts_do_not_notify,
    strangers_go_to_requests_when_filtered,
    read_markers_and_unread_counts,
    pages_follow_cursors,
    the_window_splits_groups,
    live_stream_delivers_new_notifications,
);
