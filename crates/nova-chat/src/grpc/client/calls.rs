//! [`CallApi`] over the remote chat service.

use async_trait::async_trait;
use nova_core::{Principal, Result, UserId};
use nova_e2ee::DeviceId;
use nova_proto::nova::chat::v1 as pb;

use super::super::convert::{self, response};
use super::ChatGrpcClient;
use crate::api::CallApi;
use crate::model::{
    Call, CallId, ConversationId, LocationShare, LocationShareId, LocationUpdate, SignalKind,
    TurnCredentials,
};

#[async_trait]
impl CallApi for ChatGrpcClient {
    async fn start_call(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        device: &DeviceId,
        video: bool,
    ) -> Result<Call> {
        let request = self.authed(
            principal,
            pb::StartCallRequest {
                conversation_id: conversation.to_string(),
                device_id: device.to_string(),
                video,
            },
        )?;
        let c = self.rpc().start_call(request).await?.into_inner();
        response(convert::call_from(c))
    }

    async fn call(&self, principal: &Principal, id: CallId) -> Result<Call> {
        let request = self.authed(
            principal,
            pb::GetCallRequest {
                call_id: id.to_string(),
            },
        )?;
        let c = self.rpc().get_call(request).await?.into_inner();
        response(convert::call_from(c))
    }

    async fn accept_call(
        &self,
        principal: &Principal,
        id: CallId,
        device: &DeviceId,
    ) -> Result<Call> {
        let request = self.authed(
            principal,
            pb::AcceptCallRequest {
                call_id: id.to_string(),
                device_id: device.to_string(),
            },
        )?;
        let c = self.rpc().accept_call(request).await?.into_inner();
        response(convert::call_from(c))
    }

    async fn decline_call(&self, principal: &Principal, id: CallId) -> Result<Call> {
        let request = self.authed(
            principal,
            pb::DeclineCallRequest {
                call_id: id.to_string(),
            },
        )?;
        let c = self.rpc().decline_call(request).await?.into_inner();
        response(convert::call_from(c))
    }

    async fn hang_up(&self, principal: &Principal, id: CallId) -> Result<Call> {
        let request = self.authed(
            principal,
            pb::HangUpRequest {
                call_id: id.to_string(),
            },
        )?;
        let c = self.rpc().hang_up(request).await?.into_inner();
        response(convert::call_from(c))
    }

    async fn signal(
        &self,
        principal: &Principal,
        id: CallId,
        to: UserId,
        kind: SignalKind,
        payload: String,
    ) -> Result<()> {
        let request = self.authed(
            principal,
            pb::SignalRequest {
                call_id: id.to_string(),
                to_user_id: to.to_string(),
                kind: kind.as_str().to_owned(),
                payload,
            },
        )?;
        self.rpc().signal(request).await?;
        Ok(())
    }

    async fn turn_credentials(&self, principal: &Principal) -> Result<TurnCredentials> {
        let request = self.authed(principal, pb::TurnCredentialsRequest {})?;
        let t = self.rpc().turn_credentials(request).await?.into_inner();
        response(convert::turn_from(t))
    }

    async fn start_location_share(
        &self,
        principal: &Principal,
        conversation: ConversationId,
        duration_secs: u32,
    ) -> Result<LocationShare> {
        let request = self.authed(
            principal,
            pb::StartLocationShareRequest {
                conversation_id: conversation.to_string(),
                duration_secs,
            },
        )?;
        let s = self.rpc().start_location_share(request).await?.into_inner();
        response(convert::share_from(s))
    }

    async fn location_shares(
        &self,
        principal: &Principal,
        conversation: ConversationId,
    ) -> Result<Vec<LocationShare>> {
        let request = self.authed(
            principal,
            pb::ListLocationSharesRequest {
                conversation_id: conversation.to_string(),
            },
        )?;
        let items = self
            .rpc()
            .list_location_shares(request)
            .await?
            .into_inner()
            .items;
        response(items.into_iter().map(convert::share_from).collect())
    }

    async fn stop_location_share(
        &self,
        principal: &Principal,
        id: LocationShareId,
    ) -> Result<LocationShare> {
        let request = self.authed(
            principal,
            pb::StopLocationShareRequest {
                share_id: id.to_string(),
            },
        )?;
        let s = self.rpc().stop_location_share(request).await?.into_inner();
        response(convert::share_from(s))
    }

    async fn update_location(
        &self,
        principal: &Principal,
        id: LocationShareId,
        update: LocationUpdate,
    ) -> Result<()> {
        let request = self.authed(principal, convert::update_request(id, update))?;
        self.rpc().update_location(request).await?;
        Ok(())
    }
}
