//! gRPC adapters for [`MediaApi`]: [`MediaGrpcServer`] serves any implementation as
//! `nova.media.v1.MediaService`, and [`MediaGrpcClient`] implements [`MediaApi`] over
//! the network (content asks it whether a post's media are the author's own and ready).
//!
//! Every call carries the caller's access token; the server acts for the principal *it*
//! verified.

use std::sync::Arc;

use async_trait::async_trait;
use nova_auth::{
    Authenticator, authenticate_metadata, authenticate_metadata_optional, bearer_request,
};
use nova_core::channel::ServiceChannel;
use nova_core::error::{GrpcResult, grpc_answer};
use nova_core::{Error, Principal, Result, Timestamp, UserId};
use nova_proto::nova::media::v1 as pb;
use pb::media_service_client::MediaServiceClient;
use pb::media_service_server::{MediaService as GrpcMediaService, MediaServiceServer};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response};

use crate::api::{MAX_GET_MANY, MediaApi};
use crate::model::{FocalPoint, Media, MediaId, MediaKind, MediaState, MediaUpdate, Variant};

fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn malformed(field: &str) -> Error {
    Error::internal(format!(
        "media gRPC response: missing or malformed `{field}`"
    ))
}

fn timestamp_from(t: Option<&prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| malformed(field))
}

fn nonempty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

/// Media on the wire.
pub fn media_to_pb(m: Media) -> pb::Media {
    pb::Media {
        id: m.id.to_string(),
        owner_id: m.owner_id.to_string(),
        kind: m.kind.as_str().to_owned(),
        mime: m.mime,
        state: m.state.as_str().to_owned(),
        failure: m.failure.unwrap_or_default(),
        size_bytes: m.size_bytes,
        variants: m
            .variants
            .into_iter()
            .map(|v| pb::Variant {
                name: v.name,
                format: v.format,
                width: v.width,
                height: v.height,
                size_bytes: v.size_bytes,
                key: v.key,
                url: v.url.unwrap_or_default(),
            })
            .collect(),
        width: m.width,
        height: m.height,
        duration_ms: m.duration_ms,
        blurhash: m.blurhash.unwrap_or_default(),
        phash: m.phash.unwrap_or_default(),
        alt_text: m.alt_text,
        focus: m.focus.map(|f| pb::FocalPoint { x: f.x, y: f.y }),
        created_at: Some(timestamp(m.created_at)),
        updated_at: Some(timestamp(m.updated_at)),
        attached_to: m.attached_to.unwrap_or_default(),
    }
}

/// Media from the wire.
pub fn media_from_pb(m: pb::Media) -> Result<Media> {
    Ok(Media {
        id: m.id.parse().map_err(|_| malformed("id"))?,
        owner_id: m.owner_id.parse().map_err(|_| malformed("owner_id"))?,
        kind: MediaKind::parse(&m.kind).map_err(|_| malformed("kind"))?,
        mime: m.mime,
        state: MediaState::parse(&m.state).map_err(|_| malformed("state"))?,
        failure: nonempty(m.failure),
        size_bytes: m.size_bytes,
        original_key: None,
        variants: m
            .variants
            .into_iter()
            .map(|v| Variant {
                name: v.name,
                format: v.format,
                width: v.width,
                height: v.height,
                size_bytes: v.size_bytes,
                key: v.key,
                url: nonempty(v.url),
            })
            .collect(),
        width: m.width,
        height: m.height,
        duration_ms: m.duration_ms,
        blurhash: nonempty(m.blurhash),
        phash: nonempty(m.phash),
        alt_text: m.alt_text,
        focus: m.focus.map(|f| FocalPoint { x: f.x, y: f.y }),
        created_at: timestamp_from(m.created_at.as_ref(), "created_at")?,
        updated_at: timestamp_from(m.updated_at.as_ref(), "updated_at")?,
        attached_to: nonempty(m.attached_to),
    })
}

/// Serves a [`MediaApi`] as `nova.media.v1.MediaService`.
#[derive(Clone)]
pub struct MediaGrpcServer {
    api: Arc<dyn MediaApi>,
    auth: Arc<dyn Authenticator>,
}

impl MediaGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn MediaApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> MediaServiceServer<Self> {
        MediaServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }
}

#[async_trait]
impl GrpcMediaService for MediaGrpcServer {
    async fn get(&self, request: Request<pb::GetRequest>) -> GrpcResult<pb::Media> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let id = MediaId::parse_field(&request.get_ref().id, "id")?;
                Ok(media_to_pb(self.api.get(&p, id).await?))
            }
            .await,
        )
    }

    async fn get_many(
        &self,
        request: Request<pb::GetManyRequest>,
    ) -> GrpcResult<pb::GetManyResponse> {
        grpc_answer(
            async {
                let viewer =
                    authenticate_metadata_optional(self.auth.as_ref(), request.metadata()).await?;
                let r = request.get_ref();
                nova_core::error::cap("ids", r.ids.len(), MAX_GET_MANY)?;
                let ids = r
                    .ids
                    .iter()
                    .map(|id| MediaId::parse_field(id, "ids"))
                    .collect::<Result<Vec<_>>>()?;
                let items = self.api.get_many(viewer.as_ref(), &ids).await?;
                Ok(pb::GetManyResponse {
                    items: items.into_iter().map(media_to_pb).collect(),
                })
            }
            .await,
        )
    }

    async fn update(&self, request: Request<pb::UpdateRequest>) -> GrpcResult<pb::Media> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let r = request.into_inner();
                let id = MediaId::parse_field(&r.id, "id")?;
                let update = MediaUpdate {
                    alt_text: r.alt_text,
                    focus: r.focus.map(|f| FocalPoint { x: f.x, y: f.y }),
                };
                Ok(media_to_pb(self.api.update(&p, id, update).await?))
            }
            .await,
        )
    }

    async fn delete(&self, request: Request<pb::DeleteRequest>) -> GrpcResult<pb::DeleteResponse> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let id = MediaId::parse_field(&request.get_ref().id, "id")?;
                self.api.delete(&p, id).await?;
                Ok(pb::DeleteResponse {})
            }
            .await,
        )
    }

    // Internal: the service gate (nova-auth's INTERNAL_RPCS) lets only Nova services
    // through, and they act for an owner they authorized.
    async fn attach(&self, request: Request<pb::AttachRequest>) -> GrpcResult<pb::AttachResponse> {
        grpc_answer(
            async {
                let r = request.get_ref();
                let owner = UserId::parse_field(&r.owner_id, "owner_id")?;
                nova_core::error::cap("media_ids", r.ids.len(), MAX_GET_MANY)?;
                let ids = r
                    .ids
                    .iter()
                    .map(|id| MediaId::parse_field(id, "media_ids"))
                    .collect::<Result<Vec<_>>>()?;
                self.api.attach(owner, &ids, &r.target).await?;
                Ok(pb::AttachResponse {})
            }
            .await,
        )
    }
}

/// [`MediaApi`] over a remote media service. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct MediaGrpcClient {
    inner: MediaServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for MediaGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaGrpcClient").finish_non_exhaustive()
    }
}

impl MediaGrpcClient {
    /// Connects to `endpoint` (e.g. `http://media-service:9085`).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: MediaServiceClient::new(channel.into()),
            token: None,
        }
    }

    /// A handle for one caller that sends `access_token` with every call.
    pub fn with_token(&self, access_token: impl Into<String>) -> Self {
        Self {
            token: Some(Arc::from(access_token.into())),
            ..self.clone()
        }
    }

    fn authed<T>(&self, principal: &Principal, message: T) -> Result<Request<T>> {
        bearer_request(self.token.as_deref(), principal, message)
    }
}

fn answer(r: std::result::Result<Response<pb::Media>, tonic::Status>) -> Result<Media> {
    media_from_pb(r?.into_inner())
}

#[async_trait]
impl MediaApi for MediaGrpcClient {
    async fn get(&self, principal: &Principal, id: MediaId) -> Result<Media> {
        let request = self.authed(principal, pb::GetRequest { id: id.to_string() })?;
        answer(self.inner.clone().get(request).await)
    }

    async fn get_many(&self, viewer: Option<&Principal>, ids: &[MediaId]) -> Result<Vec<Media>> {
        nova_core::error::cap("ids", ids.len(), MAX_GET_MANY)?;
        let message = pb::GetManyRequest {
            ids: ids.iter().map(ToString::to_string).collect(),
        };
        // Signed out: no token, only ready uploads come back.
        let request = match viewer {
            Some(p) => self.authed(p, message)?,
            None => Request::new(message),
        };
        let items = self
            .inner
            .clone()
            .get_many(request)
            .await?
            .into_inner()
            .items;
        items.into_iter().map(media_from_pb).collect()
    }

    async fn update(
        &self,
        principal: &Principal,
        id: MediaId,
        update: MediaUpdate,
    ) -> Result<Media> {
        let request = self.authed(
            principal,
            pb::UpdateRequest {
                id: id.to_string(),
                alt_text: update.alt_text,
                focus: update.focus.map(|f| pb::FocalPoint { x: f.x, y: f.y }),
            },
        )?;
        answer(self.inner.clone().update(request).await)
    }

    async fn delete(&self, principal: &Principal, id: MediaId) -> Result<()> {
        let request = self.authed(principal, pb::DeleteRequest { id: id.to_string() })?;
        self.inner.clone().delete(request).await?;
        Ok(())
    }

    async fn attach(&self, owner: UserId, ids: &[MediaId], target: &str) -> Result<()> {
        nova_core::error::cap("media_ids", ids.len(), MAX_GET_MANY)?;
        // The channel adds this service's token; no user token is involved.
        let request = Request::new(pb::AttachRequest {
            owner_id: owner.to_string(),
            ids: ids.iter().map(ToString::to_string).collect(),
            target: target.to_owned(),
        });
        self.inner.clone().attach(request).await?;
        Ok(())
    }
}
