//! gRPC adapters for [`SearchApi`]: [`SearchGrpcServer`] serves any implementation as
//! `nova.search.v1.SearchService` (the caller, if any, authenticated from
//! `authorization: Bearer` by the server's [`Authenticator`]), and [`SearchGrpcClient`]
//! implements [`SearchApi`] over the network.

mod client;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use nova_auth::{Authenticator, authenticate_metadata_optional};
use nova_core::error::{GrpcResult, grpc_answer};
use nova_core::{Error, Page, PostId, Result, UserId};
use nova_proto::nova::search::v1 as pb;
use pb::search_service_server::{SearchService as GrpcSearchService, SearchServiceServer};
use tonic::Request;

pub use client::SearchGrpcClient;

use crate::api::SearchApi;
use crate::model::{HashtagHit, PostHit, SearchHit, SearchKind, SearchRequest, UserHit};

/// Serves a [`SearchApi`] as `nova.search.v1.SearchService`.
#[derive(Clone)]
pub struct SearchGrpcServer {
    api: Arc<dyn SearchApi>,
    auth: Arc<dyn Authenticator>,
}

impl SearchGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn SearchApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> SearchServiceServer<Self> {
        SearchServiceServer::new(self)
    }
}

#[async_trait]
impl GrpcSearchService for SearchGrpcServer {
    async fn search(&self, request: Request<pb::SearchRequest>) -> GrpcResult<pb::SearchResponse> {
        let result = async {
            let viewer =
                authenticate_metadata_optional(self.auth.as_ref(), request.metadata()).await?;
            let r = request.into_inner();
            let request = SearchRequest {
                kind: SearchKind::parse(&r.r#type)?,
                query: r.query,
                first: r.first,
                after: Some(r.after).filter(|a| !a.is_empty()),
            };
            let page = self.api.search(viewer.as_ref(), request).await?;
            Ok(page_to_pb(page))
        };
        grpc_answer(result.await)
    }
}

pub(crate) fn page_to_pb(page: Page<SearchHit>) -> pb::SearchResponse {
    pb::SearchResponse {
        items: page.items.into_iter().map(hit_to_pb).collect(),
        end_cursor: page.end_cursor.unwrap_or_default(),
        has_next_page: page.has_next_page,
    }
}

fn hit_to_pb(hit: SearchHit) -> pb::SearchHit {
    use pb::search_hit::Hit;
    let hit = match hit {
        SearchHit::Post(p) => Hit::Post(pb::PostHit {
            id: p.id.to_string(),
            author_id: p.author_id.to_string(),
            text: p.text,
            highlight: p.highlight,
            hashtags: p.hashtags,
            language: p.language.unwrap_or_default(),
            created_at_micros: p.created_at.timestamp_micros(),
            like_count: p.like_count,
            repost_count: p.repost_count,
            score: p.score,
        }),
        SearchHit::User(u) => Hit::User(pb::UserHit {
            id: u.id.to_string(),
            username: u.username,
            display_name: u.display_name,
            bio: u.bio,
            score: u.score,
        }),
        SearchHit::Hashtag(h) => Hit::Hashtag(pb::HashtagHit {
            name: h.name,
            usage_count: h.usage_count,
        }),
    };
    pb::SearchHit { hit: Some(hit) }
}

pub(crate) fn page_from_pb(page: pb::SearchResponse) -> Result<Page<SearchHit>> {
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(hit_from_pb)
            .collect::<Result<Vec<_>>>()?,
        end_cursor: Some(page.end_cursor).filter(|c| !c.is_empty()),
        has_next_page: page.has_next_page,
    })
}

fn hit_from_pb(hit: pb::SearchHit) -> Result<SearchHit> {
    use pb::search_hit::Hit;
    Ok(match hit.hit {
        Some(Hit::Post(p)) => SearchHit::Post(PostHit {
            id: PostId::parse_field(&p.id, "id")?,
            author_id: UserId::parse_field(&p.author_id, "author_id")?,
            text: p.text,
            highlight: p.highlight,
            hashtags: p.hashtags,
            language: Some(p.language).filter(|l| !l.is_empty()),
            created_at: Utc
                .timestamp_micros(p.created_at_micros)
                .single()
                .ok_or_else(|| Error::invalid("created_at_micros", "out of range"))?,
            like_count: p.like_count,
            repost_count: p.repost_count,
            score: p.score,
        }),
        Some(Hit::User(u)) => SearchHit::User(UserHit {
            id: UserId::parse_field(&u.id, "id")?,
            username: u.username,
            display_name: u.display_name,
            bio: u.bio,
            score: u.score,
        }),
        Some(Hit::Hashtag(h)) => SearchHit::Hashtag(HashtagHit {
            name: h.name,
            usage_count: h.usage_count,
        }),
        None => return Err(Error::invalid("hit", "empty")),
    })
}
