//! Feeds trending from the content domain's events.
//!
//! Event types and the engagement they count as: `post.viewed` (view), `post.liked`
//! (like), `post.commented` (comment), `post.reposted` (repost), `post.quoted` (quote),
//! `post.bookmarked` (bookmark), `post.created` (a use of its hashtags and links). One
//! event counts for the post, its author, and each hashtag and link. Other event types
//! are ignored. Delivery is at-least-once: wrap the handler in
//! [`nova_events::idempotency::Idempotent`] so a redelivered event is not counted twice.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::Error;
use nova_events::{EventEnvelope, EventHandler};
use prost::Message;
use uuid::Uuid;

use crate::api::TrendingApi;
use crate::model::{Code, Engagement, EngagementKind, EntityKey};

/// The protobuf payload of engagement events (field numbers are the contract with the
/// content domain).
#[derive(Clone, PartialEq, Message)]
pub struct EngagementPayload {
    /// Who engaged (user UUID).
    #[prost(string, tag = "1")]
    pub actor_id: String,
    /// The post (UUID).
    #[prost(string, tag = "2")]
    pub post_id: String,
    /// The post's author (UUID), if known.
    #[prost(string, tag = "3")]
    pub author_id: String,
    /// The post's hashtags, without `#`.
    #[prost(string, repeated, tag = "4")]
    pub hashtags: Vec<String>,
    /// The post's links.
    #[prost(string, repeated, tag = "5")]
    pub links: Vec<String>,
    /// The post's language, if known.
    #[prost(string, tag = "6")]
    pub lang: String,
    /// A region tag, if any.
    #[prost(string, tag = "7")]
    pub region: String,
}

/// The engagement kind of an event type, if it is one.
pub fn kind_of(event_type: &str) -> Option<EngagementKind> {
    Some(match event_type {
        "post.viewed" => EngagementKind::View,
        "post.liked" => EngagementKind::Like,
        "post.commented" => EngagementKind::Comment,
        "post.reposted" => EngagementKind::Repost,
        "post.quoted" => EngagementKind::Quote,
        "post.bookmarked" => EngagementKind::Bookmark,
        "post.created" => EngagementKind::Use,
        _ => return None,
    })
}

fn uuid(value: &str, field: &str) -> Result<Uuid, Error> {
    nova_core::id::parse_uuid(value, field)
}

/// The engagements one event stands for (empty for other event types).
pub fn engagements(event: &EventEnvelope) -> Result<Vec<Engagement>, Error> {
    let Some(kind) = kind_of(&event.event_type) else {
        return Ok(Vec::new());
    };
    let p = EngagementPayload::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not an engagement payload: {e}")))?;
    let account = uuid(&p.actor_id, "actor_id")?.as_u128();
    let mut entities = Vec::new();
    if kind != EngagementKind::Use {
        entities.push(EntityKey::post(uuid(&p.post_id, "post_id")?));
    }
    if !p.author_id.is_empty() {
        entities.push(EntityKey::creator(uuid(&p.author_id, "author_id")?));
    }
    entities.extend(p.hashtags.iter().map(|t| EntityKey::hashtag(t)));
    entities.extend(p.links.iter().map(|l| EntityKey::link(l)));
    let (lang, region) = (Code::new(&p.lang), Code::new(&p.region));
    Ok(entities
        .into_iter()
        .map(|entity| Engagement {
            entity,
            account,
            kind,
            at: event.occurred_at,
            lang,
            region,
        })
        .collect())
}

/// An [`EventHandler`] that ingests engagement events into a trending API.
pub struct EngagementConsumer {
    api: Arc<dyn TrendingApi>,
}

impl EngagementConsumer {
    /// Feeds `api`.
    pub fn new(api: Arc<dyn TrendingApi>) -> Self {
        Self { api }
    }
}

#[async_trait]
impl EventHandler for EngagementConsumer {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        let events = engagements(event)?;
        if !events.is_empty() {
            self.api.ingest(&events).await?;
        }
        Ok(())
    }
}
