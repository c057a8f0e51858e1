//! Keeps the index current from the event log.
//!
//! | event | index change |
//! |---|---|
//! | `post.created`, `post.edited`, `like.*`, `repost.*` | the post re-read from the [`Corpus`] and upserted (removed if it is gone) |
//! | `post.deleted` | the post removed |
//! | `user.registered`, `user.profile_updated`, `user.username_changed` | the account re-read and upserted; when its privacy changed, its posts re-read too |
//! | `user.state_changed` `deactivated` / `deleted` | the account and all its posts removed |
//! | `user.state_changed` `reactivated` | the account and its posts re-read |
//!
//! Events only say *what* changed; the current state is read back, so a redelivered or
//! reordered event converges on the same index (wrap the handler in
//! [`nova_events::idempotency::Idempotent`] to skip redeliveries by event id). Each event's
//! changes are one engine batch: committed and searchable when the handler returns, so a
//! deleted post is gone from search within one consumer cycle.

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Error, PostId, Result, UserId};
use nova_events::{EventEnvelope, EventHandler, types};
use nova_proto::nova::content::v1 as content;
use nova_proto::nova::identity::v1 as identity;
use nova_proto::nova::social::v1 as social;
use nova_proto::nova::user::v1 as user;
use prost::Message;

use crate::engine::{Change, SearchEngine};
use crate::ports::Corpus;

/// The consumer group name.
pub const CONSUMER: &str = "search-index";
/// Posts re-read per batch when an author's posts are reindexed.
const AUTHOR_BATCH_PAGES: usize = 1_000;

/// The index's event consumer.
pub struct IndexConsumer {
    engine: Arc<dyn SearchEngine>,
    corpus: Arc<dyn Corpus>,
}

impl IndexConsumer {
    /// Writes `engine` from `corpus`.
    pub fn new(engine: Arc<dyn SearchEngine>, corpus: Arc<dyn Corpus>) -> Self {
        Self { engine, corpus }
    }

    async fn refresh_post(&self, author: &str, post: &str) -> Result<Vec<Change>> {
        let (author, id) = (user_id(author, "author_id")?, post_id(post)?);
        Ok(vec![match self.corpus.post(author, id).await? {
            Some(doc) => Change::UpsertPost(doc),
            None => Change::DeletePost(id),
        }])
    }

    async fn author_posts(&self, author: UserId) -> Result<Vec<Change>> {
        let mut changes = vec![Change::DeleteAuthorPosts(author)];
        let mut after = None;
        for _ in 0..AUTHOR_BATCH_PAGES {
            let (posts, next) = self.corpus.author_posts(author, after).await?;
            changes.extend(posts.into_iter().map(Change::UpsertPost));
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok(changes)
    }

    async fn refresh_user(&self, id: &str) -> Result<Vec<Change>> {
        let id = user_id(id, "user_id")?;
        let Some(doc) = self.corpus.user(id).await? else {
            return Ok(vec![Change::DeleteUser(id), Change::DeleteAuthorPosts(id)]);
        };
        let before = self.engine.user(id).await?;
        let privacy_changed = before.is_some_and(|b| b.private_account != doc.private_account);
        let mut changes = vec![Change::UpsertUser(doc)];
        if privacy_changed {
            changes.extend(self.author_posts(id).await?);
        }
        Ok(changes)
    }

    /// The index changes `event` stands for.
    pub async fn changes(&self, event: &EventEnvelope) -> Result<Vec<Change>> {
        match event.event_type.as_str() {
            types::POST_CREATED | types::COMMENT_CREATED => {
                let p: content::PostCreated = decode(event)?;
                self.refresh_post(&p.author_id, &p.post_id).await
            }
            types::POST_EDITED => {
                let p: content::PostEdited = decode(event)?;
                self.refresh_post(&p.author_id, &p.post_id).await
            }
            types::POST_DELETED => {
                let p: content::PostDeleted = decode(event)?;
                Ok(vec![Change::DeletePost(post_id(&p.post_id)?)])
            }
            types::LIKE_CREATED | types::LIKE_REMOVED => {
                let p: content::LikeChanged = decode(event)?;
                self.refresh_post(&p.post_author_id, &p.post_id).await
            }
            types::REPOST_CREATED | types::REPOST_REMOVED => {
                let p: social::RepostChanged = decode(event)?;
                self.refresh_post(&p.author_id, &p.post_id).await
            }
            types::USER_REGISTERED => {
                let p: identity::UserRegistered = decode(event)?;
                self.refresh_user(&p.user_id).await
            }
            types::PROFILE_UPDATED => {
                let p: user::ProfileUpdated = decode(event)?;
                self.refresh_user(&p.user_id).await
            }
            types::USERNAME_CHANGED => {
                let p: user::UsernameChanged = decode(event)?;
                self.refresh_user(&p.user_id).await
            }
            types::USER_STATE_CHANGED => {
                let p: user::AccountStateChanged = decode(event)?;
                let id = user_id(&p.user_id, "user_id")?;
                match p.state.as_str() {
                    "reactivated" => {
                        let mut changes = self.refresh_user(&p.user_id).await?;
                        changes.extend(self.author_posts(id).await?);
                        Ok(changes)
                    }
                    _ => Ok(vec![Change::DeleteUser(id), Change::DeleteAuthorPosts(id)]),
                }
            }
            _ => Ok(Vec::new()),
        }
    }
}

fn decode<M: Message + Default>(event: &EventEnvelope) -> Result<M> {
    M::decode(event.payload.as_slice())
        .map_err(|e| Error::invalid("payload", format!("not a {}: {e}", event.event_type)))
}

fn user_id(value: &str, field: &str) -> Result<UserId> {
    UserId::parse_field(value, field)
}

fn post_id(value: &str) -> Result<PostId> {
    PostId::parse_field(value, "post_id")
}

#[async_trait]
impl EventHandler for IndexConsumer {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), Error> {
        let changes = self.changes(event).await?;
        self.engine.apply(changes).await
    }
}
