//! gRPC adapters for [`RankingApi`]: [`RankingGrpcServer`] serves any implementation
//! (normally [`RankingService`](crate::RankingService)) as `nova.ranking.v1.RankingService`,
//! and [`RankingGrpcClient`] implements [`RankingApi`] over the network.
//!
//! Ranking is a service-to-service call: the feed has authenticated the viewer and sends
//! what it knows about them (follows, seen posts, preferences) with the candidates, so
//! the calls take ids and no token.

mod client;

use nova_core::error::{GrpcResult, cap, grpc_answer};
use std::collections::HashSet;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, Result, Timestamp};
use nova_proto::nova::ranking::v1 as pb;
use pb::ranking_service_server::{RankingService as GrpcRankingService, RankingServiceServer};
use tonic::Request;

pub use client::RankingGrpcClient;

use crate::api::RankingApi;
use crate::model::{Candidate, PostKind, Preferences, RankedItem, Source, Viewer};
use crate::scorer::{Contribution, Explanation};
use crate::service::{MAX_CANDIDATES, MAX_VIEWER_SET};
use crate::store::Interaction;

/// Serves a [`RankingApi`] as the `nova.ranking.v1.RankingService` gRPC service.
#[derive(Clone)]
pub struct RankingGrpcServer {
    api: Arc<dyn RankingApi>,
}

impl RankingGrpcServer {
    /// A server in front of `api`.
    pub fn new(api: Arc<dyn RankingApi>) -> Self {
        Self { api }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> RankingServiceServer<Self> {
        RankingServiceServer::new(self)
    }
}

#[async_trait]
impl GrpcRankingService for RankingGrpcServer {
    async fn rank(&self, request: Request<pb::RankRequest>) -> GrpcResult<pb::RankResponse> {
        let r = request.into_inner();
        let result = async {
            cap("candidates", r.candidates.len(), MAX_CANDIDATES)?;
            let viewer = viewer_from(r.viewer.as_ref())?;
            let candidates = r
                .candidates
                .iter()
                .map(candidate_from)
                .collect::<Result<Vec<_>>>()?;
            let limit = if r.limit == 0 {
                candidates.len()
            } else {
                r.limit as usize
            };
            let items = self.api.rank(&viewer, &candidates, limit).await?;
            Ok(pb::RankResponse {
                items: items.iter().map(ranked).collect(),
            })
        };
        grpc_answer(result.await)
    }

    async fn explain(&self, request: Request<pb::ExplainRequest>) -> GrpcResult<pb::Explanation> {
        let r = request.into_inner();
        let result = async {
            let viewer = viewer_from(r.viewer.as_ref())?;
            let candidate = candidate_from(
                r.candidate
                    .as_ref()
                    .ok_or_else(|| Error::invalid("candidate", "is required"))?,
            )?;
            self.api.explain(&viewer, &candidate).await
        };
        grpc_answer(result.await.map(|e| explanation(&e)))
    }

    async fn record(&self, request: Request<pb::RecordRequest>) -> GrpcResult<pb::Empty> {
        let r = request.into_inner();
        let result = async {
            let viewer = id(&r.viewer_id, "viewer_id")?;
            let author = id(&r.author_id, "author_id")?;
            let interaction = match pb::Interaction::try_from(r.interaction) {
                Ok(pb::Interaction::Positive) => Interaction::Positive,
                Ok(pb::Interaction::ShowLess) => Interaction::ShowLess,
                _ => return Err(Error::invalid("interaction", "positive or show_less")),
            };
            self.api.record(viewer, author, interaction).await
        };
        grpc_answer(result.await.map(|()| pb::Empty {}))
    }
}

fn id<T: FromStr>(value: &str, field: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "is not a valid id"))
}

fn ids<T: FromStr + Eq + Hash>(values: &[String], field: &str) -> Result<HashSet<T>> {
    values.iter().map(|v| id(v, field)).collect()
}

fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn source(s: Source) -> pb::Source {
    match s {
        Source::InNetwork => pb::Source::InNetwork,
        Source::OutOfNetwork => pb::Source::OutOfNetwork,
    }
}

fn source_from(value: i32) -> Result<Source> {
    match pb::Source::try_from(value) {
        Ok(pb::Source::InNetwork) => Ok(Source::InNetwork),
        Ok(pb::Source::OutOfNetwork) => Ok(Source::OutOfNetwork),
        _ => Err(Error::invalid("source", "in_network or out_of_network")),
    }
}

/// A multiplier from the wire: 0 (unset) is neutral.
fn multiplier(value: f64, field: &str) -> Result<f64> {
    match value {
        0.0 => Ok(1.0),
        v if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(Error::invalid(field, "must be positive and finite")),
    }
}

pub(crate) fn viewer(v: &Viewer) -> pb::Viewer {
    let strings = |set: &mut dyn Iterator<Item = String>| set.collect::<Vec<_>>();
    pb::Viewer {
        user_id: v.user_id.to_string(),
        langs: v.langs.clone(),
        follows: strings(&mut v.follows.iter().map(ToString::to_string)),
        followers: strings(&mut v.followers.iter().map(ToString::to_string)),
        seen: strings(&mut v.seen.iter().map(ToString::to_string)),
        preferences: Some(pb::Preferences {
            in_network: v.preferences.in_network,
            reposts: v.preferences.reposts,
            replies: v.preferences.replies,
            media: v.preferences.media,
        }),
    }
}

fn viewer_from(v: Option<&pb::Viewer>) -> Result<Viewer> {
    let v = v.ok_or_else(|| Error::invalid("viewer", "is required"))?;
    cap("viewer.langs", v.langs.len(), MAX_VIEWER_SET)?;
    cap("viewer.follows", v.follows.len(), MAX_VIEWER_SET)?;
    cap("viewer.followers", v.followers.len(), MAX_VIEWER_SET)?;
    cap("viewer.seen", v.seen.len(), MAX_VIEWER_SET)?;
    let p = v.preferences.unwrap_or_default();
    Ok(Viewer {
        user_id: id(&v.user_id, "viewer.user_id")?,
        langs: v.langs.clone(),
        follows: ids(&v.follows, "viewer.follows")?,
        followers: ids(&v.followers, "viewer.followers")?,
        seen: ids(&v.seen, "viewer.seen")?,
        preferences: Preferences {
            in_network: multiplier(p.in_network, "preferences.in_network")?,
            reposts: multiplier(p.reposts, "preferences.reposts")?,
            replies: multiplier(p.replies, "preferences.replies")?,
            media: multiplier(p.media, "preferences.media")?,
        },
    })
}

pub(crate) fn candidate(c: &Candidate) -> pb::Candidate {
    pb::Candidate {
        post_id: c.post_id.to_string(),
        author_id: c.author_id.to_string(),
        created_at: Some(timestamp(c.created_at)),
        media: c.kind.media,
        link: c.kind.link,
        reply: c.kind.reply,
        repost: c.kind.repost,
        lang: c.lang.clone().unwrap_or_default(),
        author_followers: c.author_followers,
        likes: c.likes,
        replies: c.replies,
        velocity: c.velocity,
        source: source(c.source) as i32,
    }
}

fn candidate_from(c: &pb::Candidate) -> Result<Candidate> {
    let created_at = c
        .created_at
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| Error::invalid("created_at", "a timestamp in range is required"))?;
    if !c.velocity.is_finite() || c.velocity < 0.0 {
        return Err(Error::invalid(
            "velocity",
            "must be finite and not negative",
        ));
    }
    Ok(Candidate {
        post_id: id(&c.post_id, "post_id")?,
        author_id: id(&c.author_id, "author_id")?,
        created_at,
        kind: PostKind {
            media: c.media,
            link: c.link,
            reply: c.reply,
            repost: c.repost,
        },
        lang: (!c.lang.is_empty()).then(|| c.lang.clone()),
        author_followers: c.author_followers,
        likes: c.likes,
        replies: c.replies,
        velocity: c.velocity,
        source: source_from(c.source)?,
    })
}

fn ranked(r: &RankedItem) -> pb::RankedItem {
    pb::RankedItem {
        post_id: r.post_id.to_string(),
        author_id: r.author_id.to_string(),
        model_score: r.model_score,
        score: r.score,
        source: source(r.source) as i32,
    }
}

pub(crate) fn ranked_from(r: &pb::RankedItem) -> Result<RankedItem> {
    Ok(RankedItem {
        post_id: id(&r.post_id, "post_id")?,
        author_id: id(&r.author_id, "author_id")?,
        model_score: r.model_score,
        score: r.score,
        source: source_from(r.source)?,
    })
}

fn explanation(e: &Explanation) -> pb::Explanation {
    pb::Explanation {
        bias: e.bias,
        raw: e.raw,
        score: e.score,
        contributions: e
            .contributions
            .iter()
            .map(|c| pb::Contribution {
                feature: c.feature.clone(),
                value: c.value,
                contribution: c.contribution,
            })
            .collect(),
    }
}

pub(crate) fn explanation_from(e: pb::Explanation) -> Explanation {
    Explanation {
        bias: e.bias,
        raw: e.raw,
        score: e.score,
        contributions: e
            .contributions
            .into_iter()
            .map(|c| Contribution {
                feature: c.feature,
                value: c.value,
                contribution: c.contribution,
            })
            .collect(),
    }
}
