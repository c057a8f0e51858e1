//! The interaction port: whether one user may start encrypted sessions with another.

use async_trait::async_trait;
use nova_core::{Result, UserId};

/// Whether `viewer` may interact with `target` (nova-social answers it from blocks).
/// The key directory asks before handing out `target`'s keys or storing a message for
/// `target`.
#[async_trait]
pub trait InteractionPolicy: Send + Sync {
    /// `false` when `target` blocked `viewer` (or interaction is otherwise forbidden).
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool>;
}

/// Everyone may interact: the embedded default until nova-social is wired in.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl InteractionPolicy for AllowAll {
    async fn can_interact(&self, _viewer: UserId, _target: UserId) -> Result<bool> {
        Ok(true)
    }
}
