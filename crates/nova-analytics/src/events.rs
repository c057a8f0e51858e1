//! The event log's events, read as analytics events (no content: ids, kinds and times).
//!
//! | event | analytics event(s) |
//! |---|---|
//! | `user.registered` | `registered` (actor: the new account) |
//! | `session.created` | `session` |
//! | `post.created` | `post` (the new post); for a reply also `reply` on the parent, for its author |
//! | `like.created` / `like.removed` | `like` on the post (sign +1 / -1) |
//! | `repost.created` / `repost.removed` | `repost` on the post (sign +1 / -1) |
//! | `follow.created` / `follow.removed` | `follow` of the followee (sign +1 / -1) |
//!
//! `user.state_changed` with state `deleted` is not recorded: it makes the service
//! forget the account. Everything else is ignored.

use nova_core::{Error, Result, UserId};
use nova_events::EventEnvelope;
use nova_events::types;
use nova_proto::nova::content::v1 as content;
use nova_proto::nova::graph::v1 as graph;
use nova_proto::nova::identity::v1 as identity;
use nova_proto::nova::social::v1 as social;
use nova_proto::nova::user::v1 as user;
use prost::Message;

use crate::model::{Event, EventKind};

/// What an event-log event means here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Events to record.
    Record(Vec<Event>),
    /// An account was deleted: forget it.
    Forget(UserId),
}

fn decode<M: Message + Default>(event: &EventEnvelope) -> Result<M> {
    M::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not a {}: {e}", event.event_type)))
}

fn id(value: &str, field: &str) -> Result<String> {
    Ok(UserId::parse_field(value, field)?.to_string())
}

/// Reads `envelope` (an unknown or irrelevant type is an empty record).
pub fn fact(envelope: &EventEnvelope) -> Result<Fact> {
    let at = envelope.occurred_at;
    let event = |suffix: &str, kind, actor: String, post_id: String, target: String, sign| Event {
        id: format!("{}{suffix}", envelope.id),
        at,
        kind,
        actor,
        post_id,
        target,
        sign,
    };
    let created = |t: &str| t.ends_with(".created");
    Ok(Fact::Record(match envelope.event_type.as_str() {
        types::USER_REGISTERED => {
            let p: identity::UserRegistered = decode(envelope)?;
            let actor = id(&p.user_id, "user_id")?;
            vec![event(
                "",
                EventKind::Registered,
                actor,
                String::new(),
                String::new(),
                1,
            )]
        }
        "session.created" => {
            let p: identity::SessionCreated = decode(envelope)?;
            let actor = id(&p.user_id, "user_id")?;
            vec![event(
                "",
                EventKind::Session,
                actor,
                String::new(),
                String::new(),
                1,
            )]
        }
        types::POST_CREATED => {
            let p: content::PostCreated = decode(envelope)?;
            let author = id(&p.author_id, "author_id")?;
            let mut out = vec![event(
                "",
                EventKind::Post,
                author.clone(),
                p.post_id.clone(),
                String::new(),
                1,
            )];
            if !p.reply_to_id.is_empty() {
                let parent_author = match p.reply_to_author_id.is_empty() {
                    true => String::new(),
                    false => id(&p.reply_to_author_id, "reply_to_author_id")?,
                };
                out.push(event(
                    ":reply",
                    EventKind::Reply,
                    author,
                    p.reply_to_id,
                    parent_author,
                    1,
                ));
            }
            out
        }
        t @ (types::LIKE_CREATED | types::LIKE_REMOVED) => {
            let p: content::LikeChanged = decode(envelope)?;
            let sign = if created(t) { 1 } else { -1 };
            vec![event(
                "",
                EventKind::Like,
                id(&p.user_id, "user_id")?,
                p.post_id,
                id(&p.post_author_id, "post_author_id")?,
                sign,
            )]
        }
        t @ (types::REPOST_CREATED | types::REPOST_REMOVED) => {
            let p: social::RepostChanged = decode(envelope)?;
            let sign = if created(t) { 1 } else { -1 };
            vec![event(
                "",
                EventKind::Repost,
                id(&p.user_id, "user_id")?,
                p.post_id,
                id(&p.author_id, "author_id")?,
                sign,
            )]
        }
        types::FOLLOW_CREATED => {
            let p: graph::FollowCreated = decode(envelope)?;
            vec![event(
                "",
                EventKind::Follow,
                id(&p.follower_id, "follower_id")?,
                String::new(),
                id(&p.followee_id, "followee_id")?,
                1,
            )]
        }
        types::FOLLOW_REMOVED => {
            let p: graph::FollowRemoved = decode(envelope)?;
            vec![event(
                "",
                EventKind::Follow,
                id(&p.follower_id, "follower_id")?,
                String::new(),
                id(&p.followee_id, "followee_id")?,
                -1,
            )]
        }
        types::USER_STATE_CHANGED => {
            let p: user::AccountStateChanged = decode(envelope)?;
            if p.state == "deleted" {
                return Ok(Fact::Forget(UserId::parse_field(&p.user_id, "user_id")?));
            }
            Vec::new()
        }
        _ => Vec::new(),
    }))
}
