//! gRPC adapters for [`ChatApi`]: [`ChatGrpcServer`] serves any implementation as
//! `nova.chat.v1.ChatService` (`proto/nova/chat/v1/chat_service.proto`), and
//! [`ChatGrpcClient`] implements [`ChatApi`] over the network, so the GraphQL gateway and
//! the WebSocket do not care where chat runs.
//!
//! Every call carries the caller's access token (`authorization: Bearer`, plus
//! `nova-session-id`); the server acts for the principal *it* verified. The client sends
//! the token given to [`ChatGrpcClient::with_token`]; without one, calls fail with
//! `Unauthenticated` before anything is sent.
//!
//! Errors cross the wire as they are: a malformed request field is `InvalidArgument`
//! naming it, list inputs are capped before any work (member ids, envelopes, recipients),
//! and whatever the service decides (`NotFound` for a conversation the caller is not in,
//! `PayloadTooLarge` for an oversize ciphertext, `RateLimited`) comes back as the same
//! kind on the client.

mod client;
mod convert;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{Stream, StreamExt};
use nova_auth::{Authenticator, authenticate_metadata};
use nova_core::error::{GrpcResult, grpc_answer};
use nova_core::{Principal, Result};
use nova_proto::nova::chat::v1 as pb;
use pb::chat_service_server::{ChatService as GrpcChatService, ChatServiceServer};
use tonic::{Request, Status};

pub use client::ChatGrpcClient;

use crate::api::ChatApi;
use crate::model::{DmPolicy, MAX_GROUP_MEMBERS, Role};

/// Serves a [`ChatApi`] as `nova.chat.v1.ChatService`.
#[derive(Clone)]
pub struct ChatGrpcServer {
    api: Arc<dyn ChatApi>,
    auth: Arc<dyn Authenticator>,
}

impl ChatGrpcServer {
    /// A server in front of `api`, authenticating callers with `auth`.
    pub fn new(api: Arc<dyn ChatApi>, auth: Arc<dyn Authenticator>) -> Self {
        Self { api, auth }
    }

    /// The tonic service, ready for `nova_runtime::Server::add_grpc_service`.
    pub fn into_service(self) -> ChatServiceServer<Self> {
        ChatServiceServer::new(self)
    }

    /// Authenticates the caller, then runs `f` with the principal and the request body.
    async fn call<Req, Resp, F, Fut>(&self, request: Request<Req>, f: F) -> GrpcResult<Resp>
    where
        F: FnOnce(Principal, Req) -> Fut,
        Fut: Future<Output = Result<Resp>>,
    {
        grpc_answer(
            async {
                let p = authenticate_metadata(self.auth.as_ref(), request.metadata()).await?;
                f(p, request.into_inner()).await
            }
            .await,
        )
    }
}

type LiveStream = Pin<Box<dyn Stream<Item = std::result::Result<pb::LiveEvent, Status>> + Send>>;

#[async_trait]
impl GrpcChatService for ChatGrpcServer {
    async fn open_direct(
        &self,
        request: Request<pb::OpenDirectRequest>,
    ) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let other = convert::user(&r.user_id, "user_id")?;
            let c = self.api.open_direct(&p, other).await?;
            Ok(convert::conversation(c))
        })
        .await
    }

    async fn create_group(
        &self,
        request: Request<pb::CreateGroupRequest>,
    ) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let members = convert::users(&r.member_ids, "member_ids", MAX_GROUP_MEMBERS)?;
            let c = self.api.create_group(&p, &r.title, &members).await?;
            Ok(convert::conversation(c))
        })
        .await
    }

    async fn get_conversation(
        &self,
        request: Request<pb::GetConversationRequest>,
    ) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            Ok(convert::conversation(self.api.conversation(&p, id).await?))
        })
        .await
    }

    async fn list_conversations(
        &self,
        request: Request<pb::ListConversationsRequest>,
    ) -> GrpcResult<pb::ListConversationsResponse> {
        self.call(request, |p, r| async move {
            let items = self.api.conversations(&p, r.archived, r.first).await?;
            Ok(pb::ListConversationsResponse {
                items: items.into_iter().map(convert::conversation).collect(),
            })
        })
        .await
    }

    async fn members(&self, request: Request<pb::MembersRequest>) -> GrpcResult<pb::MemberList> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            Ok(convert::members(self.api.members(&p, id).await?))
        })
        .await
    }

    async fn invite(&self, request: Request<pb::InviteRequest>) -> GrpcResult<pb::MemberList> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let users = convert::users(&r.user_ids, "user_ids", MAX_GROUP_MEMBERS)?;
            Ok(convert::members(self.api.invite(&p, id, &users).await?))
        })
        .await
    }

    async fn kick(&self, request: Request<pb::KickRequest>) -> GrpcResult<pb::MemberList> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let user = convert::user(&r.user_id, "user_id")?;
            Ok(convert::members(self.api.kick(&p, id, user).await?))
        })
        .await
    }

    async fn leave(&self, request: Request<pb::LeaveRequest>) -> GrpcResult<pb::LeaveResponse> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            self.api.leave(&p, id).await?;
            Ok(pb::LeaveResponse {})
        })
        .await
    }

    async fn set_role(&self, request: Request<pb::SetRoleRequest>) -> GrpcResult<pb::MemberList> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let user = convert::user(&r.user_id, "user_id")?;
            let role = Role::parse(&r.role)?;
            Ok(convert::members(
                self.api.set_role(&p, id, user, role).await?,
            ))
        })
        .await
    }

    async fn update_group(
        &self,
        request: Request<pb::UpdateGroupRequest>,
    ) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let c = self
                .api
                .update_group(&p, id, &r.title, &r.avatar_media_id)
                .await?;
            Ok(convert::conversation(c))
        })
        .await
    }

    async fn send(&self, request: Request<pb::SendRequest>) -> GrpcResult<pb::Sent> {
        self.call(request, |p, r| async move {
            let (id, message) = convert::send_request_from(r)?;
            Ok(convert::sent(self.api.send(&p, id, message).await?))
        })
        .await
    }

    async fn history(
        &self,
        request: Request<pb::HistoryRequest>,
    ) -> GrpcResult<pb::HistoryResponse> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let device = convert::device(&r.device_id, "device_id")?;
            let items = self.api.history(&p, id, &device, r.before, r.first).await?;
            Ok(pb::HistoryResponse {
                items: items.into_iter().map(convert::history_item).collect(),
            })
        })
        .await
    }

    async fn inbox(&self, request: Request<pb::InboxRequest>) -> GrpcResult<pb::InboxResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(&r.device_id, "device_id")?;
            let items = self.api.inbox(&p, &device, r.after, r.limit).await?;
            Ok(pb::InboxResponse {
                items: items.into_iter().map(convert::delivery).collect(),
            })
        })
        .await
    }

    async fn acknowledge(
        &self,
        request: Request<pb::AcknowledgeRequest>,
    ) -> GrpcResult<pb::AcknowledgeResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(&r.device_id, "device_id")?;
            let acknowledged = self.api.acknowledge(&p, &device, r.up_to).await?;
            Ok(pb::AcknowledgeResponse { acknowledged })
        })
        .await
    }

    async fn acknowledged(
        &self,
        request: Request<pb::AcknowledgedRequest>,
    ) -> GrpcResult<pb::AcknowledgedResponse> {
        self.call(request, |p, r| async move {
            let device = convert::device(&r.device_id, "device_id")?;
            let cursor = self.api.acknowledged(&p, &device).await?;
            Ok(pb::AcknowledgedResponse { cursor })
        })
        .await
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> GrpcResult<pb::MarkReadResponse> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            self.api.mark_read(&p, id, r.message_id).await?;
            Ok(pb::MarkReadResponse {})
        })
        .await
    }

    async fn set_archived(
        &self,
        request: Request<pb::SetArchivedRequest>,
    ) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let c = self
                .api
                .set_archived(&p, id, r.archived, r.keep_archived)
                .await?;
            Ok(convert::conversation(c))
        })
        .await
    }

    async fn mute(&self, request: Request<pb::MuteRequest>) -> GrpcResult<pb::Conversation> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let until = r
                .until
                .as_ref()
                .map(|t| convert::timestamp_from(Some(t), "until"))
                .transpose()?;
            Ok(convert::conversation(self.api.mute(&p, id, until).await?))
        })
        .await
    }

    async fn get_dm_policy(
        &self,
        request: Request<pb::GetDmPolicyRequest>,
    ) -> GrpcResult<pb::DmPolicy> {
        self.call(request, |p, _| async move {
            let policy = self.api.dm_policy(&p).await?;
            Ok(pb::DmPolicy {
                allow: policy.as_str().to_owned(),
            })
        })
        .await
    }

    async fn set_dm_policy(&self, request: Request<pb::DmPolicy>) -> GrpcResult<pb::DmPolicy> {
        self.call(request, |p, r| async move {
            let policy = self
                .api
                .set_dm_policy(&p, DmPolicy::parse(&r.allow)?)
                .await?;
            Ok(pb::DmPolicy {
                allow: policy.as_str().to_owned(),
            })
        })
        .await
    }

    async fn typing(&self, request: Request<pb::TypingRequest>) -> GrpcResult<pb::TypingResponse> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            self.api.typing(&p, id).await?;
            Ok(pb::TypingResponse {})
        })
        .await
    }

    async fn start_call(&self, request: Request<pb::StartCallRequest>) -> GrpcResult<pb::Call> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let device = convert::device(&r.device_id, "device_id")?;
            let call = self.api.start_call(&p, id, &device, r.video).await?;
            Ok(convert::call(call))
        })
        .await
    }

    async fn get_call(&self, request: Request<pb::GetCallRequest>) -> GrpcResult<pb::Call> {
        self.call(request, |p, r| async move {
            let id = convert::call_id(&r.call_id)?;
            Ok(convert::call(self.api.call(&p, id).await?))
        })
        .await
    }

    async fn accept_call(&self, request: Request<pb::AcceptCallRequest>) -> GrpcResult<pb::Call> {
        self.call(request, |p, r| async move {
            let id = convert::call_id(&r.call_id)?;
            let device = convert::device(&r.device_id, "device_id")?;
            Ok(convert::call(self.api.accept_call(&p, id, &device).await?))
        })
        .await
    }

    async fn decline_call(&self, request: Request<pb::DeclineCallRequest>) -> GrpcResult<pb::Call> {
        self.call(request, |p, r| async move {
            let id = convert::call_id(&r.call_id)?;
            Ok(convert::call(self.api.decline_call(&p, id).await?))
        })
        .await
    }

    async fn hang_up(&self, request: Request<pb::HangUpRequest>) -> GrpcResult<pb::Call> {
        self.call(request, |p, r| async move {
            let id = convert::call_id(&r.call_id)?;
            Ok(convert::call(self.api.hang_up(&p, id).await?))
        })
        .await
    }

    async fn signal(&self, request: Request<pb::SignalRequest>) -> GrpcResult<pb::SignalResponse> {
        self.call(request, |p, r| async move {
            let id = convert::call_id(&r.call_id)?;
            let to = convert::user(&r.to_user_id, "to_user_id")?;
            let kind = convert::signal_kind(&r.kind)?;
            self.api.signal(&p, id, to, kind, r.payload).await?;
            Ok(pb::SignalResponse {})
        })
        .await
    }

    async fn turn_credentials(
        &self,
        request: Request<pb::TurnCredentialsRequest>,
    ) -> GrpcResult<pb::TurnCredentialsResponse> {
        self.call(request, |p, _| async move {
            Ok(convert::turn(self.api.turn_credentials(&p).await?))
        })
        .await
    }

    async fn start_location_share(
        &self,
        request: Request<pb::StartLocationShareRequest>,
    ) -> GrpcResult<pb::LocationShare> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let share = self
                .api
                .start_location_share(&p, id, r.duration_secs)
                .await?;
            Ok(convert::share(share))
        })
        .await
    }

    async fn list_location_shares(
        &self,
        request: Request<pb::ListLocationSharesRequest>,
    ) -> GrpcResult<pb::ListLocationSharesResponse> {
        self.call(request, |p, r| async move {
            let id = convert::conversation_id(&r.conversation_id)?;
            let items = self.api.location_shares(&p, id).await?;
            Ok(pb::ListLocationSharesResponse {
                items: items.into_iter().map(convert::share).collect(),
            })
        })
        .await
    }

    async fn stop_location_share(
        &self,
        request: Request<pb::StopLocationShareRequest>,
    ) -> GrpcResult<pb::LocationShare> {
        self.call(request, |p, r| async move {
            let id = convert::share_id(&r.share_id)?;
            Ok(convert::share(self.api.stop_location_share(&p, id).await?))
        })
        .await
    }

    async fn update_location(
        &self,
        request: Request<pb::UpdateLocationRequest>,
    ) -> GrpcResult<pb::UpdateLocationResponse> {
        self.call(request, |p, r| async move {
            let (id, update) = convert::update_request_from(r)?;
            self.api.update_location(&p, id, update).await?;
            Ok(pb::UpdateLocationResponse {})
        })
        .await
    }

    type SubscribeStream = LiveStream;

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> GrpcResult<Self::SubscribeStream> {
        self.call(request, |p, r| async move {
            let device = convert::device(&r.device_id, "device_id")?;
            let live = self.api.subscribe(&p, &device).await?;
            let stream: LiveStream = Box::pin(live.map(|e| Ok(convert::live_event(e))));
            Ok(stream)
        })
        .await
    }
}
