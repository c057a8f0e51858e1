//! SQL-backend checks: batch lookups and suggestions are one store call each, and each
//! SQL store method issues exactly one statement for them (see `store/sql.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use nova_core::{ManualClock, Result, Timestamp, UserId};
use nova_graph::model::{CountDrift, FollowCounts, MuteSettings, Relationship, Suggestion};
use nova_graph::store::{EdgeList, Position};
use nova_graph::{GraphApi, GraphService, GraphStore, SqlGraphStore};

/// Counts store calls that read (one call = one statement in `SqlGraphStore`).
struct Counting {
    inner: SqlGraphStore,
    reads: AtomicUsize,
}

impl Counting {
    fn read(&self) {
        self.reads.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl GraphStore for Counting {
    async fn follow(&self, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        self.inner.follow(a, b, now).await
    }
    async fn unfollow(&self, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        self.inner.unfollow(a, b, now).await
    }
    async fn block(&self, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        self.inner.block(a, b, now).await
    }
    async fn unblock(&self, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        self.inner.unblock(a, b, now).await
    }
    async fn mute(&self, a: UserId, b: UserId, s: MuteSettings, now: Timestamp) -> Result<bool> {
        self.inner.mute(a, b, s, now).await
    }
    async fn unmute(&self, a: UserId, b: UserId, now: Timestamp) -> Result<bool> {
        self.inner.unmute(a, b, now).await
    }
    async fn relationships(
        &self,
        p: &[(UserId, UserId)],
        now: Timestamp,
    ) -> Result<Vec<Relationship>> {
        self.read();
        self.inner.relationships(p, now).await
    }
    async fn list(
        &self,
        l: EdgeList,
        u: UserId,
        a: Option<Position>,
        n: u32,
    ) -> Result<Vec<Position>> {
        self.read();
        self.inner.list(l, u, a, n).await
    }
    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        self.read();
        self.inner.counts(users).await
    }
    async fn suggestions(&self, u: UserId, n: u32, now: Timestamp) -> Result<Vec<Suggestion>> {
        self.read();
        self.inner.suggestions(u, n, now).await
    }
    async fn blocked_either_way(&self, u: UserId) -> Result<Vec<UserId>> {
        self.read();
        self.inner.blocked_either_way(u).await
    }
    async fn count_drift(&self) -> Result<Vec<CountDrift>> {
        self.inner.count_drift().await
    }
}

#[tokio::test]
async fn batch_lookups_and_suggestions_are_one_round_trip() {
    let backend = nova_testkit::sqlite().await;
    let store = Arc::new(Counting {
        inner: SqlGraphStore::new(backend.db().clone()),
        reads: AtomicUsize::new(0),
    });
    let clock = ManualClock::new(chrono::Utc::now());
    let graph = GraphService::new(store.clone(), clock.shared(), crate::harness::codec());
    let u: Vec<UserId> = (0..200).map(|_| UserId::new()).collect();
    for w in u.windows(3) {
        graph.follow(w[0], w[1]).await.unwrap();
        graph.follow(w[0], w[2]).await.unwrap();
    }
    let pairs: Vec<_> = u.windows(3).map(|w| (w[0], w[1])).collect();

    let before = store.reads.load(Ordering::SeqCst);
    let rel = graph.relationships(&pairs).await.unwrap();
    assert!(rel.iter().all(|r| r.following));
    assert_eq!(
        store.reads.load(Ordering::SeqCst) - before,
        1,
        "198 pairs, one statement"
    );

    let before = store.reads.load(Ordering::SeqCst);
    let counts = graph.counts(&u).await.unwrap();
    assert_eq!(counts[100].followers, 2);
    assert_eq!(
        store.reads.load(Ordering::SeqCst) - before,
        1,
        "200 users, one statement"
    );

    let before = store.reads.load(Ordering::SeqCst);
    let s = graph.suggestions(u[0], 10).await.unwrap();
    // u0 follows u1, u2; they follow u2, u3 and u3, u4: u3 has 2 mutuals, u4 one.
    let got: Vec<_> = s.iter().map(|s| (s.user, s.mutual_connections)).collect();
    assert_eq!(got, [(u[3], 2), (u[4], 1)]);
    assert_eq!(store.reads.load(Ordering::SeqCst) - before, 1, "one query");
}
