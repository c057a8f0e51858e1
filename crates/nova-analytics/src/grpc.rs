//! gRPC adapters for [`AnalyticsApi`]: [`AnalyticsGrpcServer`] serves any implementation
//! as `nova.analytics.v1.AnalyticsService`, and [`AnalyticsGrpcClient`] implements
//! [`AnalyticsApi`] over the network.
//!
//! Calls carry the caller's access token (`authorization: Bearer`, plus
//! `nova-session-id`); the server acts for the principal *it* verified. `Record` may be
//! sent without one (anonymous impressions).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use nova_auth::{Authenticator, authenticate_metadata_optional, bearer_request};
use nova_core::channel::ServiceChannel;
use nova_core::error::{GrpcResult, grpc_answer};
use nova_core::{Error, Principal, Result};
use nova_proto::nova::analytics::v1 as pb;
use pb::analytics_service_client::AnalyticsServiceClient;
use pb::analytics_service_server::{
    AnalyticsService as GrpcAnalyticsService, AnalyticsServiceServer,
};
use tonic::{Request, Response};

use crate::api::AnalyticsApi;
use crate::model::{
    AccountInsights, AdminStats, ClientEvent, DayFigures, Figure, FollowerDay, HourPoint,
    PostInsights, Retention, TopPost,
};

fn malformed(field: &str) -> Error {
    Error::internal(format!(
        "analytics gRPC response: missing or malformed `{field}`"
    ))
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn day_from(text: &str, field: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| malformed(field))
}

fn optional_day(text: &str, field: &str) -> Result<Option<NaiveDate>> {
    match text {
        "" => Ok(None),
        t => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Error::invalid(field, "must be a date YYYY-MM-DD")),
    }
}

fn figure_pb(f: Figure) -> Option<pb::Figure> {
    Some(pb::Figure {
        min: f.min,
        max: f.max,
    })
}

fn figure(f: Option<pb::Figure>, field: &str) -> Result<Figure> {
    f.map(|f| Figure {
        min: f.min,
        max: f.max,
    })
    .ok_or_else(|| malformed(field))
}

/// A client event from the wire (validated like a REST batch element).
fn event_from_pb(index: usize, e: pb::ClientEvent) -> Result<ClientEvent> {
    let mut json = serde_json::json!({ "id": e.id, "type": e.r#type, "post_id": e.post_id });
    if e.at_micros != 0 {
        let at = chrono::DateTime::from_timestamp_micros(e.at_micros)
            .ok_or_else(|| Error::invalid(format!("events[{index}].at_micros"), "out of range"))?;
        json["at"] = at.to_rfc3339().into();
    }
    if !e.anonymous_id.is_empty() {
        json["anonymous_id"] = e.anonymous_id.into();
    }
    ClientEvent::from_json(index, &json)
}

fn event_to_pb(e: ClientEvent) -> pb::ClientEvent {
    pb::ClientEvent {
        id: e.id,
        r#type: e.kind.as_str().to_owned(),
        post_id: e.post_id,
        at_micros: e.at.map_or(0, |t| t.timestamp_micros()),
        anonymous_id: e.anonymous_id.unwrap_or_default(),
    }
}

/// Serves an [`AnalyticsApi`] as `nova.analytics.v1.AnalyticsService`.
#[derive(Clone)]
pub struct AnalyticsGrpcServer {
    api: Arc<dyn AnalyticsApi>,
    auth: Arc<dyn Authenticator>,
}

impl AnalyticsGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn AnalyticsApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> AnalyticsServiceServer<Self> {
        AnalyticsServiceServer::new(self)
    }

    async fn principal<T>(&self, request: &Request<T>) -> Result<Option<Principal>> {
        authenticate_metadata_optional(self.auth.as_ref(), request.metadata()).await
    }
}

#[async_trait]
impl GrpcAnalyticsService for AnalyticsGrpcServer {
    async fn record(&self, request: Request<pb::RecordRequest>) -> GrpcResult<pb::RecordResponse> {
        grpc_answer(
            async {
                let p = self.principal(&request).await?;
                let events = request.into_inner().events;
                if events.len() > crate::model::MAX_BATCH {
                    return Err(Error::invalid("events", "at most 500 events per batch"));
                }
                let events = events
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| event_from_pb(i, e))
                    .collect::<Result<Vec<_>>>()?;
                let accepted = self.api.record(p.as_ref(), events).await?;
                Ok(pb::RecordResponse { accepted })
            }
            .await,
        )
    }

    async fn get_post_insights(
        &self,
        request: Request<pb::PostInsightsRequest>,
    ) -> GrpcResult<pb::PostInsights> {
        grpc_answer(
            async {
                let p = self.principal(&request).await?;
                let i = self
                    .api
                    .post_insights(p.as_ref(), &request.get_ref().post_id)
                    .await?;
                Ok(pb::PostInsights {
                    post_id: i.post_id,
                    exact: i.exact,
                    impressions: figure_pb(i.impressions),
                    reach: figure_pb(i.reach),
                    likes: figure_pb(i.likes),
                    replies: figure_pb(i.replies),
                    reposts: figure_pb(i.reposts),
                    engagement_rate: i.engagement_rate,
                    series: i
                        .series
                        .into_iter()
                        .map(|h| pb::HourPoint {
                            hour: h.hour,
                            impressions: h.impressions,
                            engagements: h.engagements,
                        })
                        .collect(),
                })
            }
            .await,
        )
    }

    async fn get_account_insights(
        &self,
        request: Request<pb::AccountInsightsRequest>,
    ) -> GrpcResult<pb::AccountInsights> {
        grpc_answer(
            async {
                let p = self.principal(&request).await?;
                let a = self
                    .api
                    .account_insights(p.as_ref(), request.get_ref().days)
                    .await?;
                Ok(pb::AccountInsights {
                    followers: a
                        .followers
                        .into_iter()
                        .map(|f| pb::FollowerDay {
                            day: day_text(f.day),
                            gained: f.gained,
                            lost: f.lost,
                        })
                        .collect(),
                    top_posts: a
                        .top_posts
                        .into_iter()
                        .map(|t| pb::TopPost {
                            post_id: t.post_id,
                            impressions: figure_pb(t.impressions),
                            engagements: figure_pb(t.engagements),
                        })
                        .collect(),
                })
            }
            .await,
        )
    }

    async fn get_admin_stats(
        &self,
        request: Request<pb::AdminStatsRequest>,
    ) -> GrpcResult<pb::AdminStats> {
        grpc_answer(
            async {
                let p = self.principal(&request).await?;
                let r = request.get_ref();
                let s = self
                    .api
                    .admin_stats(
                        p.as_ref(),
                        optional_day(&r.day, "day")?,
                        r.days,
                        optional_day(&r.cohort, "cohort")?,
                    )
                    .await?;
                Ok(pb::AdminStats {
                    day: day_text(s.day),
                    dau: s.dau,
                    wau: s.wau,
                    mau: s.mau,
                    daily: s
                        .daily
                        .into_iter()
                        .map(|d| pb::DayFigures {
                            day: day_text(d.day),
                            active_users: d.active_users,
                            posts: d.posts,
                            sessions: d.sessions,
                        })
                        .collect(),
                    retention: Some(pb::Retention {
                        cohort: day_text(s.retention.cohort),
                        size: s.retention.size,
                        d1: s.retention.d1,
                        d7: s.retention.d7,
                        d30: s.retention.d30,
                    }),
                })
            }
            .await,
        )
    }
}

/// [`AnalyticsApi`] over gRPC.
#[derive(Clone)]
pub struct AnalyticsGrpcClient {
    inner: AnalyticsServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for AnalyticsGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsGrpcClient")
            .finish_non_exhaustive()
    }
}

impl AnalyticsGrpcClient {
    /// Connects to `endpoint` (e.g. `http://analytics-service:9094`).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// Over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: AnalyticsServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// This client, sending `access_token` with every call.
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    /// The request, authenticated as `principal`; without a principal, anonymous.
    fn request<T>(&self, principal: Option<&Principal>, message: T) -> Result<Request<T>> {
        match principal {
            Some(p) => bearer_request(self.token.as_deref(), p, message),
            None => Ok(Request::new(message)),
        }
    }
}

fn answer<T>(r: std::result::Result<Response<T>, tonic::Status>) -> Result<T> {
    Ok(r?.into_inner())
}

#[async_trait]
impl AnalyticsApi for AnalyticsGrpcClient {
    async fn record(&self, principal: Option<&Principal>, events: Vec<ClientEvent>) -> Result<u64> {
        let message = pb::RecordRequest {
            events: events.into_iter().map(event_to_pb).collect(),
        };
        let request = self.request(principal, message)?;
        Ok(answer(self.inner.clone().record(request).await)?.accepted)
    }

    async fn post_insights(
        &self,
        principal: Option<&Principal>,
        post_id: &str,
    ) -> Result<PostInsights> {
        let message = pb::PostInsightsRequest {
            post_id: post_id.to_owned(),
        };
        let request = self.request(principal, message)?;
        let i = answer(self.inner.clone().get_post_insights(request).await)?;
        Ok(PostInsights {
            post_id: i.post_id,
            exact: i.exact,
            impressions: figure(i.impressions, "impressions")?,
            reach: figure(i.reach, "reach")?,
            likes: figure(i.likes, "likes")?,
            replies: figure(i.replies, "replies")?,
            reposts: figure(i.reposts, "reposts")?,
            engagement_rate: i.engagement_rate,
            series: i
                .series
                .into_iter()
                .map(|h| HourPoint {
                    hour: h.hour,
                    impressions: h.impressions,
                    engagements: h.engagements,
                })
                .collect(),
        })
    }

    async fn account_insights(
        &self,
        principal: Option<&Principal>,
        days: u32,
    ) -> Result<AccountInsights> {
        let request = self.request(principal, pb::AccountInsightsRequest { days })?;
        let a = answer(self.inner.clone().get_account_insights(request).await)?;
        Ok(AccountInsights {
            followers: a
                .followers
                .into_iter()
                .map(|f| {
                    Ok(FollowerDay {
                        day: day_from(&f.day, "followers.day")?,
                        gained: f.gained,
                        lost: f.lost,
                    })
                })
                .collect::<Result<_>>()?,
            top_posts: a
                .top_posts
                .into_iter()
                .map(|t| {
                    Ok(TopPost {
                        post_id: t.post_id,
                        impressions: figure(t.impressions, "top_posts.impressions")?,
                        engagements: figure(t.engagements, "top_posts.engagements")?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    async fn admin_stats(
        &self,
        principal: Option<&Principal>,
        day: Option<NaiveDate>,
        days: u32,
        cohort: Option<NaiveDate>,
    ) -> Result<AdminStats> {
        let message = pb::AdminStatsRequest {
            day: day.map(day_text).unwrap_or_default(),
            days,
            cohort: cohort.map(day_text).unwrap_or_default(),
        };
        let request = self.request(principal, message)?;
        let s = answer(self.inner.clone().get_admin_stats(request).await)?;
        let r = s.retention.ok_or_else(|| malformed("retention"))?;
        Ok(AdminStats {
            day: day_from(&s.day, "day")?,
            dau: s.dau,
            wau: s.wau,
            mau: s.mau,
            daily: s
                .daily
                .into_iter()
                .map(|d| {
                    Ok(DayFigures {
                        day: day_from(&d.day, "daily.day")?,
                        active_users: d.active_users,
                        posts: d.posts,
                        sessions: d.sessions,
                    })
                })
                .collect::<Result<_>>()?,
            retention: Retention {
                cohort: day_from(&r.cohort, "retention.cohort")?,
                size: r.size,
                d1: r.d1,
                d7: r.d7,
                d30: r.d30,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventKind;

    #[test]
    fn client_events_round_trip_the_wire() {
        let e = ClientEvent {
            id: "e1".into(),
            kind: EventKind::View,
            post_id: "p".into(),
            at: chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456),
            anonymous_id: Some("d".into()),
        };
        assert_eq!(event_from_pb(0, event_to_pb(e.clone())).unwrap(), e);
        let bad = pb::ClientEvent {
            r#type: "click".into(),
            ..event_to_pb(e)
        };
        assert_eq!(
            event_from_pb(3, bad).unwrap_err().field(),
            Some("events[3].type")
        );
    }
}
