//! nova-analytics on every engine (SQLite, PostgreSQL, ClickHouse): a scripted stretch of
//! activity fed through the service (event-log envelopes and client batches, each
//! delivered twice) gives exactly the DAU/WAU/MAU, retention, posts per day, per-post
//! and follower figures this file computes on its own from the script; replays count
//! once; k-anonymity ranges; authorization; a deleted account is forgotten; expiry.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use nova_analytics::store::{AnalyticsStore, SqlAnalyticsStore};
use nova_analytics::{
    AnalyticsApi, AnalyticsService, BufferConfig, ClientEvent, Event, EventKind, Figure,
};
use nova_core::{ErrorKind, ManualClock, Principal, SessionId, Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_proto::nova::content::v1 as content;
use nova_proto::nova::graph::v1 as graph;
use nova_proto::nova::identity::v1 as identity;
use nova_proto::nova::social::v1 as social;
use nova_proto::nova::user::v1 as user;
use prost::Message;

fn base() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn date(offset: i64) -> NaiveDate {
    (base() + Duration::days(offset)).date_naive()
}

fn principal(id: UserId) -> Principal {
    Principal::user(id, SessionId::new())
}

fn admin() -> Principal {
    let mut p = principal(UserId::new());
    p.scopes.push("admin".into());
    p
}

fn service(store: Arc<dyn AnalyticsStore>, clock: &ManualClock) -> AnalyticsService {
    AnalyticsService::with_buffer(
        store,
        BufferConfig {
            capacity: 100_000,
            batch: 5_000,
            interval: std::time::Duration::from_secs(3600),
        },
    )
    .with_clock(clock.shared())
}

/// Builds the activity and, beside it, the figures it must give.
struct Script {
    clock: ManualClock,
    envelopes: Vec<EventEnvelope>,
    /// Client batches, with who sent them and when.
    batches: Vec<(Option<Principal>, Timestamp, Vec<ClientEvent>)>,
    /// Day offset -> accounts active that day.
    active: BTreeMap<i64, BTreeSet<UserId>>,
    registered: BTreeMap<i64, BTreeSet<UserId>>,
    posts: BTreeMap<i64, u64>,
    sessions: BTreeMap<i64, u64>,
    next_client_id: u64,
}

impl Script {
    fn new() -> Self {
        Self {
            clock: ManualClock::new(base()),
            envelopes: Vec::new(),
            batches: Vec::new(),
            active: BTreeMap::new(),
            registered: BTreeMap::new(),
            posts: BTreeMap::new(),
            sessions: BTreeMap::new(),
            next_client_id: 0,
        }
    }

    fn offset(at: Timestamp) -> i64 {
        (at - base()).num_days()
    }

    fn log(&mut self, kind: &str, at: Timestamp, payload: Vec<u8>, actor: UserId) {
        self.envelopes
            .push(EventEnvelope::new(kind, actor.to_string(), at, payload));
        self.active
            .entry(Self::offset(at))
            .or_default()
            .insert(actor);
    }

    fn register(&mut self, u: UserId, at: Timestamp) {
        let p = identity::UserRegistered {
            user_id: u.to_string(),
            ..Default::default()
        };
        self.log("user.registered", at, p.encode_to_vec(), u);
        self.registered
            .entry(Self::offset(at))
            .or_default()
            .insert(u);
    }

    fn session(&mut self, u: UserId, at: Timestamp) {
        let p = identity::SessionCreated {
            session_id: SessionId::new().to_string(),
            user_id: u.to_string(),
            ..Default::default()
        };
        self.log("session.created", at, p.encode_to_vec(), u);
        *self.sessions.entry(Self::offset(at)).or_default() += 1;
    }

    fn post(&mut self, author: UserId, id: &str, at: Timestamp, reply_to: Option<(&str, UserId)>) {
        let p = content::PostCreated {
            post_id: id.into(),
            author_id: author.to_string(),
            reply_to_id: reply_to.map(|r| r.0.to_owned()).unwrap_or_default(),
            reply_to_author_id: reply_to.map(|r| r.1.to_string()).unwrap_or_default(),
            ..Default::default()
        };
        self.log("post.created", at, p.encode_to_vec(), author);
        *self.posts.entry(Self::offset(at)).or_default() += 1;
    }

    fn like(&mut self, u: UserId, post: &str, author: UserId, at: Timestamp, undo: bool) {
        let p = content::LikeChanged {
            post_id: post.into(),
            post_author_id: author.to_string(),
            user_id: u.to_string(),
            ..Default::default()
        };
        let kind = if undo { "like.removed" } else { "like.created" };
        self.log(kind, at, p.encode_to_vec(), u);
    }

    fn repost(&mut self, u: UserId, post: &str, author: UserId, at: Timestamp) {
        let p = social::RepostChanged {
            user_id: u.to_string(),
            post_id: post.into(),
            author_id: author.to_string(),
            ..Default::default()
        };
        self.log("repost.created", at, p.encode_to_vec(), u);
    }

    fn follow(&mut self, u: UserId, followee: UserId, at: Timestamp, undo: bool) {
        let (kind, payload) = match undo {
            false => (
                "follow.created",
                graph::FollowCreated {
                    follower_id: u.to_string(),
                    followee_id: followee.to_string(),
                }
                .encode_to_vec(),
            ),
            true => (
                "follow.removed",
                graph::FollowRemoved {
                    follower_id: u.to_string(),
                    followee_id: followee.to_string(),
                    ..Default::default()
                }
                .encode_to_vec(),
            ),
        };
        self.log(kind, at, payload, u);
    }

    /// A client impression, signed in (`viewer`) or not (`anonymous`).
    fn impression(
        &mut self,
        viewer: Option<UserId>,
        anonymous: Option<&str>,
        post: &str,
        at: Timestamp,
    ) {
        self.next_client_id += 1;
        let e = ClientEvent {
            id: format!("imp-{}", self.next_client_id),
            kind: EventKind::Impression,
            post_id: post.into(),
            at: Some(at),
            anonymous_id: anonymous.map(str::to_owned),
        };
        if let Some(v) = viewer {
            self.active.entry(Self::offset(at)).or_default().insert(v);
        }
        self.batches.push((viewer.map(principal), at, vec![e]));
    }

    /// Feeds everything to `analytics` twice (a redelivered log, replayed batches).
    async fn deliver(&self, analytics: &AnalyticsService) {
        for _ in 0..2 {
            analytics.ingest(&self.envelopes).await.unwrap();
            for (p, at, batch) in &self.batches {
                self.clock.set(*at);
                analytics.record(p.as_ref(), batch.clone()).await.unwrap();
            }
            analytics.buffer().flush().await.unwrap();
        }
    }
}

mod cases {
    use super::*;

    /// Thirty accounts over a month: registrations on two days, sessions on a pattern of
    /// days, six posts, likes (one undone), reposts, a reply, follows (one undone),
    /// impressions signed in and out.
    #[allow(clippy::needless_range_loop)] // indices are the script's account numbers and hours
    pub async fn scripted_activity_gives_exact_figures(store: Arc<dyn AnalyticsStore>) {
        let mut s = Script::new();
        let users: Vec<UserId> = (0..30).map(|_| UserId::new()).collect();
        let at = |day: i64, hour: i64| base() + Duration::days(day) + Duration::hours(hour);
        for (i, u) in users.iter().enumerate() {
            s.register(*u, at(i as i64 % 2, 8));
        }
        for day in [0_i64, 1, 2, 7, 8, 30, 31] {
            for (i, u) in users.iter().enumerate() {
                if (i as i64 * 7 + day * 3) % 5 < 2 {
                    s.session(*u, at(day, 9) + Duration::minutes(i as i64));
                }
            }
        }
        let created = at(0, 10);
        for i in 0..5 {
            s.post(users[i], &format!("post-{i}"), created, None);
        }
        s.post(users[5], "reply-5", at(0, 11), Some(("post-0", users[0])));
        for i in 10..20 {
            s.like(
                users[i],
                "post-0",
                users[0],
                at(0, 10 + (i as i64 - 10)),
                false,
            );
        }
        s.like(users[10], "post-0", users[0], at(0, 22), true);
        for i in 20..23 {
            s.repost(users[i], "post-0", users[0], at(0, 13));
        }
        for i in 10..15 {
            s.follow(users[i], users[0], at(0, 12), false);
        }
        s.follow(users[10], users[0], at(1, 12), true);
        for (i, u) in users.iter().enumerate() {
            s.impression(Some(*u), None, "post-0", at(0, 10 + i as i64));
        }
        for a in 0..5 {
            for _ in 0..2 {
                s.impression(None, Some(&format!("device-{a}")), "post-0", at(0, 11));
            }
        }
        for u in &users[25..28] {
            s.impression(Some(*u), None, "post-1", at(0, 15));
        }

        let analytics = service(store, &s.clock);
        s.deliver(&analytics).await;

        // Operators: day by day, DAU/WAU/MAU, posts, sessions, retention.
        let stats = analytics
            .admin_stats(Some(&admin()), Some(date(31)), 32, Some(date(0)))
            .await
            .unwrap();
        assert_eq!(stats.daily.len(), 32);
        for (offset, d) in stats.daily.iter().enumerate() {
            let offset = offset as i64;
            assert_eq!(d.day, date(offset));
            let expected = s.active.get(&offset).map_or(0, |a| a.len() as u64);
            assert_eq!(d.active_users, expected, "DAU of day {offset}");
            assert_eq!(
                d.posts,
                s.posts.get(&offset).copied().unwrap_or(0),
                "posts of day {offset}"
            );
            assert_eq!(
                d.sessions,
                s.sessions.get(&offset).copied().unwrap_or(0),
                "sessions of day {offset}"
            );
        }
        let union = |from: i64, to: i64| {
            s.active
                .range(from..=to)
                .flat_map(|(_, a)| a.iter().copied())
                .collect::<BTreeSet<_>>()
                .len() as u64
        };
        assert_eq!(stats.dau, s.active[&31].len() as u64);
        assert_eq!(stats.wau, union(25, 31));
        assert_eq!(stats.mau, union(2, 31));
        let cohort = &s.registered[&0];
        let retained = |day: i64| cohort.intersection(&s.active[&day]).count() as u64;
        assert_eq!(stats.retention.cohort, date(0));
        assert_eq!(stats.retention.size, 15);
        assert_eq!(
            (stats.retention.d1, stats.retention.d7, stats.retention.d30),
            (retained(1), retained(7), retained(30))
        );
        assert!(stats.retention.d1 > 0 && stats.retention.d7 > 0);

        // The author of post-0: 30 signed-in viewers and 5 devices (10 impressions).
        let author = principal(users[0]);
        let p = analytics
            .post_insights(Some(&author), "post-0")
            .await
            .unwrap();
        assert!(p.exact);
        assert_eq!(p.impressions, Figure::exact(40));
        assert_eq!(p.reach, Figure::exact(35));
        assert_eq!(p.likes, Figure::exact(9));
        assert_eq!(p.replies, Figure::exact(1));
        assert_eq!(p.reposts, Figure::exact(3));
        assert_eq!(p.engagement_rate, Some(13.0 / 40.0));
        assert_eq!(p.series.len(), 48);
        let mut impressions = [0_u64; 48];
        let mut engagements = [0_i64; 48];
        for i in 0..30 {
            impressions[i] += 1;
        }
        impressions[1] += 10;
        for h in 0..10 {
            engagements[h] += 1; // likes
        }
        engagements[12] -= 1; // the unlike
        engagements[3] += 3; // reposts
        engagements[1] += 1; // the reply
        for (h, point) in p.series.iter().enumerate() {
            assert_eq!(point.hour, h as u32);
            assert_eq!(
                (point.impressions, point.engagements),
                (impressions[h], engagements[h]),
                "hour {h}"
            );
        }

        // post-1: three viewers, under k = 10: ranges only.
        let p = analytics
            .post_insights(Some(&principal(users[1])), "post-1")
            .await
            .unwrap();
        assert!(!p.exact);
        assert_eq!(p.reach, Figure { min: 0, max: 9 });
        assert_eq!(p.impressions, Figure { min: 0, max: 9 });
        assert!(p.series.is_empty() && p.engagement_rate.is_none());

        // Follower growth and top posts of users[0], over the first two days.
        s.clock.set(at(1, 20));
        let me = analytics.account_insights(Some(&author), 2).await.unwrap();
        let growth: Vec<(NaiveDate, u64, u64)> = me
            .followers
            .iter()
            .map(|f| (f.day, f.gained, f.lost))
            .collect();
        assert_eq!(growth, [(date(0), 5, 0), (date(1), 0, 1)]);
        assert_eq!(me.top_posts.len(), 1);
        assert_eq!(me.top_posts[0].post_id, "post-0");
        assert_eq!(me.top_posts[0].impressions, Figure::exact(40));
        assert_eq!(me.top_posts[0].engagements, Figure::exact(13));
    }

    /// Someone else's post is NotFound like a missing one; signed out reads nothing;
    /// global figures need the admin scope.
    pub async fn insights_are_the_authors_only(store: Arc<dyn AnalyticsStore>) {
        let mut s = Script::new();
        let (ann, bob) = (UserId::new(), UserId::new());
        s.post(ann, "ann-1", base() + Duration::hours(1), None);
        let analytics = service(store, &s.clock);
        s.deliver(&analytics).await;
        let kind = |r: nova_core::Result<_>| {
            r.map(|_: nova_analytics::PostInsights| ())
                .unwrap_err()
                .kind()
                .clone()
        };
        assert!(
            analytics
                .post_insights(Some(&principal(ann)), "ann-1")
                .await
                .is_ok()
        );
        assert_eq!(
            kind(
                analytics
                    .post_insights(Some(&principal(bob)), "ann-1")
                    .await
            ),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(
                analytics
                    .post_insights(Some(&principal(bob)), "missing")
                    .await
            ),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(analytics.post_insights(None, "ann-1").await),
            ErrorKind::Unauthenticated
        );
        assert!(
            analytics
                .post_insights(Some(&admin()), "ann-1")
                .await
                .is_ok()
        );
        let err = analytics.account_insights(None, 0).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unauthenticated);
        let err = analytics
            .admin_stats(Some(&principal(ann)), None, 0, None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::PermissionDenied);
        let err = analytics
            .admin_stats(Some(&admin()), None, 91, None)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("days"));
    }

    /// A deleted account's events stay counted under a pseudonym: its posts are nobody's,
    /// its follower history is gone, the day's DAU is unchanged.
    pub async fn deleted_accounts_are_forgotten(store: Arc<dyn AnalyticsStore>) {
        let mut s = Script::new();
        let (ann, bob) = (UserId::new(), UserId::new());
        let at = base() + Duration::hours(2);
        s.post(ann, "ann-1", at, None);
        s.follow(bob, ann, at, false);
        s.follow(ann, bob, at, false);
        let analytics = service(store.clone(), &s.clock);
        s.deliver(&analytics).await;
        let day = nova_analytics::model::day_of(at);
        assert_eq!(store.daily_active(day, day).await.unwrap(), [(day, 2)]);
        assert_eq!(
            store
                .follower_days(&ann.to_string(), day, day)
                .await
                .unwrap(),
            [(day, 1, 0)]
        );

        let deleted = user::AccountStateChanged {
            user_id: ann.to_string(),
            state: "deleted".into(),
            ..Default::default()
        };
        let event = EventEnvelope::new(
            "user.state_changed",
            ann.to_string(),
            at,
            deleted.encode_to_vec(),
        );
        analytics.ingest(&[event]).await.unwrap();
        analytics.buffer().flush().await.unwrap();

        let err = analytics
            .post_insights(Some(&principal(ann)), "ann-1")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::NotFound);
        assert!(
            store
                .follower_days(&ann.to_string(), day, day)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .top_posts(&ann.to_string(), 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Bob still gained a follower; the day still had two active accounts.
        assert_eq!(
            store
                .follower_days(&bob.to_string(), day, day)
                .await
                .unwrap(),
            [(day, 1, 0)]
        );
        assert_eq!(store.daily_active(day, day).await.unwrap(), [(day, 2)]);
        assert_eq!(store.active_between(day, day).await.unwrap(), 2);
    }

    /// Ids are stored once, within a batch and across batches; expiry drops the raw
    /// events of old days (their ids with them), not the recent ones.
    pub async fn ids_count_once_and_old_days_expire(store: Arc<dyn AnalyticsStore>) {
        let event = |id: &str, day: i64| Event {
            id: id.into(),
            at: base() + Duration::days(day) + Duration::hours(3),
            kind: EventKind::Session,
            actor: UserId::new().to_string(),
            post_id: String::new(),
            target: String::new(),
            sign: 1,
        };
        let old = vec![event("o1", 0), event("o2", 0), event("o1", 0)];
        let recent = vec![event("r1", 40), event("r2", 41)];
        assert_eq!(store.insert(&old).await.unwrap(), 2);
        assert_eq!(store.insert(&recent).await.unwrap(), 2);
        assert_eq!(store.insert(&old).await.unwrap(), 0);
        assert_eq!(store.insert(&recent).await.unwrap(), 0);
        let d0 = nova_analytics::model::day_of(base());
        store.expire(d0 + 40).await.unwrap();
        assert_eq!(store.insert(&recent).await.unwrap(), 0);
        assert_eq!(store.insert(&old).await.unwrap(), 2);
    }
}

mod suite {
    use super::*;

    fn sql(db: nova_db::Db) -> Arc<dyn AnalyticsStore> {
        Arc::new(SqlAnalyticsStore::new(db))
    }

    pub async fn scripted_activity_gives_exact_figures(db: nova_db::Db) {
        cases::scripted_activity_gives_exact_figures(sql(db)).await;
    }

    pub async fn insights_are_the_authors_only(db: nova_db::Db) {
        cases::insights_are_the_authors_only(sql(db)).await;
    }

    pub async fn deleted_accounts_are_forgotten(db: nova_db::Db) {
        cases::deleted_accounts_are_forgotten(sql(db)).await;
    }

    pub async fn ids_count_once_and_old_days_expire(db: nova_db::Db) {
        cases::ids_count_once_and_old_days_expire(sql(db)).await;
    }
}

nova_testkit::db_conformance_suite!(suite:
    scripted_activity_gives_exact_figures,
    insights_are_the_authors_only,
    deleted_accounts_are_forgotten,
    ids_count_once_and_old_days_expire,
);

#[cfg(feature = "clickhouse")]
mod clickhouse {
    use super::*;
    use nova_analytics::store::ClickHouseAnalyticsStore;

    /// A fresh database on the server of `NOVA_TEST_CLICKHOUSE_URL`, dropped afterwards.
    async fn with_database<F, Fut>(test: F)
    where
        F: FnOnce(Arc<dyn AnalyticsStore>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Some(url) = nova_testkit::backend_url("NOVA_TEST_CLICKHOUSE_URL") else {
            return;
        };
        let name = format!("nova_test_{}", uuid::Uuid::now_v7().simple());
        let store = ClickHouseAnalyticsStore::connect(&url, &name)
            .await
            .unwrap_or_else(|e| panic!("cannot reach ClickHouse at {url}: {e}"));
        test(Arc::new(store)).await;
        ::clickhouse::Client::default()
            .with_url(&url)
            .with_validation(false)
            .query(&format!("DROP DATABASE {name}"))
            .execute()
            .await
            .unwrap();
    }

    macro_rules! on_clickhouse {
        ($($case:ident),+ $(,)?) => {$(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                with_database(cases::$case).await;
            }
        )+};
    }

    on_clickhouse!(
        scripted_activity_gives_exact_figures,
        insights_are_the_authors_only,
        deleted_accounts_are_forgotten,
        ids_count_once_and_old_days_expire,
    );

    #[tokio::test]
    async fn unreachable_server_is_unavailable() {
        let err = ClickHouseAnalyticsStore::connect("http://127.0.0.1:1", "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
    }
}
