//! The search domain's ports, implemented over the domains that own the answers:
//! [`DomainAccess`] asks content (post visibility, which itself asks social for blocks,
//! privacy and follows) and users + social (accounts); [`DomainCorpus`] reads posts as
//! their authors see them and profiles with their privacy settings.

use std::sync::Arc;

use async_trait::async_trait;
use nova_content::facets::FacetKind;
use nova_content::{ContentApi, Post, TimelineKind, Visibility};
use nova_core::config::NovaConfig;
use nova_core::{ErrorKind, PostId, Principal, Result, UserId};
use nova_search::{Access, Corpus, PostDoc, PostVisibility, UserDoc};
use nova_social::SocialApi;
use nova_user::UserApi;

use crate::{Domains, Host, Part, Plan, Settings};

/// The name search reads under (in-process `acting_for` principals).
const SERVICE: &str = "search-service";
/// Posts per content call (content's batch cap is 200).
const POSTS_PER_CALL: usize = 100;
/// Posts per page when an author's posts are reindexed.
const AUTHOR_PAGE: u32 = 100;
/// Accounts per page of the full rebuild's walk.
const USER_PAGE: u32 = 500;

/// Viewer access from content, users and social.
pub struct DomainAccess {
    content: Arc<dyn ContentApi>,
    users: Arc<dyn UserApi>,
    social: Arc<dyn SocialApi>,
}

impl DomainAccess {
    /// Over the owning domains.
    pub fn new(
        content: Arc<dyn ContentApi>,
        users: Arc<dyn UserApi>,
        social: Arc<dyn SocialApi>,
    ) -> Self {
        Self {
            content,
            users,
            social,
        }
    }
}

#[async_trait]
impl Access for DomainAccess {
    async fn visible_posts(
        &self,
        viewer: Option<&Principal>,
        ids: &[PostId],
    ) -> Result<Vec<PostId>> {
        let mut visible = Vec::with_capacity(ids.len());
        let me = viewer.map(|v| v.user_id);
        for chunk in ids.chunks(POSTS_PER_CALL) {
            let posts = self.content.posts(viewer, chunk).await?;
            // Content leaves out what moderation hides, removes or suspends; a silenced
            // author's posts are found by their followers only.
            visible.extend(
                posts
                    .into_iter()
                    .filter(|p| {
                        let follows = p.access.is_some_and(|a| a.viewer_follows);
                        !p.deleted && p.reach.discoverable(me, p.author_id, follows)
                    })
                    .map(|p| p.id),
            );
        }
        Ok(visible)
    }

    async fn visible_users(
        &self,
        viewer: Option<&Principal>,
        ids: &[UserId],
    ) -> Result<Vec<UserId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Deactivated and deleted accounts are left out by users.
        let existing: Vec<UserId> = self
            .users
            .profiles(ids)
            .await?
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        let Some(viewer) = viewer.filter(|v| v.is_user()) else {
            return Ok(existing);
        };
        let access = self
            .social
            .author_access(Some(viewer.user_id), &existing)
            .await?;
        Ok(access
            .into_iter()
            .filter(|a| a.exists && a.can_interact)
            .map(|a| a.author)
            .collect())
    }
}

/// Documents read back from content and users.
pub struct DomainCorpus {
    content: Arc<dyn ContentApi>,
    users: Arc<dyn UserApi>,
}

impl DomainCorpus {
    /// Over the owning domains (in-process: reads act for the author).
    pub fn new(content: Arc<dyn ContentApi>, users: Arc<dyn UserApi>) -> Self {
        Self { content, users }
    }

    async fn private(&self, user: UserId) -> Result<bool> {
        Ok(self
            .users
            .privacy(&[user])
            .await?
            .first()
            .is_some_and(|p| p.private_account))
    }
}

fn doc(post: Post, author_private: bool) -> PostDoc {
    let mut hashtags = Vec::new();
    let mut mentions = Vec::new();
    let mut mention_ids = Vec::new();
    for facet in &post.facets {
        match &facet.kind {
            FacetKind::Hashtag { tag } => hashtags.push(tag.to_lowercase()),
            FacetKind::Mention { username, user_id } => {
                mentions.push(username.to_lowercase());
                mention_ids.extend(*user_id);
            }
            FacetKind::Link { .. } => {}
        }
    }
    PostDoc {
        id: post.id,
        author_id: post.author_id,
        text: post.text,
        hashtags,
        mentions,
        mention_ids,
        language: post.language,
        visibility: match post.visibility {
            Visibility::Public => PostVisibility::Public,
            Visibility::Followers => PostVisibility::Followers,
            Visibility::Mentioned => PostVisibility::Mentioned,
        },
        author_private,
        has_media: !post.media.is_empty(),
        created_at: post.created_at,
        like_count: post.like_count,
        repost_count: post.reply_count + post.quote_count,
    }
}

#[async_trait]
impl Corpus for DomainCorpus {
    async fn post(&self, author: UserId, id: PostId) -> Result<Option<PostDoc>> {
        let as_author = Principal::acting_for(SERVICE, author);
        let post = match self.content.post(Some(&as_author), id).await {
            Ok(post) => post,
            Err(e) if *e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if post.deleted || post.author_id != author {
            return Ok(None);
        }
        Ok(Some(doc(post, self.private(author).await?)))
    }

    async fn user_ids(&self, after: Option<UserId>) -> Result<Vec<UserId>> {
        self.users.active_user_ids(after, USER_PAGE).await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserDoc>> {
        let profile = match self.users.profile(id).await {
            Ok(p) => p,
            Err(e) if *e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let privacy = self.users.privacy(&[id]).await?;
        let settings = privacy.first();
        Ok(Some(UserDoc {
            id,
            username: profile.username,
            display_name: profile.display_name,
            bio: profile.bio,
            private_account: settings.is_some_and(|s| s.private_account),
            discoverable: settings.is_none_or(|s| s.discoverable),
        }))
    }

    async fn author_posts(
        &self,
        author: UserId,
        after: Option<String>,
    ) -> Result<(Vec<PostDoc>, Option<String>)> {
        // Top-level posts first, then replies: the cursor says which and where.
        let (kind, cursor) = match after.as_deref().and_then(|a| a.split_once('|')) {
            Some(("r", c)) => (TimelineKind::Replies, c),
            Some((_, c)) => (TimelineKind::Posts, c),
            None => (TimelineKind::Posts, ""),
        };
        let as_author = Principal::acting_for(SERVICE, author);
        let page = self
            .content
            .author_timeline(
                Some(&as_author),
                author,
                kind,
                AUTHOR_PAGE,
                (!cursor.is_empty()).then_some(cursor),
            )
            .await?;
        let private = self.private(author).await?;
        let docs = page
            .items
            .into_iter()
            .filter(|p| !p.deleted && p.author_id == author)
            .map(|p| doc(p, private))
            .collect();
        let next = match (page.has_next_page, page.end_cursor, kind) {
            (true, Some(c), TimelineKind::Replies) => Some(format!("r|{c}")),
            (true, Some(c), _) => Some(format!("p|{c}")),
            (_, _, TimelineKind::Posts) => Some("r|".to_owned()),
            _ => None,
        };
        Ok((docs, next))
    }
}

/// What `nova search reindex` builds: content and users (with what they need), nothing
/// served, no consumers run.
const REINDEX_PLAN: Plan = Plan {
    service: "nova",
    spec: "search-service",
    serves: &[],
    local: &[Part::Content, Part::Users],
    all_in_one: false,
    stateless: false,
};

/// `nova search reindex`: builds the domains search reads from over `config`'s storage
/// (nothing is served), rebuilds the configured search engine's index from them through
/// [`DomainCorpus`] (see `nova_search::setup::reindex`), reporting running totals to
/// `progress`, and closes the storage again.
pub async fn reindex(
    config: NovaConfig,
    progress: impl FnMut(nova_search::reindex::Progress),
) -> std::result::Result<nova_search::reindex::Progress, String> {
    let settings = Settings::read(&REINDEX_PLAN, &config)?;
    let mut host = Host::start(&config, settings.spec.name, REINDEX_PLAN.stateless).await?;
    let built = match Domains::build(settings, &mut host, &config).await {
        Ok(built) => built,
        Err(e) => {
            host.shutdown().await;
            return Err(e);
        }
    };
    let domains = built.domains;
    let result = match (domains.content, domains.users) {
        (Some(content), Some(users)) => {
            let corpus = DomainCorpus::new(content, users);
            nova_search::setup::reindex(&config, &corpus, progress).await
        }
        _ => Err("search reindex: content and users were not built".to_owned()),
    };
    host.shutdown().await;
    result
}

/// `nova search reindex` for a binary named `binary`: [`reindex`] with a running progress
/// line on stderr and a one-line summary on stdout.
pub async fn reindex_reporting(
    binary: &str,
    config: NovaConfig,
) -> std::result::Result<(), String> {
    use std::io::Write;
    let started = std::time::Instant::now();
    let done = reindex(config, |p| {
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\rsearch reindex: {} accounts, {} posts ({:.0?})",
            p.users,
            p.posts,
            started.elapsed()
        );
        let _ = err.flush();
    })
    .await?;
    eprintln!();
    println!(
        "{binary}: search index rebuilt: {} accounts, {} posts in {:.1?}",
        done.users,
        done.posts,
        started.elapsed()
    );
    Ok(())
}
