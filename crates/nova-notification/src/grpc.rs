//! gRPC adapters for [`NotificationApi`]: [`NotificationGrpcServer`] serves any
//! implementation as `nova.notification.v1.NotificationService`, and
//! [`NotificationGrpcClient`] implements [`NotificationApi`] over the network.
//!
//! Every call carries the caller's access token (`authorization: Bearer`, plus
//! `nova-session-id`); the server acts for the principal *it* verified. The client sends
//! the token given to [`NotificationGrpcClient::with_token`]; without one, calls fail
//! with `Unauthenticated` before anything is sent.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{BoxStream, Stream, StreamExt};
use nova_auth::{Authenticator, authenticate_metadata, bearer_request};
use nova_core::channel::ServiceChannel;
use nova_core::error::{GrpcResult, grpc_answer};
use nova_core::{Error, Page, Principal, Result, Timestamp, UserId};
use nova_proto::nova::notification::v1 as pb;
use pb::notification_service_client::NotificationServiceClient;
use pb::notification_service_server::{
    NotificationService as GrpcNotificationService, NotificationServiceServer,
};
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::api::NotificationApi;
use crate::model::{
    Actor, Folder, MarkRead, Notification, NotificationId, NotificationKind, Policy,
};
use crate::preferences::{Channels, Preferences, QuietHours};

fn preferences_to_pb(p: Preferences) -> pb::Preferences {
    pb::Preferences {
        kinds: p
            .kinds
            .into_iter()
            .map(|(kind, c)| pb::KindChannels {
                kind: kind.as_str().to_owned(),
                in_app: c.in_app,
                push: c.push,
                email: c.email,
            })
            .collect(),
        quiet_hours: p.quiet_hours.map(|q| pb::QuietHours {
            start: q.start,
            end: q.end,
            time_zone: q.time_zone,
        }),
    }
}

fn preferences_from_pb(p: pb::Preferences) -> Result<Preferences> {
    let mut kinds = std::collections::BTreeMap::new();
    for k in p.kinds {
        let kind = NotificationKind::parse(&k.kind)
            .map_err(|_| Error::invalid("kinds", format!("unknown kind `{}`", k.kind)))?;
        kinds.insert(
            kind,
            Channels {
                in_app: k.in_app,
                push: k.push,
                email: k.email,
            },
        );
    }
    Ok(Preferences {
        kinds,
        quiet_hours: p.quiet_hours.map(|q| QuietHours {
            start: q.start,
            end: q.end,
            time_zone: q.time_zone,
        }),
    })
}

fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn timestamp_from(t: Option<&prost_types::Timestamp>, field: &str) -> Result<Timestamp> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| malformed(field))
}

fn malformed(field: &str) -> Error {
    Error::internal(format!(
        "notification gRPC response: missing or malformed `{field}`"
    ))
}

fn folder_to_pb(folder: Folder) -> pb::Folder {
    match folder {
        Folder::Inbox => pb::Folder::Inbox,
        Folder::Requests => pb::Folder::Requests,
    }
}

fn folder_from_pb(folder: i32) -> Result<Folder> {
    match pb::Folder::try_from(folder) {
        Ok(pb::Folder::Inbox) => Ok(Folder::Inbox),
        Ok(pb::Folder::Requests) => Ok(Folder::Requests),
        Err(_) => Err(Error::invalid("folder", "unknown folder")),
    }
}

/// A notification on the wire.
pub fn notification_to_pb(n: Notification) -> pb::Notification {
    pb::Notification {
        id: n.id.to_string(),
        kind: n.kind.as_str().to_owned(),
        target_id: n.target_id.unwrap_or_default(),
        folder: folder_to_pb(n.folder) as i32,
        count: n.count,
        actors: n
            .actors
            .into_iter()
            .map(|a| pb::Actor {
                user_id: a.user_id.to_string(),
                subject_id: a.subject_id.unwrap_or_default(),
                at: Some(timestamp(a.at)),
            })
            .collect(),
        unread: n.unread,
        created_at: Some(timestamp(n.created_at)),
        updated_at: Some(timestamp(n.updated_at)),
    }
}

/// A notification from the wire, for `recipient`.
pub fn notification_from_pb(recipient: UserId, n: pb::Notification) -> Result<Notification> {
    let actors = n
        .actors
        .into_iter()
        .map(|a| {
            Ok(Actor {
                user_id: a.user_id.parse().map_err(|_| malformed("actors.user_id"))?,
                subject_id: Some(a.subject_id).filter(|s| !s.is_empty()),
                at: timestamp_from(a.at.as_ref(), "actors.at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Notification {
        id: n.id.parse().map_err(|_| malformed("id"))?,
        recipient_id: recipient,
        kind: NotificationKind::parse(&n.kind).map_err(|_| malformed("kind"))?,
        target_id: Some(n.target_id).filter(|t| !t.is_empty()),
        folder: folder_from_pb(n.folder).map_err(|_| malformed("folder"))?,
        count: n.count,
        actors,
        unread: n.unread,
        created_at: timestamp_from(n.created_at.as_ref(), "created_at")?,
        updated_at: timestamp_from(n.updated_at.as_ref(), "updated_at")?,
    })
}

/// Serves a [`NotificationApi`] as `nova.notification.v1.NotificationService`.
#[derive(Clone)]
pub struct NotificationGrpcServer {
    api: Arc<dyn NotificationApi>,
    auth: Arc<dyn Authenticator>,
}

impl NotificationGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn NotificationApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> NotificationServiceServer<Self> {
        NotificationServiceServer::new(self)
    }

    async fn principal(&self, metadata: &MetadataMap) -> Result<Principal> {
        authenticate_metadata(self.auth.as_ref(), metadata).await
    }
}

type NotificationStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::Notification, Status>> + Send>>;

#[async_trait]
impl GrpcNotificationService for NotificationGrpcServer {
    async fn list(&self, request: Request<pb::ListRequest>) -> GrpcResult<pb::NotificationPage> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let r = request.get_ref();
                let after = Some(r.after.as_str()).filter(|a| !a.is_empty());
                let page = self
                    .api
                    .list(&p, folder_from_pb(r.folder)?, r.first, after)
                    .await?;
                Ok(pb::NotificationPage {
                    items: page.items.into_iter().map(notification_to_pb).collect(),
                    end_cursor: page.end_cursor.unwrap_or_default(),
                    has_next_page: page.has_next_page,
                })
            }
            .await,
        )
    }

    async fn unread_count(
        &self,
        request: Request<pb::UnreadCountRequest>,
    ) -> GrpcResult<pb::UnreadCountResponse> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let folder = folder_from_pb(request.get_ref().folder)?;
                let unread = self.api.unread_count(&p, folder).await?;
                Ok(pb::UnreadCountResponse { unread })
            }
            .await,
        )
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> GrpcResult<pb::MarkReadResponse> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let r = request.get_ref();
                let which = match &r.which {
                    Some(pb::mark_read_request::Which::Id(id)) => {
                        MarkRead::One(NotificationId::parse_field(id, "id")?)
                    }
                    Some(pb::mark_read_request::Which::UpTo(id)) => {
                        MarkRead::UpTo(NotificationId::parse_field(id, "up_to")?)
                    }
                    Some(pb::mark_read_request::Which::All(true)) => MarkRead::All,
                    _ => return Err(Error::invalid("which", "send one of id, up_to or all")),
                };
                let marked = self
                    .api
                    .mark_read(&p, folder_from_pb(r.folder)?, which)
                    .await?;
                Ok(pb::MarkReadResponse { marked })
            }
            .await,
        )
    }

    async fn get_policy(&self, request: Request<pb::GetPolicyRequest>) -> GrpcResult<pb::Policy> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let policy = self.api.policy(&p).await?;
                Ok(pb::Policy {
                    filter_not_following: policy.filter_not_following,
                })
            }
            .await,
        )
    }

    async fn set_policy(&self, request: Request<pb::Policy>) -> GrpcResult<pb::Policy> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let wanted = Policy {
                    filter_not_following: request.get_ref().filter_not_following,
                };
                let policy = self.api.set_policy(&p, wanted).await?;
                Ok(pb::Policy {
                    filter_not_following: policy.filter_not_following,
                })
            }
            .await,
        )
    }

    async fn get_preferences(
        &self,
        request: Request<pb::GetPreferencesRequest>,
    ) -> GrpcResult<pb::Preferences> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                Ok(preferences_to_pb(self.api.preferences(&p).await?))
            }
            .await,
        )
    }

    async fn set_preferences(
        &self,
        request: Request<pb::Preferences>,
    ) -> GrpcResult<pb::Preferences> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let wanted = preferences_from_pb(request.into_inner())?;
                Ok(preferences_to_pb(
                    self.api.set_preferences(&p, wanted).await?,
                ))
            }
            .await,
        )
    }

    type SubscribeStream = NotificationStream;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> GrpcResult<Self::SubscribeStream> {
        grpc_answer(
            async {
                let p = self.principal(request.metadata()).await?;
                let live = self.api.subscribe(&p).await?;
                let stream: NotificationStream = Box::pin(live.map(|n| Ok(notification_to_pb(n))));
                Ok(stream)
            }
            .await,
        )
    }
}

/// [`NotificationApi`] over a remote notification service. Cloning is cheap and shares
/// the connection.
#[derive(Clone)]
pub struct NotificationGrpcClient {
    inner: NotificationServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for NotificationGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationGrpcClient")
            .finish_non_exhaustive()
    }
}

impl NotificationGrpcClient {
    /// Connects to `endpoint` (e.g. `http://notification-service:9088`).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: NotificationServiceClient::new(channel.into()),
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

#[async_trait]
impl NotificationApi for NotificationGrpcClient {
    async fn list(
        &self,
        principal: &Principal,
        folder: Folder,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Notification>> {
        let request = self.authed(
            principal,
            pb::ListRequest {
                folder: folder_to_pb(folder) as i32,
                first,
                after: after.unwrap_or_default().to_owned(),
            },
        )?;
        let page = self.inner.clone().list(request).await?.into_inner();
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|n| notification_from_pb(principal.user_id, n))
                .collect::<Result<_>>()?,
            end_cursor: Some(page.end_cursor).filter(|c| !c.is_empty()),
            has_next_page: page.has_next_page,
        })
    }

    async fn unread_count(&self, principal: &Principal, folder: Folder) -> Result<u64> {
        let request = self.authed(
            principal,
            pb::UnreadCountRequest {
                folder: folder_to_pb(folder) as i32,
            },
        )?;
        Ok(self
            .inner
            .clone()
            .unread_count(request)
            .await?
            .into_inner()
            .unread)
    }

    async fn mark_read(
        &self,
        principal: &Principal,
        folder: Folder,
        which: MarkRead,
    ) -> Result<u64> {
        use pb::mark_read_request::Which;
        let which = match which {
            MarkRead::One(id) => Which::Id(id.to_string()),
            MarkRead::UpTo(id) => Which::UpTo(id.to_string()),
            MarkRead::All => Which::All(true),
        };
        let request = self.authed(
            principal,
            pb::MarkReadRequest {
                folder: folder_to_pb(folder) as i32,
                which: Some(which),
            },
        )?;
        Ok(self
            .inner
            .clone()
            .mark_read(request)
            .await?
            .into_inner()
            .marked)
    }

    async fn policy(&self, principal: &Principal) -> Result<Policy> {
        let request = self.authed(principal, pb::GetPolicyRequest {})?;
        let p = self.inner.clone().get_policy(request).await?.into_inner();
        Ok(Policy {
            filter_not_following: p.filter_not_following,
        })
    }

    async fn set_policy(&self, principal: &Principal, policy: Policy) -> Result<Policy> {
        let request = self.authed(
            principal,
            pb::Policy {
                filter_not_following: policy.filter_not_following,
            },
        )?;
        let p = self.inner.clone().set_policy(request).await?.into_inner();
        Ok(Policy {
            filter_not_following: p.filter_not_following,
        })
    }

    async fn preferences(&self, principal: &Principal) -> Result<Preferences> {
        let request = self.authed(principal, pb::GetPreferencesRequest {})?;
        let p = self
            .inner
            .clone()
            .get_preferences(request)
            .await?
            .into_inner();
        preferences_from_pb(p)
    }

    async fn set_preferences(
        &self,
        principal: &Principal,
        preferences: Preferences,
    ) -> Result<Preferences> {
        let request = self.authed(principal, preferences_to_pb(preferences))?;
        let p = self
            .inner
            .clone()
            .set_preferences(request)
            .await?
            .into_inner();
        preferences_from_pb(p)
    }

    async fn subscribe(&self, principal: &Principal) -> Result<BoxStream<'static, Notification>> {
        let request = self.authed(principal, pb::SubscribeRequest {})?;
        let stream = self.inner.clone().subscribe(request).await?.into_inner();
        let me = principal.user_id;
        Ok(stream
            .filter_map(
                move |m| async move { m.ok().and_then(|n| notification_from_pb(me, n).ok()) },
            )
            .boxed())
    }
}
