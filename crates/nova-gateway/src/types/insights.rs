//! Analytics for the caller: a post's insights (its author only), the account's
//! follower growth and top posts, and the operators' global figures (`admin` scope).

use std::sync::Arc;

use async_graphql::{Context, ID, SimpleObject};
use chrono::NaiveDate;
use nova_analytics::AnalyticsApi;
use nova_core::{Error, ErrorKind, Principal};

use crate::context::{RequestCtx, caller};
use crate::error::{GqlResult, IntoGql};

/// A figure: exact when `min == max`, a range when the post was seen by too few
/// accounts to show exact numbers (k-anonymity).
#[derive(SimpleObject, Clone, Copy)]
pub(crate) struct InsightFigure {
    /// Lowest possible value.
    pub min: u64,
    /// Highest possible value.
    pub max: u64,
}

impl From<nova_analytics::Figure> for InsightFigure {
    fn from(f: nova_analytics::Figure) -> Self {
        Self {
            min: f.min,
            max: f.max,
        }
    }
}

/// One hour of a post's first 48.
#[derive(SimpleObject)]
pub(crate) struct InsightHour {
    /// Hours since the post was created.
    pub hour: u32,
    /// Impressions that hour.
    pub impressions: u64,
    /// Likes + replies + reposts that hour (net of undos).
    pub engagements: i64,
}

/// How a post does, for its author.
#[derive(SimpleObject)]
pub(crate) struct PostInsights {
    /// Whether the figures are exact (else ranges).
    pub exact: bool,
    /// Impressions.
    pub impressions: InsightFigure,
    /// Distinct viewers.
    pub reach: InsightFigure,
    /// Likes.
    pub likes: InsightFigure,
    /// Replies.
    pub replies: InsightFigure,
    /// Reposts.
    pub reposts: InsightFigure,
    /// (likes + replies + reposts) / impressions; null when ranged or unseen.
    pub engagement_rate: Option<f64>,
    /// The first 48 hours (empty when ranged).
    pub series: Vec<InsightHour>,
}

impl From<nova_analytics::PostInsights> for PostInsights {
    fn from(i: nova_analytics::PostInsights) -> Self {
        Self {
            exact: i.exact,
            impressions: i.impressions.into(),
            reach: i.reach.into(),
            likes: i.likes.into(),
            replies: i.replies.into(),
            reposts: i.reposts.into(),
            engagement_rate: i.engagement_rate,
            series: i
                .series
                .into_iter()
                .map(|h| InsightHour {
                    hour: h.hour,
                    impressions: h.impressions,
                    engagements: h.engagements,
                })
                .collect(),
        }
    }
}

/// Followers gained and lost on one day.
#[derive(SimpleObject)]
pub(crate) struct FollowerDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// New followers.
    pub gained: u64,
    /// Followers lost.
    pub lost: u64,
}

/// One of the caller's most engaged posts.
#[derive(SimpleObject)]
pub(crate) struct InsightTopPost {
    /// The post id.
    pub post_id: ID,
    /// Impressions.
    pub impressions: InsightFigure,
    /// Likes + replies + reposts.
    pub engagements: InsightFigure,
}

/// The caller's account over a period.
#[derive(SimpleObject)]
pub(crate) struct AccountInsights {
    /// Follower growth, oldest day first.
    pub followers: Vec<FollowerDay>,
    /// The most engaged posts created in the period.
    pub top_posts: Vec<InsightTopPost>,
}

/// One day of global figures.
#[derive(SimpleObject)]
pub(crate) struct DayStats {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Distinct active accounts.
    pub active_users: u64,
    /// Posts created.
    pub posts: u64,
    /// Sessions opened.
    pub sessions: u64,
}

/// New-user retention of one registration day.
#[derive(SimpleObject)]
pub(crate) struct RetentionCohort {
    /// The registration day.
    pub cohort: String,
    /// Accounts registered that day.
    pub size: u64,
    /// Of them, active the next day.
    pub d1: u64,
    /// Active 7 days later.
    pub d7: u64,
    /// Active 30 days later.
    pub d30: u64,
}

/// Global figures for operators.
#[derive(SimpleObject)]
pub(crate) struct AdminStats {
    /// The last day covered.
    pub day: String,
    /// Daily active accounts that day.
    pub dau: u64,
    /// Active in the 7 days ending that day.
    pub wau: u64,
    /// Active in the 30 days ending that day.
    pub mau: u64,
    /// Day by day, oldest first.
    pub daily: Vec<DayStats>,
    /// Retention of the cohort asked for.
    pub retention: RetentionCohort,
}

fn text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The analytics domain, or `UNAVAILABLE` where this gateway has none.
fn analytics_api(call: &RequestCtx) -> GqlResult<Arc<dyn AnalyticsApi>> {
    call.domains
        .analytics
        .clone()
        .ok_or_else(|| Error::unavailable("analytics is not served here"))
        .gql()
}

fn days(days: Option<i32>) -> GqlResult<u32> {
    u32::try_from(days.unwrap_or(0))
        .map_err(|_| Error::invalid("days", "must be 1 to 90"))
        .gql()
}

fn date(value: Option<String>, field: &str) -> GqlResult<Option<NaiveDate>> {
    value
        .map(|v| {
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map_err(|_| Error::invalid(field, "must be a date YYYY-MM-DD"))
        })
        .transpose()
        .gql()
}

/// `Post.insights`: for the post's author (and admins) only; null for anyone else, when
/// signed out, or where analytics is not served.
pub(crate) async fn post_insights(
    ctx: &Context<'_>,
    post_id: &str,
) -> GqlResult<Option<PostInsights>> {
    let call = caller(ctx)?;
    let (Some(api), Some(p)) = (call.domains.analytics.clone(), call.principal.as_ref()) else {
        return Ok(None);
    };
    match api.post_insights(Some(p), post_id).await {
        Ok(i) => Ok(Some(i.into())),
        Err(e) if e.kind() == &ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).gql(),
    }
}

/// `viewer.insights`.
pub(crate) async fn account_insights(
    ctx: &Context<'_>,
    me: &Principal,
    period: Option<i32>,
) -> GqlResult<AccountInsights> {
    let call = caller(ctx)?;
    let a = analytics_api(call)?
        .account_insights(Some(me), days(period)?)
        .await
        .gql()?;
    Ok(AccountInsights {
        followers: a
            .followers
            .into_iter()
            .map(|f| FollowerDay {
                day: text(f.day),
                gained: f.gained,
                lost: f.lost,
            })
            .collect(),
        top_posts: a
            .top_posts
            .into_iter()
            .map(|t| InsightTopPost {
                post_id: ID(t.post_id),
                impressions: t.impressions.into(),
                engagements: t.engagements.into(),
            })
            .collect(),
    })
}

/// `adminStats`.
pub(crate) async fn admin_stats(
    ctx: &Context<'_>,
    day: Option<String>,
    period: Option<i32>,
    cohort: Option<String>,
) -> GqlResult<AdminStats> {
    let call = caller(ctx)?;
    let s = analytics_api(call)?
        .admin_stats(
            Some(call.require()?),
            date(day, "day")?,
            days(period)?,
            date(cohort, "cohort")?,
        )
        .await
        .gql()?;
    Ok(AdminStats {
        day: text(s.day),
        dau: s.dau,
        wau: s.wau,
        mau: s.mau,
        daily: s
            .daily
            .into_iter()
            .map(|d| DayStats {
                day: text(d.day),
                active_users: d.active_users,
                posts: d.posts,
                sessions: d.sessions,
            })
            .collect(),
        retention: RetentionCohort {
            cohort: text(s.retention.cohort),
            size: s.retention.size,
            d1: s.retention.d1,
            d7: s.retention.d7,
            d30: s.retention.d30,
        },
    })
}
