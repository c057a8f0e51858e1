//! [`AnalyticsService`]: validation, authorization and k-anonymity over the
//! [`AnalyticsStore`], with writes going through the [`Buffer`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use nova_core::{Error, ErrorKind, Principal, Result, SharedClock, SystemClock, UserId};
use nova_events::{EventEnvelope, EventHandler};
use nova_kv::{Quota, RateLimiter};

use crate::api::AnalyticsApi;
use crate::buffer::{Buffer, BufferConfig};
use crate::events::{Fact, fact};
use crate::model::{
    ANONYMOUS, AccountInsights, AdminStats, ClientEvent, DEFAULT_K_ANONYMITY, DayFigures, Event,
    FORGOTTEN, Figure, FollowerDay, HourPoint, MAX_BATCH, PostInsights, Retention, SERIES_HOURS,
    TopPost, date_of, day_number, day_of,
};
use crate::store::AnalyticsStore;

/// The consumer (group) name of the analytics event handler.
pub const CONSUMER: &str = "analytics";

/// Client batches per caller: 120 a minute.
pub const DEFAULT_QUOTA: Quota = Quota::per_minute(120);

/// Longest period a query covers (days).
pub const MAX_DAYS: u32 = 90;

/// How far a client's `at` may lie from the server's clock before it is replaced by the
/// time of receipt (clients' clocks drift; the past is bounded so rollups stay fresh).
const CLIENT_SKEW: chrono::Duration = chrono::Duration::hours(24);

/// The analytics domain.
pub struct AnalyticsService {
    store: Arc<dyn AnalyticsStore>,
    buffer: Buffer,
    limiter: Option<(Arc<dyn RateLimiter>, Quota)>,
    clock: SharedClock,
    k: u64,
}

impl std::fmt::Debug for AnalyticsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsService")
            .field("k", &self.k)
            .finish_non_exhaustive()
    }
}

impl AnalyticsService {
    /// Over `store`, writing through a buffer with the default flushing (call on a Tokio
    /// runtime: it starts the flusher).
    pub fn new(store: Arc<dyn AnalyticsStore>) -> Self {
        Self::with_buffer(store, BufferConfig::default())
    }

    /// Over `store`, writing through a buffer flushing as `config` says.
    pub fn with_buffer(store: Arc<dyn AnalyticsStore>, config: BufferConfig) -> Self {
        Self {
            buffer: Buffer::start(store.clone(), config),
            store,
            limiter: None,
            clock: SystemClock::shared(),
            k: DEFAULT_K_ANONYMITY,
        }
    }

    /// Rate-limits client batches per caller.
    pub fn with_rate_limit(mut self, limiter: Arc<dyn RateLimiter>, quota: Quota) -> Self {
        self.limiter = Some((limiter, quota));
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the k-anonymity threshold (unique viewers below which figures are
    /// ranges; at least 1).
    pub fn with_k_anonymity(mut self, k: u64) -> Self {
        self.k = k.max(1);
        self
    }

    /// The write buffer (flush, stats, shutdown).
    pub fn buffer(&self) -> &Buffer {
        &self.buffer
    }

    /// Records event-log events: queued (idempotent by event id); a deleted account is
    /// forgotten at once (after what is queued is written).
    pub async fn ingest(&self, envelopes: &[EventEnvelope]) -> Result<()> {
        let mut events = Vec::new();
        for envelope in envelopes {
            match fact(envelope) {
                Ok(Fact::Record(e)) => events.extend(e),
                Ok(Fact::Forget(user)) => {
                    self.buffer.push(std::mem::take(&mut events)).await?;
                    self.forget(user).await?;
                }
                // A malformed event would fail forever: logged and skipped.
                Err(error) => {
                    tracing::error!(event = %envelope.id, %error, "event not recorded by analytics");
                }
            }
        }
        self.buffer.push(events).await
    }

    /// Replaces a deleted account by a random pseudonym everywhere (its activity still
    /// counts, it is no longer theirs).
    pub async fn forget(&self, user: UserId) -> Result<()> {
        self.buffer.flush().await?;
        let pseudonym = format!("{FORGOTTEN}{}", uuid::Uuid::now_v7().simple());
        self.store.forget(&user.to_string(), &pseudonym).await?;
        Ok(())
    }

    /// Drops raw events older than `days` days (the rollups stay).
    pub async fn expire(&self, days: u32) -> Result<()> {
        let today = day_of(self.clock.now());
        self.store
            .expire(today - i32::try_from(days).unwrap_or(i32::MAX))
            .await
    }

    fn period(&self, days: u32) -> Result<i32> {
        match days {
            0 => Ok(30),
            1..=MAX_DAYS => Ok(days as i32),
            _ => Err(Error::invalid("days", format!("must be 1 to {MAX_DAYS}"))),
        }
    }

    fn figure(&self, n: i64, exact: bool) -> Figure {
        let n = u64::try_from(n).unwrap_or(0);
        match exact {
            true => Figure::exact(n),
            false => Figure::banded(n, self.k),
        }
    }
}

/// The signed-in caller (a user, not a service acting for nobody).
fn signed_in(principal: Option<&Principal>) -> Result<&Principal> {
    let p = principal.ok_or_else(|| Error::from_kind(ErrorKind::Unauthenticated))?;
    if p.user_id.as_uuid().is_nil() {
        return Err(Error::from_kind(ErrorKind::Unauthenticated));
    }
    p.require_scope("read")
        .or_else(|_| p.require_scope("admin"))?;
    Ok(p)
}

#[async_trait]
impl AnalyticsApi for AnalyticsService {
    async fn record(&self, principal: Option<&Principal>, events: Vec<ClientEvent>) -> Result<u64> {
        if events.len() > MAX_BATCH {
            return Err(Error::invalid(
                "events",
                format!("at most {MAX_BATCH} events per batch"),
            ));
        }
        let user = principal
            .filter(|p| !p.user_id.as_uuid().is_nil())
            .map(|p| p.user_id.to_string());
        let now = self.clock.now();
        let mut stored = Vec::with_capacity(events.len());
        // Per account, per anonymous id, or one shared budget for signed-out clients
        // without one (an IP is never used).
        let key = user
            .clone()
            .or_else(|| events.iter().find_map(|e| e.anonymous_id.clone()))
            .unwrap_or_else(|| "anonymous".to_owned());
        for e in events {
            let actor = match (&user, &e.anonymous_id) {
                (Some(u), _) => u.clone(),
                (None, Some(anon)) => format!("{ANONYMOUS}{anon}"),
                (None, None) => format!("{ANONYMOUS}{}", e.id),
            };
            let at =
                e.at.filter(|at| (*at - now).abs() <= CLIENT_SKEW)
                    .unwrap_or(now);
            stored.push(Event {
                id: format!("c:{}:{}", user.as_deref().unwrap_or(""), e.id),
                at,
                kind: e.kind,
                actor,
                post_id: e.post_id,
                target: String::new(),
                sign: 1,
            });
        }
        if let Some((limiter, quota)) = &self.limiter {
            let decision = limiter.check(&format!("analytics:{key}"), quota).await?;
            if !decision.allowed {
                return Err(Error::from_kind(ErrorKind::RateLimited));
            }
        }
        let n = stored.len() as u64;
        self.buffer.push(stored).await?;
        Ok(n)
    }

    async fn post_insights(
        &self,
        principal: Option<&Principal>,
        post_id: &str,
    ) -> Result<PostInsights> {
        let p = signed_in(principal)?;
        let (author, created_hour) = self
            .store
            .post(post_id)
            .await?
            .ok_or_else(Error::not_found)?;
        if author != p.user_id.to_string() && !p.has_scope("admin") {
            return Err(Error::not_found());
        }
        let t = self.store.post_totals(post_id).await?;
        let exact = t.reach >= self.k;
        let engagements = t.likes + t.replies + t.reposts;
        let mut series = Vec::new();
        if exact {
            let points = self
                .store
                .post_series(post_id, created_hour, created_hour + SERIES_HOURS)
                .await?;
            series = (0..SERIES_HOURS)
                .map(|h| {
                    let found = points.iter().find(|(hour, _, _)| *hour == created_hour + h);
                    HourPoint {
                        hour: h as u32,
                        impressions: found.map_or(0, |f| f.1),
                        engagements: found.map_or(0, |f| f.2),
                    }
                })
                .collect();
        }
        Ok(PostInsights {
            post_id: post_id.to_owned(),
            exact,
            impressions: self.figure(t.impressions as i64, exact),
            reach: self.figure(t.reach as i64, exact),
            likes: self.figure(t.likes, exact),
            replies: self.figure(t.replies, exact),
            reposts: self.figure(t.reposts, exact),
            engagement_rate: (exact && t.impressions > 0)
                .then(|| engagements as f64 / t.impressions as f64),
            series,
        })
    }

    async fn account_insights(
        &self,
        principal: Option<&Principal>,
        days: u32,
    ) -> Result<AccountInsights> {
        let p = signed_in(principal)?;
        let days = self.period(days)?;
        let me = p.user_id.to_string();
        let today = day_of(self.clock.now());
        let from = today - days + 1;
        let found = self.store.follower_days(&me, from, today).await?;
        let followers = (from..=today)
            .map(|d| {
                let row = found.iter().find(|(day, _, _)| *day == d);
                FollowerDay {
                    day: date_of(d),
                    gained: row.map_or(0, |r| r.1),
                    lost: row.map_or(0, |r| r.2),
                }
            })
            .collect();
        let since = i64::from(from) * 24;
        let top_posts = self
            .store
            .top_posts(&me, since, 10)
            .await?
            .into_iter()
            .map(|r| {
                let exact = r.reach >= self.k;
                TopPost {
                    post_id: r.post_id,
                    impressions: self.figure(r.impressions as i64, exact),
                    engagements: self.figure(r.engagements, exact),
                }
            })
            .collect();
        Ok(AccountInsights {
            followers,
            top_posts,
        })
    }

    async fn admin_stats(
        &self,
        principal: Option<&Principal>,
        day: Option<NaiveDate>,
        days: u32,
        cohort: Option<NaiveDate>,
    ) -> Result<AdminStats> {
        let p = signed_in(principal)?;
        if !p.has_scope("admin") {
            return Err(Error::from_kind(ErrorKind::PermissionDenied));
        }
        let days = self.period(days)?;
        let end = day.map_or_else(|| day_of(self.clock.now()), day_number);
        let from = end - days + 1;
        let active = self.store.daily_active(from, end).await?;
        let posts = self.store.daily_count("post", from, end).await?;
        let sessions = self.store.daily_count("session", from, end).await?;
        let on = |rows: &[(i32, u64)], d: i32| rows.iter().find(|r| r.0 == d).map_or(0, |r| r.1);
        let daily = (from..=end)
            .map(|d| DayFigures {
                day: date_of(d),
                active_users: on(&active, d),
                posts: on(&posts, d),
                sessions: on(&sessions, d),
            })
            .collect();
        let cohort = cohort.map_or(end - 30, day_number);
        let (size, retained) = self.store.retention(cohort, &[1, 7, 30]).await?;
        let at = |i: usize| retained.get(i).copied().unwrap_or(0);
        Ok(AdminStats {
            day: date_of(end),
            dau: on(&active, end),
            wau: self.store.active_between(end - 6, end).await?,
            mau: self.store.active_between(end - 29, end).await?,
            daily,
            retention: Retention {
                cohort: date_of(cohort),
                size,
                d1: at(0),
                d7: at(1),
                d30: at(2),
            },
        })
    }
}

/// The event consumer: every delivered event through [`AnalyticsService::ingest`].
pub struct AnalyticsEvents(pub Arc<AnalyticsService>);

#[async_trait]
impl EventHandler for AnalyticsEvents {
    async fn handle(&self, event: &EventEnvelope) -> Result<()> {
        self.0.ingest(std::slice::from_ref(event)).await
    }
}
