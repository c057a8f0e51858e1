//! The notification domain's [`Relations`] port, answered by the social domain: one
//! `author_access` call per recipient and batch (blocks both ways, block lists, mutes,
//! follows, whether the actor's account exists), and by trust & safety: suspended and
//! deleted accounts notify nobody, silenced ones only their followers, and what
//! moderation removes or hides is withheld when notifications are read.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::{PostId, Result, UserId};
use nova_notification::{Relations, Standing, Withheld};
use nova_social::SocialApi;
use nova_trust_safety::{ActionKind, Target, TargetKind, TrustSafetyApi};

use crate::moderation::account_actions;

/// [`Relations`] over social and trust & safety.
pub struct SocialRelations {
    social: Arc<dyn SocialApi>,
    trust_safety: Arc<dyn TrustSafetyApi>,
}

impl SocialRelations {
    /// Over the owning domains.
    pub fn new(social: Arc<dyn SocialApi>, trust_safety: Arc<dyn TrustSafetyApi>) -> Self {
        Self {
            social,
            trust_safety,
        }
    }
}

#[async_trait]
impl Relations for SocialRelations {
    async fn standings(&self, recipient: UserId, actors: &[UserId]) -> Result<Vec<Standing>> {
        let access = self.social.author_access(Some(recipient), actors).await?;
        let (suspended, silenced) = account_actions(&*self.trust_safety, actors).await?;
        Ok(access
            .into_iter()
            .map(|a| Standing {
                // Suspended accounts notify nobody; silenced ones only their followers.
                may_notify: a.exists
                    && a.can_interact
                    && !suspended.contains(&a.author)
                    && (!silenced.contains(&a.author) || a.viewer_follows),
                muted: a.viewer_mutes,
                muted_reposts_only: a.mutes_reposts_only,
                follows: a.viewer_follows,
            })
            .collect())
    }

    async fn withheld(
        &self,
        recipient: UserId,
        actors: &[UserId],
        posts: &[String],
    ) -> Result<Withheld> {
        let (actors, _) = account_actions(&*self.trust_safety, actors).await?;
        let targets: Vec<Target> = posts
            .iter()
            .filter_map(|p| p.parse::<PostId>().ok())
            .map(Target::post)
            .collect();
        let mut withheld = HashSet::new();
        for chunk in targets.chunks(nova_trust_safety::grpc::MAX_TARGETS) {
            for action in self.trust_safety.actions_in_force(chunk).await? {
                if action.target.kind != TargetKind::Post {
                    continue;
                }
                let gone = match action.kind {
                    ActionKind::Remove => true,
                    // Hidden: only its author still sees it.
                    ActionKind::Hide => action.subject != Some(recipient),
                    _ => false,
                };
                if gone {
                    withheld.insert(PostId::from_uuid(action.target.id).to_string());
                }
            }
        }
        Ok(Withheld {
            actors,
            posts: withheld,
        })
    }
}
