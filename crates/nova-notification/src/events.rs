//! The event log's events, read as notification changes.
//!
//! | event | notification |
//! |---|---|
//! | `like.created` / `like.removed` | `like` on the post, for its author (added / removed) |
//! | `repost.created` / `repost.removed` | `repost` on the post, for its author |
//! | `post.created` | `reply` on the parent (for its author), `quote` on the quoted post (for its author), `mention` on the new post (for each mentioned account but those two) |
//! | `post.deleted` | groups about the post and the actors whose own post it was are removed |
//! | `follow.created` / `follow.removed` | `follow`, for the followee |
//! | `follow_request.created` / `.approved` / `.denied` / `.cancelled` | `follow_request` for the target (added / removed) |
//!
//! `comment.created` repeats a reply's `post.created` and is ignored, as is everything
//! else.

use nova_core::{Error, Result, Timestamp, UserId};
use nova_events::EventEnvelope;
use nova_events::types;
use nova_proto::nova::content::v1 as content;
use nova_proto::nova::graph::v1 as graph;
use nova_proto::nova::social::v1 as social;
use prost::Message;

use crate::model::NotificationKind;

/// A change before the recipient's filters are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    /// `actor` did `kind` to `recipient` about `target`.
    Add {
        /// Whose notification.
        recipient: UserId,
        /// What.
        kind: NotificationKind,
        /// The post, or `""`.
        target: String,
        /// Who.
        actor: UserId,
        /// The actor's own post, or `""`.
        subject: String,
        /// When.
        at: Timestamp,
    },
    /// `actor` undid `kind`.
    Remove {
        /// Whose notification.
        recipient: UserId,
        /// What.
        kind: NotificationKind,
        /// The post, or `""`.
        target: String,
        /// Who.
        actor: UserId,
    },
    /// The post is gone.
    RemovePost {
        /// Its id.
        post: String,
    },
}

fn decode<M: Message + Default>(event: &EventEnvelope) -> Result<M> {
    M::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not a {}: {e}", event.event_type)))
}

fn user(value: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(value, field)
}

fn add(
    recipient: UserId,
    kind: NotificationKind,
    target: &str,
    actor: UserId,
    subject: &str,
    at: Timestamp,
) -> Draft {
    Draft::Add {
        recipient,
        kind,
        target: target.to_owned(),
        actor,
        subject: subject.to_owned(),
        at,
    }
}

fn remove(recipient: UserId, kind: NotificationKind, target: &str, actor: UserId) -> Draft {
    Draft::Remove {
        recipient,
        kind,
        target: target.to_owned(),
        actor,
    }
}

/// What `event` means for notifications (nothing for events this domain ignores).
pub fn drafts(event: &EventEnvelope) -> Result<Vec<Draft>> {
    use NotificationKind as K;
    let at = event.occurred_at;
    Ok(match event.event_type.as_str() {
        types::LIKE_CREATED | types::LIKE_REMOVED => {
            let p: content::LikeChanged = decode(event)?;
            let (author, actor) = (
                user(&p.post_author_id, "post_author_id")?,
                user(&p.user_id, "user_id")?,
            );
            match event.event_type == types::LIKE_CREATED {
                true => vec![add(author, K::Like, &p.post_id, actor, "", at)],
                false => vec![remove(author, K::Like, &p.post_id, actor)],
            }
        }
        types::REPOST_CREATED | types::REPOST_REMOVED => {
            let p: social::RepostChanged = decode(event)?;
            let (author, actor) = (
                user(&p.author_id, "author_id")?,
                user(&p.user_id, "user_id")?,
            );
            match event.event_type == types::REPOST_CREATED {
                true => vec![add(author, K::Repost, &p.post_id, actor, "", at)],
                false => vec![remove(author, K::Repost, &p.post_id, actor)],
            }
        }
        types::POST_CREATED => {
            let p: content::PostCreated = decode(event)?;
            let author = user(&p.author_id, "author_id")?;
            let mut out = Vec::new();
            let mut told = Vec::new();
            if !p.reply_to_author_id.is_empty() {
                let parent = user(&p.reply_to_author_id, "reply_to_author_id")?;
                out.push(add(
                    parent,
                    K::Reply,
                    &p.reply_to_id,
                    author,
                    &p.post_id,
                    at,
                ));
                told.push(parent);
            }
            if !p.quote_of_author_id.is_empty() {
                let quoted = user(&p.quote_of_author_id, "quote_of_author_id")?;
                out.push(add(
                    quoted,
                    K::Quote,
                    &p.quote_of_id,
                    author,
                    &p.post_id,
                    at,
                ));
                told.push(quoted);
            }
            for m in &p.mention_ids {
                let mentioned = user(m, "mention_ids")?;
                if !told.contains(&mentioned) {
                    out.push(add(
                        mentioned,
                        K::Mention,
                        &p.post_id,
                        author,
                        &p.post_id,
                        at,
                    ));
                    told.push(mentioned);
                }
            }
            out
        }
        types::POST_DELETED => {
            let p: content::PostDeleted = decode(event)?;
            vec![Draft::RemovePost { post: p.post_id }]
        }
        types::FOLLOW_CREATED => {
            let p: graph::FollowCreated = decode(event)?;
            let (follower, followee) = (
                user(&p.follower_id, "follower_id")?,
                user(&p.followee_id, "followee_id")?,
            );
            vec![add(followee, K::Follow, "", follower, "", at)]
        }
        types::FOLLOW_REMOVED => {
            let p: graph::FollowRemoved = decode(event)?;
            let (follower, followee) = (
                user(&p.follower_id, "follower_id")?,
                user(&p.followee_id, "followee_id")?,
            );
            vec![remove(followee, K::Follow, "", follower)]
        }
        types::FOLLOW_REQUEST_CREATED
        | types::FOLLOW_REQUEST_APPROVED
        | types::FOLLOW_REQUEST_DENIED
        | types::FOLLOW_REQUEST_CANCELLED => {
            let p: social::FollowRequestChanged = decode(event)?;
            let (requester, target) = (
                user(&p.requester_id, "requester_id")?,
                user(&p.target_id, "target_id")?,
            );
            match event.event_type == types::FOLLOW_REQUEST_CREATED {
                true => vec![add(target, K::FollowRequest, "", requester, "", at)],
                false => vec![remove(target, K::FollowRequest, "", requester)],
            }
        }
        _ => Vec::new(),
    })
}
