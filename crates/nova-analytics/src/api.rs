//! The analytics API.

use async_trait::async_trait;
use chrono::NaiveDate;
use nova_core::{Principal, Result};

use crate::model::{AccountInsights, AdminStats, ClientEvent, PostInsights};

/// Client events in, figures out. Every read is authorized here: an author sees their
/// own posts and account (someone else's post answers `NotFound`, like a missing one),
/// the `admin` scope sees global figures, and nobody signed out reads anything.
#[async_trait]
pub trait AnalyticsApi: Send + Sync {
    /// Records a batch of client impressions and views (at most
    /// [`MAX_BATCH`](crate::model::MAX_BATCH)), signed in or not; rate-limited per
    /// caller. Replayed ids count once. Answers how many were accepted.
    async fn record(&self, principal: Option<&Principal>, events: Vec<ClientEvent>) -> Result<u64>;
    /// The caller's own post's figures.
    async fn post_insights(
        &self,
        principal: Option<&Principal>,
        post_id: &str,
    ) -> Result<PostInsights>;
    /// The caller's follower growth and top posts over the last `days` days (1..=90,
    /// 0 means 30).
    async fn account_insights(
        &self,
        principal: Option<&Principal>,
        days: u32,
    ) -> Result<AccountInsights>;
    /// Global figures for the `days` days (1..=90, 0 means 30) ending on `day` (default
    /// today), with the retention of registration day `cohort` (default `day` − 30).
    async fn admin_stats(
        &self,
        principal: Option<&Principal>,
        day: Option<NaiveDate>,
        days: u32,
        cohort: Option<NaiveDate>,
    ) -> Result<AdminStats>;
}
