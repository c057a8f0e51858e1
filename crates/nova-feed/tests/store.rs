//! The timeline store conformance suite, run on the in-process store and on Redis
//! (`NOVA_TEST_REDIS_URL`, an isolated key prefix per test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use nova_core::{PostId, UserId};
use nova_feed::store::{
    Entry, MemoryTimelineStore, RedisTimelineStore, TimelineKey, TimelineStore,
};

mod cases {
    use super::*;

    fn posts(author: UserId, n: usize) -> Vec<Entry> {
        (0..n).map(|_| Entry::new(PostId::new(), author)).collect()
    }

    fn ids(page: &[Entry]) -> Vec<PostId> {
        page.iter().map(|e| e.post).collect()
    }

    pub async fn absent_until_rebuilt(s: Arc<dyn TimelineStore>) {
        let home = TimelineKey::Home(UserId::new());
        let e = Entry::new(PostId::new(), UserId::new());
        assert_eq!(s.page(home, None, 10).await.unwrap(), None);
        // Fan-out into an absent timeline does not make it look built.
        s.push(&[home], e, 10).await.unwrap();
        s.insert(home, &[e], 10).await.unwrap();
        assert_eq!(s.page(home, None, 10).await.unwrap(), None);
        s.rebuild(home, &[], 10).await.unwrap();
        assert_eq!(s.page(home, None, 10).await.unwrap(), Some(vec![]));
        s.clear(home).await.unwrap();
        assert_eq!(s.page(home, None, 10).await.unwrap(), None);
    }

    pub async fn newest_first_and_capped(s: Arc<dyn TimelineStore>) {
        let author = UserId::new();
        let all = posts(author, 12);
        let home = TimelineKey::Home(UserId::new());
        // Rebuild takes them in any order and keeps the newest `cap`.
        let mut oldest_six = all[..6].to_vec();
        oldest_six.reverse();
        s.rebuild(home, &oldest_six, 5).await.unwrap();
        let page = s.page(home, None, 100).await.unwrap().unwrap();
        assert_eq!(
            ids(&page),
            ids(&all[1..6].iter().rev().copied().collect::<Vec<_>>())
        );
        for e in &all[6..] {
            s.push(&[home], *e, 5).await.unwrap();
        }
        let page = s.page(home, None, 100).await.unwrap().unwrap();
        assert_eq!(
            ids(&page),
            ids(&all[7..].iter().rev().copied().collect::<Vec<_>>())
        );
        // Pushing twice does not duplicate; an old post inserted lands in order (then trimmed).
        s.push(&[home], all[11], 5).await.unwrap();
        s.insert(home, &[all[0]], 6).await.unwrap();
        let page = s.page(home, None, 100).await.unwrap().unwrap();
        assert_eq!(page.len(), 6);
        assert_eq!(page[5], all[0]);
    }

    pub async fn pages_below_a_cursor(s: Arc<dyn TimelineStore>) {
        let all = posts(UserId::new(), 25);
        let home = TimelineKey::Home(UserId::new());
        s.rebuild(home, &all, 800).await.unwrap();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = s.page(home, before, 7).await.unwrap().unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(|e| e.post);
            // A newer post arriving between pages does not shift later pages.
            s.push(&[home], Entry::new(PostId::new(), UserId::new()), 800)
                .await
                .unwrap();
            seen.extend(ids(&page));
        }
        let expected: Vec<PostId> = all.iter().rev().map(|e| e.post).collect();
        assert_eq!(seen, expected);
    }

    pub async fn fan_out_to_many(s: Arc<dyn TimelineStore>) {
        let users: Vec<UserId> = (0..300).map(|_| UserId::new()).collect();
        let keys: Vec<TimelineKey> = users.iter().map(|u| TimelineKey::Home(*u)).collect();
        for k in &keys[..200] {
            s.rebuild(*k, &[], 800).await.unwrap();
        }
        let e = Entry::new(PostId::new(), UserId::new());
        s.push(&keys, e, 800).await.unwrap();
        for k in &keys[..200] {
            assert_eq!(s.page(*k, None, 5).await.unwrap(), Some(vec![e]));
        }
        for k in &keys[200..] {
            assert_eq!(s.page(*k, None, 5).await.unwrap(), None);
        }
        s.remove(&keys, e).await.unwrap();
        for k in &keys[..200] {
            assert_eq!(s.page(*k, None, 5).await.unwrap(), Some(vec![]));
        }
    }

    pub async fn removes_an_author(s: Arc<dyn TimelineStore>) {
        let (a, b) = (UserId::new(), UserId::new());
        let home = TimelineKey::Home(UserId::new());
        let mut entries = posts(a, 3);
        entries.extend(posts(b, 4));
        s.rebuild(home, &entries, 800).await.unwrap();
        assert_eq!(s.remove_author(home, a).await.unwrap(), 3);
        let page = s.page(home, None, 100).await.unwrap().unwrap();
        assert_eq!(page.len(), 4);
        assert!(page.iter().all(|e| e.author == b));
        assert_eq!(s.remove_author(home, a).await.unwrap(), 0);
        // Other timelines are untouched.
        let other = TimelineKey::Author(a);
        s.rebuild(other, &entries[..3], 800).await.unwrap();
        s.remove_author(home, a).await.unwrap();
        assert_eq!(s.page(other, None, 100).await.unwrap().unwrap().len(), 3);
    }

    /// Entries beyond the cap are gone for good: a removal, a larger cap or an older
    /// post never brings back one that an earlier write trimmed.
    pub async fn trimmed_entries_stay_gone(s: Arc<dyn TimelineStore>) {
        let all = posts(UserId::new(), 40);
        let home = TimelineKey::Home(UserId::new());
        s.rebuild(home, &all[..2], 5).await.unwrap();
        for e in &all[2..30] {
            s.push(&[home], *e, 5).await.unwrap();
        }
        let newest_five: Vec<PostId> = all[25..30].iter().rev().map(|e| e.post).collect();
        assert_eq!(
            ids(&s.page(home, None, 100).await.unwrap().unwrap()),
            newest_five
        );
        // Below a cursor, too, only what the cap kept.
        let below = s
            .page(home, Some(all[27].post), 100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ids(&below), [all[26].post, all[25].post]);
        // A removal leaves four, not the fifth newest of before.
        s.remove(&[home], all[29]).await.unwrap();
        assert_eq!(
            ids(&s.page(home, None, 100).await.unwrap().unwrap()),
            newest_five[1..]
        );
        // A larger cap keeps what was there and grows from the next posts on.
        s.push(&[home], all[30], 8).await.unwrap();
        s.push(&[home], all[31], 8).await.unwrap();
        let page = s.page(home, None, 100).await.unwrap().unwrap();
        assert_eq!(
            ids(&page),
            [
                all[31].post,
                all[30].post,
                all[28].post,
                all[27].post,
                all[26].post,
                all[25].post
            ]
        );
        // An older post lands in order; a smaller cap trims to it at once.
        s.insert(home, &[all[3]], 8).await.unwrap();
        assert_eq!(s.page(home, None, 100).await.unwrap().unwrap().len(), 7);
        s.push(&[home], all[32], 3).await.unwrap();
        assert_eq!(
            ids(&s.page(home, None, 100).await.unwrap().unwrap()),
            [all[32].post, all[31].post, all[30].post]
        );
        // Removing an author's posts does not bring older ones back either.
        assert_eq!(s.remove_author(home, all[0].author).await.unwrap(), 3);
        assert_eq!(s.page(home, None, 100).await.unwrap(), Some(vec![]));
        s.push(&[home], all[33], 3).await.unwrap();
        assert_eq!(
            ids(&s.page(home, None, 100).await.unwrap().unwrap()),
            [all[33].post]
        );
    }

    pub async fn visits_and_pulled(s: Arc<dyn TimelineStore>) {
        let (a, b) = (UserId::new(), UserId::new());
        let t1 = Utc::now() - Duration::days(2);
        let t1 = chrono::DateTime::from_timestamp_micros(t1.timestamp_micros()).unwrap();
        let t2 = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        assert_eq!(s.visit(a, t1).await.unwrap(), None);
        assert_eq!(s.visit(a, t2).await.unwrap(), Some(t1));
        assert_eq!(s.last_visits(&[b, a]).await.unwrap(), vec![None, Some(t2)]);
        assert_eq!(s.pulled(&[a, b]).await.unwrap(), vec![false, false]);
        s.set_pulled(b, true).await.unwrap();
        assert_eq!(s.pulled(&[a, b]).await.unwrap(), vec![false, true]);
        s.set_pulled(b, false).await.unwrap();
        assert_eq!(s.pulled(&[b]).await.unwrap(), vec![false]);
    }
}

macro_rules! suite {
    ($($test:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::cases::$test(std::sync::Arc::new(super::MemoryTimelineStore::default())).await;
                }
            )+
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(backend) = nova_testkit::redis().await else { return };
                    let store = super::RedisTimelineStore::connect(backend.url(), backend.prefix())
                        .await
                        .unwrap();
                    super::cases::$test(std::sync::Arc::new(store)).await;
                }
            )+
        }
    };
}

suite!(
    absent_until_rebuilt,
    newest_first_and_capped,
    pages_below_a_cursor,
    fan_out_to_many,
    removes_an_author,
    trimmed_entries_stay_gone,
    visits_and_pulled,
);

#[tokio::test]
async fn memory_store_is_bounded() {
    let store = MemoryTimelineStore::new(640);
    for _ in 0..5_000 {
        store
            .rebuild(TimelineKey::Home(UserId::new()), &[], 800)
            .await
            .unwrap();
    }
    assert!(
        store.timelines().unwrap() <= 640,
        "{}",
        store.timelines().unwrap()
    );
}
