//! The notification domain's [`Relations`] port, answered by the social domain: one
//! `author_access` call per recipient and batch (blocks both ways, block lists, mutes,
//! follows, whether the actor's account exists).

use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{Result, UserId};
use nova_notification::{Relations, Standing};
use nova_social::SocialApi;

/// [`Relations`] over social.
pub struct SocialRelations(pub Arc<dyn SocialApi>);

#[async_trait]
impl Relations for SocialRelations {
    async fn standings(&self, recipient: UserId, actors: &[UserId]) -> Result<Vec<Standing>> {
        let access = self.0.author_access(Some(recipient), actors).await?;
        Ok(access
            .into_iter()
            .map(|a| Standing {
                may_notify: a.exists && a.can_interact,
                muted: a.viewer_mutes,
                muted_reposts_only: a.mutes_reposts_only,
                follows: a.viewer_follows,
            })
            .collect())
    }
}
