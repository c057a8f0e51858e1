//! Feeds trending from the content domain's events.
//!
//! The events Nova's domains publish, and what they count as:
//! - content's `post.created` (a use of the post's hashtags by its author),
//!   `comment.created` (a comment on the parent post), `like.created` (a like of the post
//!   and each of its hashtags);
//! - social's `repost.created` (a repost of the post).
//!
//! Other producers (views, bookmarks, quotes from an analytics pipeline) send the
//! generic [`EngagementPayload`] as `post.viewed`, `post.liked`, `post.commented`,
//! `post.reposted`, `post.quoted`, `post.bookmarked` or `post.used`. One event counts for
//! the post, its author, and each hashtag and link. Other event types are ignored.
//! Only engagements with **public** posts count (trending is public): a post, comment
//! or like of a followers-only or mentioned-only post, a comment on one, and a generic
//! payload without `visibility: "public"` are dropped, so their hashtags, links and
//! engagement never reach `trending`. A repost counts only if its event says the post
//! is public (`RepostChanged.visibility`); reposts carry no hashtags or links.
//! Delivery is at-least-once: wrap the handler in
//! [`nova_events::idempotency::Idempotent`] so a redelivered event is not counted twice.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::Error;
use nova_events::{EventEnvelope, EventHandler};
use prost::Message;
use uuid::Uuid;

use nova_proto::nova::content::v1 as content;
use nova_proto::nova::social::v1 as social;

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
    /// The post's visibility: only `public` posts are counted (anything else, or
    /// nothing, is dropped: trending is public).
    #[prost(string, tag = "8")]
    pub visibility: String,
}

/// The only visibility trending counts: what reaches public `trending` must come from
/// posts anyone may see.
const PUBLIC: &str = "public";

/// The engagement kind of an event type, if it is one.
pub fn kind_of(event_type: &str) -> Option<EngagementKind> {
    Some(match event_type {
        "post.viewed" => EngagementKind::View,
        "post.liked" => EngagementKind::Like,
        "post.commented" => EngagementKind::Comment,
        "post.reposted" => EngagementKind::Repost,
        "post.quoted" => EngagementKind::Quote,
        "post.bookmarked" => EngagementKind::Bookmark,
        "post.used" => EngagementKind::Use,
        _ => return None,
    })
}

fn decode<M: Message + Default>(event: &EventEnvelope) -> Result<M, Error> {
    M::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not a {}: {e}", event.event_type)))
}

/// The domains' own events, translated into the generic engagement payload.
fn domain_event(
    event: &EventEnvelope,
) -> Result<Option<(EngagementKind, EngagementPayload)>, Error> {
    Ok(Some(match event.event_type.as_str() {
        nova_events::types::POST_CREATED => {
            let p: content::PostCreated = decode(event)?;
            if p.visibility != PUBLIC {
                return Ok(None);
            }
            let payload = EngagementPayload {
                visibility: p.visibility,
                actor_id: p.author_id.clone(),
                author_id: p.author_id,
                hashtags: p.hashtags,
                lang: p.language,
                ..EngagementPayload::default()
            };
            (EngagementKind::Use, payload)
        }
        nova_events::types::COMMENT_CREATED => {
            let p: content::PostCreated = decode(event)?;
            // A comment counts for its parent: both must be public.
            if p.visibility != PUBLIC || p.reply_to_visibility != PUBLIC {
                return Ok(None);
            }
            let payload = EngagementPayload {
                visibility: p.visibility,
                actor_id: p.author_id,
                post_id: p.reply_to_id,
                author_id: p.reply_to_author_id,
                lang: p.language,
                ..EngagementPayload::default()
            };
            (EngagementKind::Comment, payload)
        }
        nova_events::types::LIKE_CREATED => {
            let p: content::LikeChanged = decode(event)?;
            if p.visibility != PUBLIC {
                return Ok(None);
            }
            let payload = EngagementPayload {
                visibility: p.visibility,
                actor_id: p.user_id,
                post_id: p.post_id,
                author_id: p.post_author_id,
                hashtags: p.hashtags,
                lang: p.language,
                ..EngagementPayload::default()
            };
            (EngagementKind::Like, payload)
        }
        nova_events::types::REPOST_CREATED => {
            let p: social::RepostChanged = decode(event)?;
            // A repost of a followers-only or mentioned-only post (or an event without a
            // visibility) must not make the post or its author trend.
            if p.visibility != PUBLIC {
                return Ok(None);
            }
            // A repost counts for the post and its author, never for hashtags or links
            // (its event carries none).
            let payload = EngagementPayload {
                actor_id: p.user_id,
                post_id: p.post_id,
                author_id: p.author_id,
                visibility: p.visibility,
                ..EngagementPayload::default()
            };
            (EngagementKind::Repost, payload)
        }
        _ => return Ok(None),
    }))
}

fn uuid(value: &str, field: &str) -> Result<Uuid, Error> {
    nova_core::id::parse_uuid(value, field)
}

/// The engagement kind and generic payload of an event: a domain's own event
/// translated, or a generic engagement event as sent; `None` for other events and for
/// engagements with posts that are not public.
pub(crate) fn payload_of(
    event: &EventEnvelope,
) -> Result<Option<(EngagementKind, EngagementPayload)>, Error> {
    if matches!(
        event.event_type.as_str(),
        "post.created" | "comment.created" | "like.created" | "repost.created"
    ) {
        return domain_event(event);
    }
    let Some(kind) = kind_of(&event.event_type) else {
        return Ok(None);
    };
    let p = EngagementPayload::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not an engagement payload: {e}")))?;
    if p.visibility != PUBLIC {
        return Ok(None);
    }
    Ok(Some((kind, p)))
}

/// The engagements one event stands for (empty for other event types).
pub fn engagements(event: &EventEnvelope) -> Result<Vec<Engagement>, Error> {
    let Some((kind, p)) = payload_of(event)? else {
        return Ok(Vec::new());
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(event_type: &str, payload: &impl Message) -> EventEnvelope {
        EventEnvelope::new(
            event_type,
            Uuid::now_v7().to_string(),
            chrono::Utc::now(),
            payload.encode_to_vec(),
        )
    }

    #[test]
    fn content_like_counts_for_the_post_its_author_and_each_hashtag() {
        let (post, author, liker) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let like = content::LikeChanged {
            post_id: post.to_string(),
            post_author_id: author.to_string(),
            user_id: liker.to_string(),
            hashtags: vec!["rustlang".into(), "nova".into()],
            language: "en".into(),
            visibility: "public".into(),
        };
        let found = engagements(&envelope("like.created", &like)).unwrap();
        let entities: Vec<EntityKey> = found.iter().map(|e| e.entity).collect();
        assert_eq!(
            entities,
            vec![
                EntityKey::post(post),
                EntityKey::creator(author),
                EntityKey::hashtag("rustlang"),
                EntityKey::hashtag("nova"),
            ]
        );
        assert!(found.iter().all(|e| e.kind == EngagementKind::Like));
        assert!(found.iter().all(|e| e.account == liker.as_u128()));
        assert!(found.iter().all(|e| e.lang == Code::new("en")));
    }

    #[test]
    fn content_post_created_is_a_use_of_its_hashtags_and_comments_count_for_the_parent() {
        let (post, parent, author, parent_author) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let created = content::PostCreated {
            post_id: post.to_string(),
            author_id: author.to_string(),
            hashtags: vec!["nova".into()],
            reply_to_id: parent.to_string(),
            reply_to_author_id: parent_author.to_string(),
            visibility: "public".into(),
            reply_to_visibility: "public".into(),
            ..Default::default()
        };
        let uses = engagements(&envelope("post.created", &created)).unwrap();
        assert_eq!(
            uses.iter().map(|e| e.entity).collect::<Vec<_>>(),
            vec![EntityKey::creator(author), EntityKey::hashtag("nova")]
        );
        assert!(uses.iter().all(|e| e.kind == EngagementKind::Use));
        let comments = engagements(&envelope("comment.created", &created)).unwrap();
        assert_eq!(
            comments.iter().map(|e| e.entity).collect::<Vec<_>>(),
            vec![EntityKey::post(parent), EntityKey::creator(parent_author)]
        );
        assert!(comments.iter().all(|e| e.kind == EngagementKind::Comment));
    }

    #[test]
    fn engagements_with_posts_that_are_not_public_are_not_counted() {
        let (post, parent, author) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        for visibility in ["followers", "mentioned", ""] {
            let created = content::PostCreated {
                post_id: post.to_string(),
                author_id: author.to_string(),
                hashtags: vec!["secret".into()],
                visibility: visibility.into(),
                ..Default::default()
            };
            assert!(
                engagements(&envelope("post.created", &created))
                    .unwrap()
                    .is_empty()
            );
            let like = content::LikeChanged {
                post_id: post.to_string(),
                post_author_id: author.to_string(),
                user_id: Uuid::now_v7().to_string(),
                hashtags: vec!["secret".into()],
                visibility: visibility.into(),
                ..Default::default()
            };
            assert!(
                engagements(&envelope("like.created", &like))
                    .unwrap()
                    .is_empty()
            );
            // A public reply on a private post, and a private reply on a public one.
            for (own, parents) in [("public", visibility), (visibility, "public")] {
                let reply = content::PostCreated {
                    post_id: post.to_string(),
                    author_id: author.to_string(),
                    reply_to_id: parent.to_string(),
                    reply_to_author_id: author.to_string(),
                    visibility: own.into(),
                    reply_to_visibility: parents.into(),
                    ..Default::default()
                };
                assert!(
                    engagements(&envelope("comment.created", &reply))
                        .unwrap()
                        .is_empty()
                );
            }
            let generic = EngagementPayload {
                actor_id: Uuid::now_v7().to_string(),
                post_id: post.to_string(),
                hashtags: vec!["secret".into()],
                visibility: visibility.into(),
                ..Default::default()
            };
            assert!(
                engagements(&envelope("post.viewed", &generic))
                    .unwrap()
                    .is_empty()
            );
        }
        // A repost counts for the post and its author only, never for tags or links,
        // and only when the reposted post is public.
        let repost = social::RepostChanged {
            user_id: Uuid::now_v7().to_string(),
            post_id: post.to_string(),
            author_id: author.to_string(),
            visibility: "public".into(),
        };
        for visibility in ["followers", "mentioned", ""] {
            let private = social::RepostChanged {
                visibility: visibility.into(),
                ..repost.clone()
            };
            assert!(
                engagements(&envelope("repost.created", &private))
                    .unwrap()
                    .is_empty(),
                "a repost of a {visibility:?} post counted"
            );
        }
        let found = engagements(&envelope("repost.created", &repost)).unwrap();
        assert_eq!(
            found.iter().map(|e| e.entity).collect::<Vec<_>>(),
            vec![EntityKey::post(post), EntityKey::creator(author)]
        );
    }

    #[test]
    fn unrelated_events_are_ignored_and_garbage_payloads_are_errors() {
        let other = envelope("user.registered", &content::PostDeleted::default());
        assert!(engagements(&other).unwrap().is_empty());
        let garbage = EventEnvelope::new(
            "like.created",
            "x",
            chrono::Utc::now(),
            vec![0xff, 0xff, 0xff],
        );
        assert!(engagements(&garbage).is_err());
    }
}
