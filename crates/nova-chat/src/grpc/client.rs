//! [`ChatGrpcClient`]: [`ChatApi`] over a remote `nova.chat.v1.ChatService`.

mod calls;

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use nova_auth::bearer_request;
use nova_core::channel::ServiceChannel;
use nova_core::{Principal, Result, Timestamp, UserId};
use nova_e2ee::DeviceId;
use nova_proto::nova::chat::v1 as pb;
use pb::chat_service_client::ChatServiceClient;
use tonic::Request;

use super::convert::{self, response};
use crate::api::ChatApi;
use crate::model::{
    Conversation, ConversationId, Delivery, DmPolicy, HistoryItem, LiveEvent, Members, NewMessage,
    Role, Sent,
};

/// [`ChatApi`] over a remote chat service. Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct ChatGrpcClient {
    inner: ChatServiceClient<ServiceChannel>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for ChatGrpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatGrpcClient").finish_non_exhaustive()
    }
}

impl ChatGrpcClient {
    /// Connects to `endpoint` (e.g. `http://realtime-chat-service:9086`).
    pub async fn connect(endpoint: impl Into<String>) -> Result<Self> {
        let channel = nova_core::error::grpc_connect(endpoint).await?;
        Ok(Self::from_channel(channel))
    }

    /// A client over an existing channel.
    pub fn from_channel(channel: impl Into<ServiceChannel>) -> Self {
        Self {
            inner: ChatServiceClient::new(channel.into()),
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

    fn rpc(&self) -> ChatServiceClient<ServiceChannel> {
        self.inner.clone()
    }
}

fn conversations(items: Vec<pb::Conversation>) -> Result<Vec<Conversation>> {
    response(items.into_iter().map(convert::conversation_from).collect())
}

#[async_trait]
impl ChatApi for ChatGrpcClient {
    async fn open_direct(&self, principal: &Principal, other: UserId) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::OpenDirectRequest {
                user_id: other.to_string(),
            },
        )?;
        let c = self.rpc().open_direct(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn create_group(
        &self,
        principal: &Principal,
        title: &str,
        members: &[UserId],
    ) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::CreateGroupRequest {
                title: title.to_owned(),
                member_ids: members.iter().map(ToString::to_string).collect(),
            },
        )?;
        let c = self.rpc().create_group(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn conversation(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::GetConversationRequest {
                conversation_id: id.to_string(),
            },
        )?;
        let c = self.rpc().get_conversation(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn conversations(
        &self,
        principal: &Principal,
        archived: bool,
        first: u32,
    ) -> Result<Vec<Conversation>> {
        let request = self.authed(principal, pb::ListConversationsRequest { archived, first })?;
        let page = self.rpc().list_conversations(request).await?.into_inner();
        conversations(page.items)
    }

    async fn members(&self, principal: &Principal, id: ConversationId) -> Result<Members> {
        let request = self.authed(
            principal,
            pb::MembersRequest {
                conversation_id: id.to_string(),
            },
        )?;
        let m = self.rpc().members(request).await?.into_inner();
        response(convert::members_from(m))
    }

    async fn invite(
        &self,
        principal: &Principal,
        id: ConversationId,
        users: &[UserId],
    ) -> Result<Members> {
        let request = self.authed(
            principal,
            pb::InviteRequest {
                conversation_id: id.to_string(),
                user_ids: users.iter().map(ToString::to_string).collect(),
            },
        )?;
        let m = self.rpc().invite(request).await?.into_inner();
        response(convert::members_from(m))
    }

    async fn kick(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
    ) -> Result<Members> {
        let request = self.authed(
            principal,
            pb::KickRequest {
                conversation_id: id.to_string(),
                user_id: user.to_string(),
            },
        )?;
        let m = self.rpc().kick(request).await?.into_inner();
        response(convert::members_from(m))
    }

    async fn leave(&self, principal: &Principal, id: ConversationId) -> Result<()> {
        let request = self.authed(
            principal,
            pb::LeaveRequest {
                conversation_id: id.to_string(),
            },
        )?;
        self.rpc().leave(request).await?;
        Ok(())
    }

    async fn set_role(
        &self,
        principal: &Principal,
        id: ConversationId,
        user: UserId,
        role: Role,
    ) -> Result<Members> {
        let request = self.authed(
            principal,
            pb::SetRoleRequest {
                conversation_id: id.to_string(),
                user_id: user.to_string(),
                role: role.as_str().to_owned(),
            },
        )?;
        let m = self.rpc().set_role(request).await?.into_inner();
        response(convert::members_from(m))
    }

    async fn update_group(
        &self,
        principal: &Principal,
        id: ConversationId,
        title: &str,
        avatar_media_id: &str,
    ) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::UpdateGroupRequest {
                conversation_id: id.to_string(),
                title: title.to_owned(),
                avatar_media_id: avatar_media_id.to_owned(),
            },
        )?;
        let c = self.rpc().update_group(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn send(
        &self,
        principal: &Principal,
        id: ConversationId,
        message: NewMessage,
    ) -> Result<Sent> {
        let request = self.authed(principal, convert::send_request(id, message))?;
        let sent = self.rpc().send(request).await?.into_inner();
        response(convert::sent_from(sent))
    }

    async fn history(
        &self,
        principal: &Principal,
        id: ConversationId,
        device: &DeviceId,
        before: Option<i64>,
        first: u32,
    ) -> Result<Vec<HistoryItem>> {
        let request = self.authed(
            principal,
            pb::HistoryRequest {
                conversation_id: id.to_string(),
                device_id: device.to_string(),
                before,
                first,
            },
        )?;
        let page = self.rpc().history(request).await?.into_inner();
        response(
            page.items
                .into_iter()
                .map(convert::history_item_from)
                .collect(),
        )
    }

    async fn inbox(
        &self,
        principal: &Principal,
        device: &DeviceId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let request = self.authed(
            principal,
            pb::InboxRequest {
                device_id: device.to_string(),
                after,
                limit,
            },
        )?;
        let page = self.rpc().inbox(request).await?.into_inner();
        response(page.items.into_iter().map(convert::delivery_from).collect())
    }

    async fn acknowledge(
        &self,
        principal: &Principal,
        device: &DeviceId,
        up_to: i64,
    ) -> Result<u64> {
        let request = self.authed(
            principal,
            pb::AcknowledgeRequest {
                device_id: device.to_string(),
                up_to,
            },
        )?;
        Ok(self
            .rpc()
            .acknowledge(request)
            .await?
            .into_inner()
            .acknowledged)
    }

    async fn acknowledged(&self, principal: &Principal, device: &DeviceId) -> Result<i64> {
        let request = self.authed(
            principal,
            pb::AcknowledgedRequest {
                device_id: device.to_string(),
            },
        )?;
        Ok(self.rpc().acknowledged(request).await?.into_inner().cursor)
    }

    async fn mark_read(
        &self,
        principal: &Principal,
        id: ConversationId,
        message_id: i64,
    ) -> Result<()> {
        let request = self.authed(
            principal,
            pb::MarkReadRequest {
                conversation_id: id.to_string(),
                message_id,
            },
        )?;
        self.rpc().mark_read(request).await?;
        Ok(())
    }

    async fn set_archived(
        &self,
        principal: &Principal,
        id: ConversationId,
        archived: bool,
        keep_archived: bool,
    ) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::SetArchivedRequest {
                conversation_id: id.to_string(),
                archived,
                keep_archived,
            },
        )?;
        let c = self.rpc().set_archived(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn mute(
        &self,
        principal: &Principal,
        id: ConversationId,
        until: Option<Timestamp>,
    ) -> Result<Conversation> {
        let request = self.authed(
            principal,
            pb::MuteRequest {
                conversation_id: id.to_string(),
                until: until.map(convert::timestamp),
            },
        )?;
        let c = self.rpc().mute(request).await?.into_inner();
        response(convert::conversation_from(c))
    }

    async fn dm_policy(&self, principal: &Principal) -> Result<DmPolicy> {
        let request = self.authed(principal, pb::GetDmPolicyRequest {})?;
        let p = self.rpc().get_dm_policy(request).await?.into_inner();
        response(DmPolicy::parse(&p.allow))
    }

    async fn set_dm_policy(&self, principal: &Principal, policy: DmPolicy) -> Result<DmPolicy> {
        let request = self.authed(
            principal,
            pb::DmPolicy {
                allow: policy.as_str().to_owned(),
            },
        )?;
        let p = self.rpc().set_dm_policy(request).await?.into_inner();
        response(DmPolicy::parse(&p.allow))
    }

    async fn typing(&self, principal: &Principal, id: ConversationId) -> Result<()> {
        let request = self.authed(
            principal,
            pb::TypingRequest {
                conversation_id: id.to_string(),
            },
        )?;
        self.rpc().typing(request).await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        principal: &Principal,
        device: &DeviceId,
    ) -> Result<BoxStream<'static, LiveEvent>> {
        let request = self.authed(
            principal,
            pb::SubscribeRequest {
                device_id: device.to_string(),
            },
        )?;
        let stream = self.rpc().subscribe(request).await?.into_inner();
        // The stream ends when the server's does (or on an error, logged here); a live
        // consumer resumes from its device's cursor, so nothing stored is lost.
        Ok(stream
            .take_while(|m| {
                if let Err(status) = m {
                    tracing::warn!(error = %status, "chat: live stream from the chat service ended");
                }
                std::future::ready(m.is_ok())
            })
            .filter_map(|m| async move {
                let event = convert::live_event_from(m.ok()?);
                match response(event) {
                    Ok(event) => Some(event),
                    Err(e) => {
                        tracing::warn!(error = %e, "chat: live event skipped");
                        None
                    }
                }
            })
            .boxed())
    }
}
