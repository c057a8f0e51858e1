//! What nova-notification asks other domains, as its ports (implemented in the
//! composition root, nova-app, over the social domain).

use async_trait::async_trait;
use nova_core::{Result, UserId};

use crate::model::Standing;

/// How a recipient stands towards the accounts that act on them: blocks (both ways,
/// block lists included), mutes, follows. Asked once per recipient per ingested batch.
#[async_trait]
pub trait Relations: Send + Sync {
    /// `recipient`'s standing towards each of `actors`, in order.
    async fn standings(&self, recipient: UserId, actors: &[UserId]) -> Result<Vec<Standing>>;
}
