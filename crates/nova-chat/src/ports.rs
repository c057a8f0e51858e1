//! What nova-chat asks other domains, as ports (implemented in the composition root,
//! nova-app, over the social domain).

use async_trait::async_trait;
use nova_core::{Result, UserId};

/// How one other user stands towards an acting user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// The other account exists and is active.
    pub exists: bool,
    /// No block either way (block lists included).
    pub can_interact: bool,
    /// The other user follows the acting user (for the "people I follow" DM setting).
    pub follows_actor: bool,
}

/// Blocks, existence and follows, answered by social (one batch per call).
#[async_trait]
pub trait ChatRelations: Send + Sync {
    /// How each of `others` stands towards `actor`, in order.
    async fn reach(&self, actor: UserId, others: &[UserId]) -> Result<Vec<Reach>>;

    /// Whether moderation lets `actor` write (start conversations, send, invite): a
    /// suspended or deleted account may not. Yes by default.
    async fn may_write(&self, actor: UserId) -> Result<bool> {
        let _ = actor;
        Ok(true)
    }
}
