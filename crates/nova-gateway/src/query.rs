//! `Query`: reads.

use async_graphql::{Context, ID, Object};
use nova_core::{Error, PostId, UserId};

use crate::context::{caller, loaders};
use crate::error::{GqlResult, IntoGql};
use crate::paging::PageRequest;
use crate::types::{
    FeedConnection, FeedMode, NotificationConnection, NotificationFolder, NotificationPolicy, Post,
    SearchResults, SearchType, TrendingItem, User, Viewer, load_user, notification_api, parse_id,
};

/// The root of reads.
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in caller (`UNAUTHENTICATED` without a token).
    async fn viewer(&self, ctx: &Context<'_>) -> GqlResult<Viewer> {
        Ok(Viewer(caller(ctx)?.require()?.clone()))
    }

    /// A user by `id` or `username` (exactly one). Missing, deactivated and blocked
    /// (either way) users are all `NOT_FOUND`.
    async fn user(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        username: Option<String>,
    ) -> GqlResult<User> {
        let user_id: UserId = match (id, username) {
            (Some(id), None) => parse_id(&id, "id")?,
            (None, Some(name)) => {
                let call = caller(ctx)?;
                call.domains
                    .users
                    .profile_by_username(&name)
                    .await
                    .gql()?
                    .user_id
            }
            _ => return Err(Error::invalid("id", "give exactly one of id and username")).gql(),
        };
        load_user(ctx, user_id)
            .await?
            .ok_or_else(Error::not_found)
            .gql()
    }

    /// A post the viewer may see; `NOT_FOUND` otherwise, exactly like a missing id.
    async fn post(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Post> {
        let id: PostId = parse_id(&id, "id")?;
        loaders(ctx)?
            .posts
            .load_one(id)
            .await?
            .map(Post)
            .ok_or_else(Error::not_found)
            .gql()
    }

    /// The caller's home feed.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn home_feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "FeedMode::Chronological")] mode: FeedMode,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<FeedConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .feed
            .home(
                call.require()?,
                mode.into(),
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        FeedConnection::from_page(ctx, &req, page).await
    }

    /// What the caller missed since their last visit, ranked (one page).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn catch_up(&self, ctx: &Context<'_>, first: Option<i32>) -> GqlResult<FeedConnection> {
        let req = PageRequest::new(first, None)?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .feed
            .catch_up(call.require()?, req.fetch())
            .await
            .gql()?;
        FeedConnection::from_page(ctx, &req, page).await
    }

    /// Trending posts for discovery (signed in or not).
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn explore_feed(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<FeedConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = call
            .domains
            .feed
            .explore(call.principal.as_ref(), req.fetch(), req.after.as_deref())
            .await
            .gql()?;
        FeedConnection::from_page(ctx, &req, page).await
    }

    /// What is trending in `scope` (`global`, `lang:en`, `region:US`); with a `window`
    /// (`1h`, `24h`, `7d`, as configured) the most engaged-with entities in it instead.
    #[graphql(complexity = "first.max(0) as usize * child_complexity")]
    async fn trending(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "global")] scope: String,
        window: Option<String>,
        #[graphql(default = 10)] first: i32,
    ) -> GqlResult<Vec<TrendingItem>> {
        if !(1..=100).contains(&first) {
            return Err(Error::invalid("first", "must be 1–100")).gql();
        }
        crate::types::trending(ctx, &scope, window.as_deref(), first as usize).await
    }

    /// Users, posts or hashtags matching `query`, as the caller may see them (signed in or
    /// not): nothing invisible comes back, and a short page only at the end.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(name = "type", default)] kind: SearchType,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<SearchResults> {
        crate::types::search(ctx, query, kind, first, after).await
    }

    /// The caller's notifications, grouped ("ada and 5 others liked your post"), newest
    /// activity first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        folder: Option<NotificationFolder>,
    ) -> GqlResult<NotificationConnection> {
        let req = PageRequest::new(first, after.as_deref())?;
        let call = caller(ctx)?;
        let page = notification_api(call)?
            .list(
                call.require()?,
                folder.unwrap_or_default().into(),
                req.fetch(),
                req.after.as_deref(),
            )
            .await
            .gql()?;
        Ok(NotificationConnection::from_page(&req, page))
    }

    /// How many of the caller's notifications are unread.
    async fn unread_notification_count(
        &self,
        ctx: &Context<'_>,
        folder: Option<NotificationFolder>,
    ) -> GqlResult<u64> {
        let call = caller(ctx)?;
        notification_api(call)?
            .unread_count(call.require()?, folder.unwrap_or_default().into())
            .await
            .gql()
    }

    /// Moderation reads: the queue, reports, appeals, the audit log and the rules.
    /// Moderators and admins only; anyone else gets `NOT_FOUND`.
    async fn moderation(&self, ctx: &Context<'_>) -> GqlResult<crate::types::ModerationQuery> {
        Ok(crate::types::ModerationQuery(crate::types::moderator(ctx)?))
    }

    /// Global figures for operators (the `admin` scope): DAU/WAU/MAU, posts and sessions
    /// per day over `days` days (default 30) ending on `day` (`YYYY-MM-DD`, default
    /// today), and the D1/D7/D30 retention of registration day `cohort` (default 30 days
    /// before `day`).
    async fn admin_stats(
        &self,
        ctx: &Context<'_>,
        day: Option<String>,
        days: Option<i32>,
        cohort: Option<String>,
    ) -> GqlResult<crate::types::AdminStats> {
        crate::types::admin_stats(ctx, day, days, cohort).await
    }

    /// The caller's notification filters.
    async fn notification_policy(&self, ctx: &Context<'_>) -> GqlResult<NotificationPolicy> {
        let call = caller(ctx)?;
        let policy = notification_api(call)?
            .policy(call.require()?)
            .await
            .gql()?;
        Ok(NotificationPolicy {
            filter_not_following: policy.filter_not_following,
        })
    }
    /// The caller's conversations, newest activity first (`archived: true`: only the
    /// archived ones).
    async fn chat_conversations(
        &self,
        ctx: &Context<'_>,
        archived: Option<bool>,
        first: Option<i32>,
    ) -> GqlResult<Vec<crate::types::ChatConversation>> {
        let call = caller(ctx)?;
        let first = u32::try_from(first.unwrap_or(20).max(0)).unwrap_or(0);
        let items = crate::types::chat_api(call)?
            .conversations(call.require()?, archived.unwrap_or(false), first)
            .await
            .gql()?;
        Ok(items.into_iter().map(Into::into).collect())
    }

    /// One of the caller's conversations.
    async fn chat_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> GqlResult<crate::types::ChatConversation> {
        let call = caller(ctx)?;
        let id = parse_id(&id, "id")?;
        Ok(crate::types::chat_api(call)?
            .conversation(call.require()?, id)
            .await
            .gql()?
            .into())
    }

    /// A conversation's members and member version.
    async fn chat_members(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> GqlResult<crate::types::ChatMembers> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        Ok(crate::types::chat_api(call)?
            .members(call.require()?, id)
            .await
            .gql()?
            .into())
    }

    /// A page of a conversation's history, newest first, with the ciphertexts the
    /// caller's `deviceId` can open; `before` a message id for older pages.
    async fn chat_messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        device_id: String,
        before: Option<i64>,
        first: Option<i32>,
    ) -> GqlResult<Vec<crate::types::ChatMessage>> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let device = nova_e2ee::DeviceId::new(device_id).gql()?;
        let first = u32::try_from(first.unwrap_or(50).max(0)).unwrap_or(0);
        let items = crate::types::chat_api(call)?
            .history(call.require()?, id, &device, before, first)
            .await
            .gql()?;
        Ok(items.into_iter().map(Into::into).collect())
    }
}
