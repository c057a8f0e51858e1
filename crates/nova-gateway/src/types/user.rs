//! `User` and its connections.

use async_graphql::{Context, ID, Object, SimpleObject};
use nova_core::{Timestamp, UserId};
use nova_user::Profile;

use super::{Post, PostConnection, TimelineKind};
use crate::context::{caller, loaders};
use crate::error::{GqlResult, IntoGql};
use crate::paging::{PageInfo, PageRequest};

/// A user's public profile, as the viewer may see it.
pub(crate) struct User(pub Profile);

/// Loads users by id through the request's loader, in `ids`' order, leaving out those
/// the viewer may not see.
pub(crate) async fn load_users(ctx: &Context<'_>, ids: &[UserId]) -> GqlResult<Vec<User>> {
    let mut found = loaders(ctx)?.users.load_many(ids.iter().copied()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(id))
        .map(User)
        .collect())
}

/// One user through the loader (`None` when missing or hidden).
pub(crate) async fn load_user(ctx: &Context<'_>, id: UserId) -> GqlResult<Option<User>> {
    Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
}

#[Object]
impl User {
    /// The user id.
    async fn id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// Username (display case).
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Display name.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Bio.
    async fn bio(&self) -> &str {
        &self.0.bio
    }
    /// Pronouns.
    async fn pronouns(&self) -> &str {
        &self.0.pronouns
    }
    /// Profile links.
    async fn links(&self) -> &[String] {
        &self.0.links
    }
    /// Avatar media id.
    async fn avatar_id(&self) -> Option<ID> {
        self.0.avatar.map(|m| ID(m.to_string()))
    }
    /// Banner media id.
    async fn banner_id(&self) -> Option<ID> {
        self.0.banner.map(|m| ID(m.to_string()))
    }
    /// The avatar with its variant URLs (null when unset, or where media is not served).
    async fn avatar(&self, ctx: &Context<'_>) -> GqlResult<Option<super::Media>> {
        load_media(ctx, self.0.avatar).await
    }
    /// The banner with its variant URLs (null when unset, or where media is not served).
    async fn banner(&self, ctx: &Context<'_>) -> GqlResult<Option<super::Media>> {
        load_media(ctx, self.0.banner).await
    }
    /// Whether followers need approval.
    async fn private_account(&self) -> bool {
        self.0.private_account
    }
    /// When the account was created.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
    /// The pinned post, if the viewer may see it.
    // Only the user's own post: a pin of someone else's (set before pins were checked,
    // or over REST) shows nothing.
    async fn pinned_post(&self, ctx: &Context<'_>) -> GqlResult<Option<Post>> {
        match self.0.pinned_post {
            Some(id) => Ok(loaders(ctx)?
                .posts
                .load_one(id)
                .await?
                .filter(|p| p.author_id == self.0.user_id)
                .map(Post)),
            None => Ok(None),
        }
    }
    /// Followers count (`null` when the user hides counts).
    async fn follower_count(&self, ctx: &Context<'_>) -> GqlResult<Option<u64>> {
        let counts = loaders(ctx)?.counts.load_one(self.0.user_id).await?;
        Ok(counts.map(|c| c.followers))
    }
    /// Following count (`null` when the user hides counts).
    async fn following_count(&self, ctx: &Context<'_>) -> GqlResult<Option<u64>> {
        let counts = loaders(ctx)?.counts.load_one(self.0.user_id).await?;
        Ok(counts.map(|c| c.following))
    }
    /// Whether the viewer follows this user (`null` when signed out).
    async fn viewer_follows(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        Ok(relationship(ctx, self.0.user_id)
            .await?
            .map(|r| r.following))
    }
    /// Whether this user follows the viewer (`null` when signed out).
    async fn follows_viewer(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        Ok(relationship(ctx, self.0.user_id)
            .await?
            .map(|r| r.followed_by))
    }
    /// Whether the viewer blocks this user (`null` when signed out).
    async fn viewer_blocks(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        Ok(relationship(ctx, self.0.user_id).await?.map(|r| r.blocking))
    }
    /// Whether the viewer mutes this user (`null` when signed out).
    async fn viewer_mutes(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        Ok(relationship(ctx, self.0.user_id).await?.map(|r| r.muting))
    }
    /// Who follows this user, newest first (`NOT_FOUND` when the lists are not for the
    /// viewer).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn followers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<UserConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .social
            .followers(
                call.principal.as_ref(),
                self.0.user_id,
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        user_connection(ctx, &req, page).await
    }
    /// Whom this user follows, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn following(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<UserConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .social
            .following(
                call.principal.as_ref(),
                self.0.user_id,
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        user_connection(ctx, &req, page).await
    }
    /// This user's posts (or replies, or media posts), newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "TimelineKind::Posts")] kind: TimelineKind,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<PostConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .content
            .author_timeline(
                call.principal.as_ref(),
                self.0.user_id,
                kind.into(),
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        PostConnection::from_page(ctx, &req, page).await
    }
}

async fn relationship(
    ctx: &Context<'_>,
    user: UserId,
) -> GqlResult<Option<nova_graph::Relationship>> {
    loaders(ctx)?.relationships.load_one(user).await
}

/// A page of users.
#[derive(SimpleObject)]
pub(crate) struct UserConnection {
    /// The users with their cursors.
    pub edges: Vec<UserEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// A user in a list.
#[derive(SimpleObject)]
pub(crate) struct UserEdge {
    /// Resume after this user.
    pub cursor: String,
    /// The user.
    pub node: User,
}

async fn user_connection(
    ctx: &Context<'_>,
    req: &PageRequest,
    page: nova_core::Page<UserId>,
) -> GqlResult<UserConnection> {
    let window = req.window(page.items, page.end_cursor, page.has_next_page);
    let ids: Vec<UserId> = window.edges.iter().map(|(_, id)| *id).collect();
    let mut found = loaders(ctx)?.users.load_many(ids).await?;
    let edges = window
        .edges
        .into_iter()
        .filter_map(|(cursor, id)| {
            found.remove(&id).map(|p| UserEdge {
                cursor,
                node: User(p),
            })
        })
        .collect();
    Ok(UserConnection {
        edges,
        page_info: window.page_info,
    })
}

async fn load_media(
    ctx: &Context<'_>,
    id: Option<nova_core::MediaId>,
) -> GqlResult<Option<super::Media>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(loaders(ctx)?
        .media
        .load_one(id)
        .await?
        .map(super::Media::new))
}
