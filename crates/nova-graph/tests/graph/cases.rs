//! The conformance cases: each takes a [`Harness`] on some backend.

use std::sync::Arc;

use chrono::Duration;
use nova_core::{Clock, ErrorKind, UserId};
use nova_events::EventEnvelope;
use nova_graph::Page;
use nova_proto::nova::graph::v1 as pb;
use prost::Message;
use rand::Rng;

use crate::harness::{Harness, users};

async fn counts(h: &Harness, user: UserId) -> (u64, u64) {
    let c = h.graph.counts(&[user]).await.unwrap()[0];
    assert_eq!(c.user, user);
    (c.followers, c.following)
}

fn payload<M: Message + Default>(e: &EventEnvelope) -> M {
    M::decode(e.payload.as_slice()).unwrap()
}

pub async fn follow_and_unfollow_keep_counts_and_emit_events(h: Harness) {
    let [a, b] = users(2)[..] else { unreachable!() };
    assert!(h.graph.follow(a, b).await.unwrap());
    assert!(
        !h.graph.follow(a, b).await.unwrap(),
        "second follow is a no-op"
    );
    assert_eq!(counts(&h, a).await, (0, 1));
    assert_eq!(counts(&h, b).await, (1, 0));

    let err = h.graph.follow(a, a).await.unwrap_err();
    assert_eq!(err.field(), Some("followee"));

    let events = h.events().await;
    assert_eq!(events.len(), 1, "only the real change emits");
    assert_eq!(events[0].event_type, "follow.created");
    assert_eq!(events[0].aggregate_id, a.to_string());
    let created: pb::FollowCreated = payload(&events[0]);
    assert_eq!(
        (created.follower_id, created.followee_id),
        (a.to_string(), b.to_string())
    );
    h.clear_events().await;

    assert!(h.graph.unfollow(a, b).await.unwrap());
    assert!(!h.graph.unfollow(a, b).await.unwrap());
    assert_eq!(counts(&h, a).await, (0, 0));
    assert_eq!(counts(&h, b).await, (0, 0));
    let events = h.events().await;
    assert_eq!(events.len(), 1);
    let removed: pb::FollowRemoved = payload(&events[0]);
    assert_eq!(removed.reason, "unfollow");
    assert!(h.store.count_drift().await.unwrap().is_empty());
}

pub async fn block_removes_follows_both_ways_and_forbids_following(h: Harness) {
    let [a, b, c] = users(3)[..] else {
        unreachable!()
    };
    h.graph.follow(a, b).await.unwrap();
    h.graph.follow(b, a).await.unwrap();
    h.graph.follow(c, a).await.unwrap();
    h.clear_events().await;

    assert!(h.graph.block(a, b).await.unwrap());
    assert!(
        !h.graph.block(a, b).await.unwrap(),
        "second block is a no-op"
    );
    assert_eq!(counts(&h, a).await, (1, 0), "c still follows a");
    assert_eq!(counts(&h, b).await, (0, 0));
    let mut types = h.event_types().await;
    types.sort();
    assert_eq!(types, ["block.created", "follow.removed", "follow.removed"]);
    for e in h
        .events()
        .await
        .iter()
        .filter(|e| e.event_type == "follow.removed")
    {
        assert_eq!(payload::<pb::FollowRemoved>(e).reason, "block");
    }

    for (x, y) in [(a, b), (b, a)] {
        let err = h.graph.follow(x, y).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::PermissionDenied, "{x} -> {y}");
    }
    let rel = h.graph.relationships(&[(a, b), (b, a)]).await.unwrap();
    assert!(rel[0].blocking && !rel[0].blocked_by && !rel[0].following && !rel[0].followed_by);
    assert!(rel[1].blocked_by && !rel[1].blocking && rel[1].blocked_either_way());
    assert_eq!(h.graph.blocked_either_way(a).await.unwrap(), [b]);
    assert_eq!(h.graph.blocked_ids(b).await.unwrap(), [a]);
    assert!(h.graph.blocked_either_way(c).await.unwrap().is_empty());

    assert!(h.graph.unblock(a, b).await.unwrap());
    assert!(!h.graph.unblock(a, b).await.unwrap());
    assert!(
        h.graph.follow(b, a).await.unwrap(),
        "unblocked: following works again"
    );
    assert_eq!(counts(&h, a).await, (2, 0));
    assert_eq!(
        h.graph.block(b, b).await.unwrap_err().field(),
        Some("blocked")
    );
    assert!(h.store.count_drift().await.unwrap().is_empty());
}

pub async fn mutes_expire_and_may_cover_reposts_only(h: Harness) {
    let [a, b, c] = users(3)[..] else {
        unreachable!()
    };
    let now = h.clock.now();
    assert!(
        h.graph
            .mute(a, b, Some(now + Duration::hours(1)), false)
            .await
            .unwrap()
    );
    assert!(h.graph.mute(a, c, None, true).await.unwrap());
    assert!(
        !h.graph.mute(a, c, None, true).await.unwrap(),
        "same mute again"
    );
    let rel = h
        .graph
        .relationships(&[(a, b), (a, c), (b, a)])
        .await
        .unwrap();
    assert!(rel[0].muting && !rel[0].muting_reposts_only);
    assert!(rel[1].muting && rel[1].muting_reposts_only);
    assert!(!rel[2].muting, "mutes are one-way");
    assert_eq!(h.event_types().await, ["mute.created", "mute.created"]);
    let first: pb::MuteCreated = payload(&h.events().await[0]);
    assert_eq!(
        first.until.map(|t| t.seconds),
        Some((now + Duration::hours(1)).timestamp())
    );

    h.clock.advance(Duration::hours(2));
    let rel = h.graph.relationships(&[(a, b), (a, c)]).await.unwrap();
    assert!(!rel[0].muting, "expired");
    assert!(rel[1].muting, "no expiry");
    assert!(
        h.graph.mute(a, b, None, true).await.unwrap(),
        "the old mute had expired"
    );
    assert!(
        !h.graph.mute(a, b, None, false).await.unwrap(),
        "changed, not new"
    );
    let rel = h.graph.relationships(&[(a, b)]).await.unwrap();
    assert!(rel[0].muting && !rel[0].muting_reposts_only);

    let past = h
        .graph
        .mute(a, b, Some(h.clock.now() - Duration::seconds(1)), false)
        .await;
    assert_eq!(past.unwrap_err().field(), Some("until"));
    assert!(h.graph.unmute(a, b).await.unwrap());
    assert!(!h.graph.unmute(a, b).await.unwrap());
    assert_eq!(
        h.event_types().await.last().map(String::as_str),
        Some("mute.removed")
    );
    assert!(!h.graph.relationships(&[(a, b)]).await.unwrap()[0].muting);
}

pub async fn batch_lookups_answer_in_order(h: Harness) {
    // One statement each (SQL: a VALUES list joined to the edges; Cypher: UNWIND): the
    // counting wrapper in main.rs checks the service makes one store call per batch.
    let u = users(5);
    h.graph.follow(u[0], u[1]).await.unwrap();
    h.graph.follow(u[1], u[0]).await.unwrap();
    h.graph.follow(u[2], u[1]).await.unwrap();
    h.graph.block(u[3], u[4]).await.unwrap();
    let pairs = [
        (u[0], u[1]),
        (u[2], u[1]),
        (u[1], u[2]),
        (u[4], u[3]),
        (u[0], u[1]),
    ];
    let rel = h.graph.relationships(&pairs).await.unwrap();
    assert_eq!(rel.len(), 5);
    for (r, (from, to)) in rel.iter().zip(pairs) {
        assert_eq!((r.from, r.to), (from, to));
    }
    assert!(rel[0].following && rel[0].followed_by && rel[4] == rel[0]);
    assert!(rel[1].following && !rel[1].followed_by);
    assert!(!rel[2].following && rel[2].followed_by);
    assert!(rel[3].blocked_by && !rel[3].blocking);
    assert!(h.graph.relationships(&[]).await.unwrap().is_empty());

    let stranger = UserId::new();
    let c = h.graph.counts(&[u[1], stranger, u[0]]).await.unwrap();
    let got: Vec<_> = c
        .iter()
        .map(|c| (c.user, c.followers, c.following))
        .collect();
    assert_eq!(got, [(u[1], 2, 1), (stranger, 0, 0), (u[0], 1, 1)]);
    // Batches: at the cap they work, one over is refused naming the field (the wire's
    // name, on every backend and through gRPC).
    let max = nova_graph::model::MAX_BATCH;
    assert_eq!(h.graph.counts(&vec![u[0]; max]).await.unwrap().len(), max);
    let pairs = vec![(u[0], u[1]); max];
    assert_eq!(h.graph.relationships(&pairs).await.unwrap().len(), max);
    let too_many = vec![u[0]; max + 1];
    let err = h.graph.counts(&too_many).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));
    assert_eq!(err.field(), Some("user_ids"));
    let too_many = vec![(u[0], u[1]); max + 1];
    let err = h.graph.relationships(&too_many).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument { .. }));
    assert_eq!(err.field(), Some("pairs"));
}

async fn all_pages(h: &Harness, user: UserId, first: u32, list: &str) -> (Vec<UserId>, usize) {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page: Page<UserId> = match list {
            "followers" => h.graph.followers(user, first, after.as_deref()).await,
            "following" => h.graph.following(user, first, after.as_deref()).await,
            _ => h.graph.mutual_follows(user, first, after.as_deref()).await,
        }
        .unwrap();
        pages += 1;
        assert!(page.items.len() <= first as usize);
        out.extend(page.items);
        if !page.has_next_page {
            break;
        }
        after = page.end_cursor;
        assert!(after.is_some());
    }
    (out, pages)
}

pub async fn lists_page_newest_first_with_cursors(h: Harness) {
    let star = UserId::new();
    let fans = users(23);
    for (i, fan) in fans.iter().enumerate() {
        h.graph.follow(*fan, star).await.unwrap();
        h.graph.follow(star, *fan).await.unwrap();
        // Pairs share a timestamp: ties are broken by id, still without gaps or repeats.
        if i % 2 == 1 {
            h.clock.advance(Duration::milliseconds(3));
        }
    }
    // Newest first: by follow time (bucket i / 2) descending, then id descending.
    let mut expected: Vec<(usize, UserId)> =
        fans.iter().enumerate().map(|(i, f)| (i / 2, *f)).collect();
    expected.sort_by(|x, y| y.cmp(x));
    let expected: Vec<UserId> = expected.into_iter().map(|(_, f)| f).collect();
    let (followers, pages) = all_pages(&h, star, 5, "followers").await;
    assert_eq!(pages, 5);
    assert_eq!(followers, expected);
    let (following, _) = all_pages(&h, star, 7, "following").await;
    assert_eq!(following, expected);

    // Mutual: star follows everyone back except those who stopped following.
    h.graph.unfollow(fans[0], star).await.unwrap();
    h.graph.unfollow(fans[22], star).await.unwrap();
    let (mutual, _) = all_pages(&h, star, 100, "mutual").await;
    assert_eq!(mutual.len(), 21);
    assert!(!mutual.contains(&fans[0]) && !mutual.contains(&fans[22]));

    let page = h.graph.followers(star, 0, None).await.unwrap();
    assert_eq!(page.items.len(), 20, "0 = default page size");
    let page = h.graph.followers(star, 1000, None).await.unwrap();
    assert_eq!(page.items.len(), 21);
    assert!(!page.has_next_page);
    let empty = h.graph.followers(UserId::new(), 10, None).await.unwrap();
    assert_eq!(empty, Page::empty());

    let err = h
        .graph
        .followers(star, 5, Some("forged"))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("cursor"));
}

pub async fn suggestions_rank_friends_of_friends(h: Harness) {
    // me follows f1, f2, f3. f1..f3 follow x (3 mutuals), f1,f2 follow y (2), f1 follows
    // z (1), and every f follows me and each other. Exclusions: `followed` (already
    // followed by me), `blocker` (blocks me), `blocked` (I block), `muted`.
    let [me, f1, f2, f3, x, y, z] = users(7)[..] else {
        unreachable!()
    };
    let [followed, blocker, blocked, muted] = users(4)[..] else {
        unreachable!()
    };
    for f in [f1, f2, f3, followed] {
        h.graph.follow(me, f).await.unwrap();
    }
    for f in [f1, f2, f3] {
        h.graph.follow(f, me).await.unwrap();
        h.graph.follow(f, x).await.unwrap();
        for g in [blocker, blocked, muted, followed] {
            h.graph.follow(f, g).await.unwrap();
        }
    }
    h.graph.follow(f1, f2).await.unwrap();
    h.graph.follow(f1, y).await.unwrap();
    h.graph.follow(f2, y).await.unwrap();
    h.graph.follow(f1, z).await.unwrap();
    h.graph.block(blocker, me).await.unwrap();
    h.graph.block(me, blocked).await.unwrap();
    h.graph
        .mute(me, muted, Some(h.clock.now() + Duration::hours(1)), false)
        .await
        .unwrap();

    let got: Vec<_> = h
        .graph
        .suggestions(me, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.user, s.mutual_connections))
        .collect();
    assert_eq!(got, [(x, 3), (y, 2), (z, 1)]);
    assert_eq!(h.graph.suggestions(me, 2).await.unwrap().len(), 2);

    // The mute expires: `muted` (followed by all three friends) comes back, tied with x.
    h.clock.advance(Duration::hours(2));
    let got = h.graph.suggestions(me, 10).await.unwrap();
    assert_eq!(got.len(), 4);
    assert!(got[..2].iter().all(|s| s.mutual_connections == 3));
    assert!(got.iter().any(|s| s.user == muted));
    assert!(
        h.graph
            .suggestions(UserId::new(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// 1,000 concurrent random follow/unfollow operations (plus a few blocks) among 20
/// users: stored counts must equal the edges afterwards.
pub async fn concurrent_writes_keep_counts_exact(h: Harness) {
    let u = Arc::new(users(20));
    let graph = h.graph.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let (graph, u) = (graph.clone(), u.clone());
        let (a, b, op) = {
            let mut rng = rand::rng();
            let a = rng.random_range(0..u.len());
            let b = (a + rng.random_range(1..u.len())) % u.len();
            (a, b, rng.random_range(0..100))
        };
        tasks.spawn(async move {
            let r = match op {
                0..55 => graph.follow(u[a], u[b]).await.map(|_| ()),
                55..95 => graph.unfollow(u[a], u[b]).await.map(|_| ()),
                95..98 => graph.block(u[a], u[b]).await.map(|_| ()),
                _ => graph.unblock(u[a], u[b]).await.map(|_| ()),
            };
            match r {
                Err(e) if e.kind() != &ErrorKind::PermissionDenied => panic!("{e:?}"),
                _ => {}
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let drift = h.store.count_drift().await.unwrap();
    assert!(drift.is_empty(), "counts drifted: {drift:?}");
    // The same check without trusting the store: edges seen through the lists.
    let counts = graph.counts(&u).await.unwrap();
    for c in counts {
        let (followers, _) = all_pages(&h, c.user, 100, "followers").await;
        let (following, _) = all_pages(&h, c.user, 100, "following").await;
        assert_eq!(
            (c.followers, c.following),
            (followers.len() as u64, following.len() as u64)
        );
    }
    if let Some(db) = &h.sql {
        // And straight from the tables: every stored count = COUNT(*) of its edges.
        let rows: Vec<(i64, i64, i64, i64)> =
            nova_db::on_db!(db, read, |c| nova_db::sqlx::query_as(
                "SELECT c.followers, c.following, \
               (SELECT COUNT(*) FROM follows f WHERE f.followee_id = c.user_id), \
               (SELECT COUNT(*) FROM follows f WHERE f.follower_id = c.user_id) \
             FROM follow_counts c",
            )
            .fetch_all(c)
            .await
            .unwrap());
        assert!(rows.len() >= 20);
        for (followers, following, edges_in, edges_out) in rows {
            assert_eq!((followers, following), (edges_in, edges_out));
        }
    }
}

/// Follows racing blocks on 150 pairs: afterwards no follow edge crosses a block, and
/// counts still match the edges.
pub async fn follows_racing_blocks_never_cross_a_block(h: Harness) {
    let graph = h.graph.clone();
    let pairs: Vec<(UserId, UserId)> = (0..150).map(|_| (UserId::new(), UserId::new())).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for &(a, b) in &pairs {
        for op in 0..3 {
            let graph = graph.clone();
            tasks.spawn(async move {
                let r = match op {
                    0 => graph.follow(a, b).await,
                    1 => graph.follow(b, a).await,
                    _ => graph.block(b, a).await,
                };
                if let Err(e) = r {
                    assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e:?}");
                }
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    for r in graph.relationships(&pairs).await.unwrap() {
        assert!(r.blocked_by, "every pair ends blocked");
        assert!(
            !r.following && !r.followed_by,
            "a follow survived a block: {r:?}"
        );
    }
    assert!(h.store.count_drift().await.unwrap().is_empty());
}
