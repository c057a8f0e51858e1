//! Content's trust & safety ports ([`PublishCheck`], [`Moderation`]) answered by the
//! trust & safety domain: the pre-publish check and the actions in force.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use nova_content::{Moderation, PublishCheck, Restrictions, Screening};
use nova_core::{Error, ErrorKind, PostId, Result, UserId};
use nova_trust_safety::{
    ActionKind, CheckInput, Surface, Target, TargetKind, TrustSafetyApi, VerdictKind,
};

/// What a held post's author is told when the rule gave no reason.
const HELD: &str = "Your post is waiting for a moderator's review; only you can see it.";
/// A rejecting rule without a public reason.
const REJECTED: &str = "This post breaks a community rule.";

/// [`PublishCheck`] and [`Moderation`] over trust & safety.
pub struct TrustSafetyPorts(pub Arc<dyn TrustSafetyApi>);

#[async_trait]
impl PublishCheck for TrustSafetyPorts {
    async fn screen(&self, author: UserId, text: &str) -> Result<Screening> {
        // A suspended (or deleted) account does not post, whatever token it still holds.
        let (suspended, _) = account_actions(&*self.0, &[author]).await?;
        if !suspended.is_empty() {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                "your account is suspended",
            ));
        }
        let verdict = self
            .0
            .check(CheckInput {
                author: Some(author),
                surface: Surface::Post,
                text: text.to_owned(),
                ..CheckInput::default()
            })
            .await?;
        Ok(match verdict.kind {
            VerdictKind::Allow => Screening::Allow,
            VerdictKind::Label => Screening::Label(
                verdict
                    .labels
                    .iter()
                    .map(|l| l.as_str().to_owned())
                    .collect(),
            ),
            VerdictKind::Hold => Screening::Hold(verdict.reason.unwrap_or_else(|| HELD.into())),
            VerdictKind::Reject => {
                Screening::Reject(verdict.reason.unwrap_or_else(|| REJECTED.into()))
            }
        })
    }

    async fn hold(&self, post: PostId, author: UserId, reason: &str) -> Result<()> {
        self.0
            .hold(Target::post(post), author, reason)
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl Moderation for TrustSafetyPorts {
    async fn restrictions(&self, posts: &[PostId], authors: &[UserId]) -> Result<Restrictions> {
        let targets: Vec<Target> = posts
            .iter()
            .map(|p| Target::post(*p))
            .chain(authors.iter().map(|a| Target::account(*a)))
            .collect();
        let mut out = Restrictions::default();
        for chunk in targets.chunks(nova_trust_safety::grpc::MAX_TARGETS) {
            for action in self.0.actions_in_force(chunk).await? {
                let id = action.target.id;
                match (action.target.kind, action.kind) {
                    (TargetKind::Post, ActionKind::Hide) => {
                        out.hidden.insert(PostId::from_uuid(id));
                    }
                    (TargetKind::Post, ActionKind::Remove) => {
                        out.removed.insert(PostId::from_uuid(id));
                    }
                    (TargetKind::Post, ActionKind::Label) => {
                        if let Some(label) = action.label {
                            out.labels
                                .entry(PostId::from_uuid(id))
                                .or_default()
                                .push(label.as_str().to_owned());
                        }
                    }
                    (TargetKind::Post, ActionKind::ReduceReach) => {
                        out.reduced.insert(PostId::from_uuid(id));
                    }
                    (TargetKind::Account, ActionKind::Suspend | ActionKind::Delete) => {
                        out.suspended.insert(UserId::from_uuid(id));
                    }
                    (TargetKind::Account, ActionKind::Silence) => {
                        out.silenced.insert(UserId::from_uuid(id));
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }
}

/// The accounts among `users` that are suspended or deleted, and those silenced.
pub(crate) async fn account_actions(
    trust_safety: &dyn TrustSafetyApi,
    users: &[UserId],
) -> Result<(HashSet<UserId>, HashSet<UserId>)> {
    let (mut suspended, mut silenced) = (HashSet::new(), HashSet::new());
    let targets: Vec<Target> = users.iter().map(|u| Target::account(*u)).collect();
    for chunk in targets.chunks(nova_trust_safety::grpc::MAX_TARGETS) {
        for action in trust_safety.actions_in_force(chunk).await? {
            let user = UserId::from_uuid(action.target.id);
            match action.kind {
                ActionKind::Suspend | ActionKind::Delete => {
                    suspended.insert(user);
                }
                ActionKind::Silence => {
                    silenced.insert(user);
                }
                _ => {}
            }
        }
    }
    Ok((suspended, silenced))
}
