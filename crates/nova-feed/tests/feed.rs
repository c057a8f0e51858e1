//! The feed over real domains on SQLite and PostgreSQL: fan-out, read-time filtering of
//! blocks, mutes, unfollows and deletes, celebrity pull, inactive followers, backfill,
//! ranked reads, catch-up and the new-post stream.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use futures::StreamExt;
use nova_content::ContentApi;
use nova_core::{PostId, Principal};
use nova_db::Db;
use nova_feed::store::{MemoryTimelineStore, TimelineKey};
use nova_feed::{FeedApi, FeedConfig, FeedMode, FeedPage, FeedReason};
use nova_social::SocialApi;

use common::{World, memory_world, world};

fn ids(page: &FeedPage) -> Vec<PostId> {
    page.items.iter().map(|i| i.post.id).collect()
}

async fn home(w: &World, viewer: &Principal) -> Vec<PostId> {
    ids(&w
        .feed
        .home(viewer, FeedMode::Chronological, 50, None)
        .await
        .unwrap())
}

mod suite {
    use super::*;

    pub async fn fan_out_reaches_followers_newest_first(db: Db) {
        let w = memory_world(db);
        let (alice, bob, carol) = (
            w.user("alice").await,
            w.user("bob").await,
            w.user("carol").await,
        );
        w.social.follow(&alice, bob.user_id).await.unwrap();
        w.social.follow(&alice, carol.user_id).await.unwrap();
        // Alice reads once (an empty timeline, now materialised and active).
        assert!(home(&w, &alice).await.is_empty());
        let mut stream = w.feed.new_posts(&alice).await.unwrap();
        w.deliver().await;
        let p1 = w.post(&bob, "one").await;
        let p2 = w.post(&carol, "two").await;
        w.deliver().await;
        // Straight from the timeline store: fan-out pushed both.
        let entries = w
            .feed
            .store()
            .page(TimelineKey::Home(alice.user_id), None, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entries.iter().map(|e| e.post).collect::<Vec<_>>(), [p2, p1]);
        let page = w
            .feed
            .home(&alice, FeedMode::Chronological, 50, None)
            .await
            .unwrap();
        assert_eq!(ids(&page), [p2, p1]);
        assert!(
            page.items
                .iter()
                .all(|i| i.reason == FeedReason::Following && i.score.is_none())
        );
        assert_eq!(stream.next().await, Some(p1));
        assert_eq!(stream.next().await, Some(p2));
        // Authors see their own posts.
        assert_eq!(home(&w, &bob).await, [p1]);
    }

    pub async fn block_mute_unfollow_delete_take_effect_on_next_read(db: Db) {
        let w = memory_world(db);
        let alice = w.user("alice").await;
        let mut authors = Vec::new();
        for name in ["blocked", "muted", "unfollowed", "deleter", "kept"] {
            let a = w.user(name).await;
            w.social.follow(&alice, a.user_id).await.unwrap();
            authors.push(a);
        }
        home(&w, &alice).await;
        w.deliver().await;
        let mut posts = Vec::new();
        for a in &authors {
            posts.push(w.post(a, "hello").await);
        }
        w.deliver().await;
        assert_eq!(home(&w, &alice).await.len(), 5);

        w.social.block(&alice, authors[0].user_id).await.unwrap();
        w.social
            .mute(&alice, authors[1].user_id, None, false)
            .await
            .unwrap();
        w.social.unfollow(&alice, authors[2].user_id).await.unwrap();
        w.content.delete_post(&authors[3], posts[3]).await.unwrap();
        // Before any event is consumed: the read itself filters.
        assert_eq!(home(&w, &alice).await, [posts[4]]);
        // After: the timeline no longer holds them either.
        w.deliver().await;
        let entries = w
            .feed
            .store()
            .page(TimelineKey::Home(alice.user_id), None, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            entries.iter().map(|e| e.post).collect::<Vec<_>>(),
            [posts[4]]
        );
        assert_eq!(home(&w, &alice).await, [posts[4]]);
        // A blocked author's new posts are not even fanned out.
        w.post(&authors[0], "still here").await;
        w.deliver().await;
        assert_eq!(home(&w, &alice).await, [posts[4]]);
    }

    pub async fn celebrities_are_pulled_at_read_time(db: Db) {
        let config = FeedConfig {
            fanout_threshold: 1,
            ..FeedConfig::default()
        };
        let w = world(db, Arc::new(MemoryTimelineStore::default()), config);
        let (alice, dave, star) = (
            w.user("alice").await,
            w.user("dave").await,
            w.user("star").await,
        );
        w.social.follow(&alice, star.user_id).await.unwrap();
        w.social.follow(&dave, star.user_id).await.unwrap();
        home(&w, &alice).await;
        w.deliver().await;
        let p = w.post(&star, "to my fans").await;
        w.deliver().await;
        assert!(w.feed.store().pulled(&[star.user_id]).await.unwrap()[0]);
        let pushed = w
            .feed
            .store()
            .page(TimelineKey::Home(alice.user_id), None, 10)
            .await
            .unwrap()
            .unwrap();
        assert!(pushed.is_empty(), "not fanned out");
        let page = w
            .feed
            .home(&alice, FeedMode::Chronological, 20, None)
            .await
            .unwrap();
        assert_eq!(ids(&page), [p]);
        assert_eq!(page.items[0].reason, FeedReason::Popular);
    }

    pub async fn inactive_followers_are_skipped_then_rebuilt(db: Db) {
        let w = memory_world(db);
        let (alice, bob) = (w.user("alice").await, w.user("bob").await);
        w.social.follow(&alice, bob.user_id).await.unwrap();
        home(&w, &alice).await;
        w.deliver().await;
        // Alice's last read was 40 days ago.
        w.feed
            .store()
            .visit(alice.user_id, Utc::now() - Duration::days(40))
            .await
            .unwrap();
        let p = w.post(&bob, "while you were away").await;
        let report = w.feed.fan_out(p, bob.user_id).await.unwrap();
        assert_eq!((report.delivered, report.skipped_inactive), (1, 1));
        // She comes back: her timeline is rebuilt from SQL.
        assert_eq!(home(&w, &alice).await, [p]);
    }

    pub async fn follow_backfills_recent_posts(db: Db) {
        let w = memory_world(db);
        let (alice, bob) = (w.user("alice").await, w.user("bob").await);
        home(&w, &alice).await;
        let p = w.post(&bob, "before you followed").await;
        w.deliver().await;
        assert!(home(&w, &alice).await.is_empty());
        w.social.follow(&alice, bob.user_id).await.unwrap();
        w.deliver().await;
        let entries = w
            .feed
            .store()
            .page(TimelineKey::Home(alice.user_id), None, 10)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entries.iter().map(|e| e.post).collect::<Vec<_>>(), [p]);
    }

    pub async fn ranked_and_catch_up(db: Db) {
        let w = memory_world(db);
        let (alice, bob, carol) = (
            w.user("alice").await,
            w.user("bob").await,
            w.user("carol").await,
        );
        w.social.follow(&alice, bob.user_id).await.unwrap();
        w.social.follow(&alice, carol.user_id).await.unwrap();
        home(&w, &alice).await;
        let mut posts = Vec::new();
        for i in 0..6 {
            posts.push(w.post(if i % 2 == 0 { &bob } else { &carol }, "x").await);
        }
        w.deliver().await;
        let missed = w.feed.catch_up(&alice, 10).await.unwrap();
        let mut got = ids(&missed);
        got.sort();
        assert_eq!(got, posts);
        let ranked = w
            .feed
            .home(&alice, FeedMode::Ranked, 4, None)
            .await
            .unwrap();
        assert_eq!(ranked.items.len(), 4);
        assert!(ranked.items.iter().all(|i| i.score.is_some()));
        let rest = w
            .feed
            .home(&alice, FeedMode::Ranked, 4, ranked.next_cursor.as_deref())
            .await
            .unwrap();
        let mut all: Vec<PostId> = ids(&ranked).into_iter().chain(ids(&rest)).collect();
        all.sort();
        assert_eq!(all, posts, "ranked pages cover every post once");
    }

    pub async fn bad_cursor_is_invalid_argument(db: Db) {
        let w = memory_world(db);
        let alice = w.user("alice").await;
        let err = w
            .feed
            .home(&alice, FeedMode::Chronological, 10, Some("nope"))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("cursor"));
    }
}

nova_testkit::db_conformance_suite!(
    suite: fan_out_reaches_followers_newest_first,
    block_mute_unfollow_delete_take_effect_on_next_read,
    celebrities_are_pulled_at_read_time,
    inactive_followers_are_skipped_then_rebuilt,
    follow_backfills_recent_posts,
    ranked_and_catch_up,
    bad_cursor_is_invalid_argument,
);
