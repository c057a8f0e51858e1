//! `Subscription`: pushed over WebSocket (`graphql-transport-ws`).

use async_graphql::{Context, Subscription};
use futures::stream::{self, BoxStream, StreamExt};

use crate::context::caller;
use crate::error::IntoGql;
use crate::ports::Notification;
use crate::types::Post;

/// The root of subscriptions.
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Posts entering the caller's home feed from now on. Each is fetched as the caller
    /// at delivery time, so a post they may no longer see (block, deletion) is skipped.
    async fn home_feed_posts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<BoxStream<'static, Post>> {
        let call = caller(ctx)?;
        let viewer = call.require()?.clone();
        let ids = call.domains.feed.new_posts(&viewer).await.gql()?;
        let content = call.domains.content.clone();
        Ok(ids
            .filter_map(move |id| {
                let (content, viewer) = (content.clone(), viewer.clone());
                async move { content.post(Some(&viewer), id).await.ok().map(Post) }
            })
            .boxed())
    }

    /// The caller's notifications as they are written (a group that gains an actor comes
    /// again, updated); fed by the notification domain through `NotificationSource`
    /// (without one the subscription stays open and silent).
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<BoxStream<'static, Notification>> {
        let call = caller(ctx)?;
        let viewer = call.require()?;
        match &call.domains.notifications {
            Some(source) => source.subscribe(viewer).await.gql(),
            None => Ok(stream::pending().boxed()),
        }
    }
    /// Live chat events for the caller's `deviceId`: ciphertext deliveries (acknowledge
    /// them over REST or the chat WebSocket), typing, receipts, member changes.
    async fn chat_events(
        &self,
        ctx: &Context<'_>,
        device_id: String,
    ) -> async_graphql::Result<BoxStream<'static, crate::types::ChatEvent>> {
        let call = caller(ctx)?;
        let viewer = call.require()?;
        let device = nova_e2ee::DeviceId::new(device_id).gql()?;
        let chat = crate::types::chat_api(call)?;
        let events = chat.subscribe(viewer, &device).await.gql()?;
        Ok(events
            .filter_map(|e| futures::future::ready(crate::types::ChatEvent::from_live(e)))
            .boxed())
    }
}
