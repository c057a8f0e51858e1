//! Per-request DataLoaders: every user, post, relationship and count a response needs is
//! fetched in one batched domain call per kind and per tick, not one call per field.
//!
//! Loaders are built for one caller (their results depend on who asks) and live as long
//! as the request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use nova_content::{AuthorAccess, Post};
use nova_core::{MediaId, PostId, Principal, UserId};
use nova_graph::{FollowCounts, Relationship};
use nova_user::Profile;

use crate::Domains;
use crate::error::{GqlResult, IntoGql};

/// The largest batch one loader sends to a domain (the largest feed page).
const MAX_BATCH: usize = 100;

type Cached<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request.
pub(crate) struct Loaders {
    /// Profiles the caller may see (blocked either way: absent, like a missing user).
    pub users: Cached<UserLoader>,
    /// Posts the caller may see.
    pub posts: Cached<PostLoader>,
    /// How the caller relates to a user (absent without a caller).
    pub relationships: Cached<RelationshipLoader>,
    /// Follow counts a user lets others see (absent when hidden).
    pub counts: Cached<CountsLoader>,
    /// Uploads the caller may see (ready ones, and the caller's own).
    pub media: Cached<MediaLoader>,
    /// Who the loaders act for.
    viewer: Option<UserId>,
    /// Social's answers that came with hydrated posts, shared with the user loader.
    known: Known,
}

/// How the caller stands towards authors, as hydrated posts brought it.
type Known = Arc<Mutex<HashMap<UserId, AuthorAccess>>>;

fn cached<T: Send + Sync + 'static>(loader: T) -> Cached<T> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default()).max_batch_size(MAX_BATCH)
}

impl Loaders {
    /// Loaders acting for `viewer`.
    pub fn new(domains: &Domains, viewer: Option<&Principal>) -> Self {
        let known = Known::default();
        let scope = || Scope {
            domains: domains.clone(),
            viewer: viewer.cloned(),
            known: known.clone(),
        };
        Self {
            users: cached(UserLoader(scope())),
            posts: cached(PostLoader(scope())),
            relationships: cached(RelationshipLoader(scope())),
            counts: cached(CountsLoader(scope())),
            media: cached(MediaLoader(scope())),
            viewer: viewer.map(|v| v.user_id),
            known,
        }
    }

    /// Takes in the access answers hydrated posts carry (content asked social for this
    /// caller), so the user and relationship loaders do not ask again for their authors.
    pub async fn learn_access<'p>(&self, posts: impl Iterator<Item = &'p Post>) {
        let Some(viewer) = self.viewer else {
            return;
        };
        let access: Vec<AuthorAccess> = posts.filter_map(|p| p.access).collect();
        if access.is_empty() {
            return;
        }
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(access.iter().map(|a| (a.author, *a)));
        self.relationships
            .feed_many(access.iter().map(|a| (a.author, a.relationship(viewer))))
            .await;
    }
}

/// Who a loader acts for.
pub(crate) struct Scope {
    domains: Domains,
    viewer: Option<Principal>,
    known: Known,
}

/// Profiles, minus accounts the viewer is blocked from (either way).
pub(crate) struct UserLoader(Scope);

impl Loader<UserId> for UserLoader {
    type Value = Profile;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserId]) -> GqlResult<HashMap<UserId, Profile>> {
        let Scope {
            domains,
            viewer,
            known,
        } = &self.0;
        let profiles = domains.users.profiles(keys).await.gql()?;
        let visible = match viewer {
            Some(viewer) if !profiles.is_empty() => {
                // Authors whose access came with a post are not asked about again.
                let mut allowed: HashMap<UserId, bool> = {
                    let known = known.lock().unwrap_or_else(PoisonError::into_inner);
                    profiles
                        .iter()
                        .filter_map(|p| known.get(&p.user_id))
                        .map(|a| (a.author, a.can_interact))
                        .collect()
                };
                let ask: Vec<UserId> = profiles
                    .iter()
                    .map(|p| p.user_id)
                    .filter(|u| !allowed.contains_key(u))
                    .collect();
                if !ask.is_empty() {
                    let answers = domains
                        .social
                        .can_interact_many(viewer.user_id, &ask)
                        .await
                        .gql()?;
                    allowed.extend(ask.into_iter().zip(answers));
                }
                profiles
                    .into_iter()
                    .filter(|p| {
                        p.user_id == viewer.user_id
                            || allowed.get(&p.user_id).copied().unwrap_or(false)
                    })
                    .collect()
            }
            _ => profiles,
        };
        Ok(visible.into_iter().map(|p| (p.user_id, p)).collect())
    }
}

/// Posts as the viewer may see them (content checks visibility).
pub(crate) struct PostLoader(Scope);

impl Loader<PostId> for PostLoader {
    type Value = Post;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[PostId]) -> GqlResult<HashMap<PostId, Post>> {
        let Scope {
            domains, viewer, ..
        } = &self.0;
        let posts = domains.content.posts(viewer.as_ref(), keys).await.gql()?;
        Ok(posts.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// The viewer's relationship to each user.
pub(crate) struct RelationshipLoader(Scope);

impl Loader<UserId> for RelationshipLoader {
    type Value = Relationship;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserId]) -> GqlResult<HashMap<UserId, Relationship>> {
        let Scope {
            domains, viewer, ..
        } = &self.0;
        let Some(viewer) = viewer else {
            return Ok(HashMap::new());
        };
        let pairs: Vec<(UserId, UserId)> = keys.iter().map(|k| (viewer.user_id, *k)).collect();
        let rels = domains.graph.relationships(&pairs).await.gql()?;
        Ok(rels.into_iter().map(|r| (r.to, r)).collect())
    }
}

/// Follow counts, except of users who hide them from others.
pub(crate) struct CountsLoader(Scope);

impl Loader<UserId> for CountsLoader {
    type Value = FollowCounts;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[UserId]) -> GqlResult<HashMap<UserId, FollowCounts>> {
        let Scope {
            domains, viewer, ..
        } = &self.0;
        let (privacy, counts) =
            futures::try_join!(domains.users.privacy(keys), domains.graph.counts(keys)).gql()?;
        let hidden: Vec<UserId> = privacy
            .iter()
            .filter(|p| p.hide_follow_counts)
            .map(|p| p.user_id)
            .filter(|u| viewer.as_ref().is_none_or(|v| v.user_id != *u))
            .collect();
        Ok(counts
            .into_iter()
            .filter(|c| !hidden.contains(&c.user))
            .map(|c| (c.user, c))
            .collect())
    }
}

/// Uploads with signed variant URLs (none where media is not served).
pub(crate) struct MediaLoader(Scope);

impl Loader<MediaId> for MediaLoader {
    type Value = nova_media::Media;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[MediaId]) -> GqlResult<HashMap<MediaId, nova_media::Media>> {
        let Scope {
            domains, viewer, ..
        } = &self.0;
        let Some(media) = &domains.media else {
            return Ok(HashMap::new());
        };
        let found = media.get_many(viewer.as_ref(), keys).await.gql()?;
        Ok(found.into_iter().map(|m| (m.id, m)).collect())
    }
}
