//! Counting decorators: every domain API wrapped so a test can assert how many calls a
//! request cost (generated from the API traits; each method counts, then delegates).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::BoxStream;
use nova_content::model::{Edit, NewPost, Post};
use nova_content::store::TimelineKind;
use nova_core::{Error, PostId, Principal, Result, SessionId, Timestamp, UserId};
use nova_feed::model::{FeedMode, FeedPage};
use nova_graph::model::{FollowCounts, Page, Relationship, Suggestion};
use nova_identity::model::{
    Account, LoginOutcome, LoginRequest, OAuthStart, RegisterRequest, RequestContext, SessionInfo,
    TokenPair, TotpEnrollment,
};
use nova_social::model::{BlockList, BlockListId, FollowOutcome, FollowRequest};
use nova_trending::model::{Engagement, EntityKey, Ranked, ReviewState, Scope, Trend};
use nova_user::model::{PrivacySettings, Profile, ProfileUpdate, Settings};

/// Calls per `Trait::method`.
#[derive(Default)]
pub struct Calls(Mutex<HashMap<&'static str, usize>>);

impl Calls {
    pub fn hit(&self, name: &'static str) {
        *self.0.lock().unwrap().entry(name).or_default() += 1;
    }
    pub fn get(&self, name: &str) -> usize {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
    pub fn reset(&self) {
        self.0.lock().unwrap().clear();
    }
    pub fn snapshot(&self) -> HashMap<&'static str, usize> {
        self.0.lock().unwrap().clone()
    }
}

/// `inner`, counting each call into `calls`.
pub struct Counted<T: ?Sized> {
    pub inner: Arc<T>,
    pub calls: Arc<Calls>,
}
#[async_trait]
impl nova_identity::IdentityApi for Counted<dyn nova_identity::IdentityApi> {
    async fn register(&self, req: RegisterRequest, ctx: &RequestContext) -> Result<Account> {
        self.calls.hit("IdentityApi::register");
        self.inner.register(req, ctx).await
    }
    async fn verify_email(&self, token: &str) -> Result<()> {
        self.calls.hit("IdentityApi::verify_email");
        self.inner.verify_email(token).await
    }
    async fn resend_verification(&self, principal: &Principal) -> Result<()> {
        self.calls.hit("IdentityApi::resend_verification");
        self.inner.resend_verification(principal).await
    }
    async fn login(&self, req: LoginRequest, ctx: &RequestContext) -> Result<LoginOutcome> {
        self.calls.hit("IdentityApi::login");
        self.inner.login(req, ctx).await
    }
    async fn login_two_factor(
        &self,
        challenge: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> Result<TokenPair> {
        self.calls.hit("IdentityApi::login_two_factor");
        self.inner.login_two_factor(challenge, code, ctx).await
    }
    async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<TokenPair> {
        self.calls.hit("IdentityApi::refresh");
        self.inner.refresh(refresh_token, ctx).await
    }
    async fn logout(&self, principal: &Principal) -> Result<()> {
        self.calls.hit("IdentityApi::logout");
        self.inner.logout(principal).await
    }
    async fn logout_everywhere(&self, principal: &Principal) -> Result<u64> {
        self.calls.hit("IdentityApi::logout_everywhere");
        self.inner.logout_everywhere(principal).await
    }
    async fn sessions(&self, principal: &Principal) -> Result<Vec<SessionInfo>> {
        self.calls.hit("IdentityApi::sessions");
        self.inner.sessions(principal).await
    }
    async fn revoke_session(&self, principal: &Principal, session: SessionId) -> Result<()> {
        self.calls.hit("IdentityApi::revoke_session");
        self.inner.revoke_session(principal, session).await
    }
    async fn account(&self, principal: &Principal) -> Result<Account> {
        self.calls.hit("IdentityApi::account");
        self.inner.account(principal).await
    }
    async fn change_password(&self, principal: &Principal, current: &str, new: &str) -> Result<()> {
        self.calls.hit("IdentityApi::change_password");
        self.inner.change_password(principal, current, new).await
    }
    async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        self.calls.hit("IdentityApi::request_password_reset");
        self.inner.request_password_reset(email, ctx).await
    }
    async fn reset_password(&self, token: &str, new: &str) -> Result<()> {
        self.calls.hit("IdentityApi::reset_password");
        self.inner.reset_password(token, new).await
    }
    async fn enroll_totp(&self, principal: &Principal) -> Result<TotpEnrollment> {
        self.calls.hit("IdentityApi::enroll_totp");
        self.inner.enroll_totp(principal).await
    }
    async fn confirm_totp(&self, principal: &Principal, code: &str) -> Result<Vec<String>> {
        self.calls.hit("IdentityApi::confirm_totp");
        self.inner.confirm_totp(principal, code).await
    }
    async fn disable_totp(&self, principal: &Principal, code: &str) -> Result<()> {
        self.calls.hit("IdentityApi::disable_totp");
        self.inner.disable_totp(principal, code).await
    }
    async fn set_role(
        &self,
        admin: &Principal,
        user: nova_core::UserId,
        role: &str,
        granted: bool,
        reason: &str,
    ) -> Result<bool> {
        self.calls.hit("IdentityApi::set_role");
        self.inner
            .set_role(admin, user, role, granted, reason)
            .await
    }
    async fn verify_access_token(&self, token: &str) -> Result<Principal> {
        self.calls.hit("IdentityApi::verify_access_token");
        self.inner.verify_access_token(token).await
    }
    async fn jwks(&self) -> Result<serde_json::Value> {
        self.calls.hit("IdentityApi::jwks");
        self.inner.jwks().await
    }
    async fn oauth_start(&self, provider: &str, redirect_uri: &str) -> Result<OAuthStart> {
        self.calls.hit("IdentityApi::oauth_start");
        self.inner.oauth_start(provider, redirect_uri).await
    }
    async fn oauth_callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        ctx: &RequestContext,
    ) -> Result<LoginOutcome> {
        self.calls.hit("IdentityApi::oauth_callback");
        self.inner.oauth_callback(provider, code, state, ctx).await
    }
    async fn oauth_link(
        &self,
        principal: &Principal,
        provider: &str,
        code: &str,
        state: &str,
    ) -> Result<()> {
        self.calls.hit("IdentityApi::oauth_link");
        self.inner
            .oauth_link(principal, provider, code, state)
            .await
    }
}

#[async_trait]
impl nova_user::UserApi for Counted<dyn nova_user::UserApi> {
    async fn profile(&self, user: UserId) -> Result<Profile> {
        self.calls.hit("UserApi::profile");
        self.inner.profile(user).await
    }
    async fn profile_by_username(&self, username: &str) -> Result<Profile> {
        self.calls.hit("UserApi::profile_by_username");
        self.inner.profile_by_username(username).await
    }
    async fn profiles(&self, ids: &[UserId]) -> Result<Vec<Profile>> {
        self.calls.hit("UserApi::profiles");
        self.inner.profiles(ids).await
    }
    async fn update_profile(
        &self,
        principal: &Principal,
        update: ProfileUpdate,
    ) -> Result<Profile> {
        self.calls.hit("UserApi::update_profile");
        self.inner.update_profile(principal, update).await
    }
    async fn settings(&self, principal: &Principal) -> Result<Settings> {
        self.calls.hit("UserApi::settings");
        self.inner.settings(principal).await
    }
    async fn update_settings(&self, principal: &Principal, settings: Settings) -> Result<Settings> {
        self.calls.hit("UserApi::update_settings");
        self.inner.update_settings(principal, settings).await
    }
    async fn privacy(&self, ids: &[UserId]) -> Result<Vec<PrivacySettings>> {
        self.calls.hit("UserApi::privacy");
        self.inner.privacy(ids).await
    }
    async fn change_username(&self, principal: &Principal, username: &str) -> Result<Profile> {
        self.calls.hit("UserApi::change_username");
        self.inner.change_username(principal, username).await
    }
    async fn deactivate(&self, principal: &Principal) -> Result<()> {
        self.calls.hit("UserApi::deactivate");
        self.inner.deactivate(principal).await
    }
    async fn reactivate(&self, principal: &Principal) -> Result<()> {
        self.calls.hit("UserApi::reactivate");
        self.inner.reactivate(principal).await
    }
    async fn delete_account(&self, principal: &Principal, reason: &str) -> Result<()> {
        self.calls.hit("UserApi::delete_account");
        self.inner.delete_account(principal, reason).await
    }
    async fn moderator_delete(
        &self,
        moderator: &Principal,
        user: UserId,
        reason: &str,
    ) -> Result<()> {
        self.calls.hit("UserApi::moderator_delete");
        self.inner.moderator_delete(moderator, user, reason).await
    }
}

#[async_trait]
impl nova_graph::GraphApi for Counted<dyn nova_graph::GraphApi> {
    async fn follow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.calls.hit("GraphApi::follow");
        self.inner.follow(follower, followee).await
    }
    async fn unfollow(&self, follower: UserId, followee: UserId) -> Result<bool> {
        self.calls.hit("GraphApi::unfollow");
        self.inner.unfollow(follower, followee).await
    }
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        self.calls.hit("GraphApi::block");
        self.inner.block(blocker, blocked).await
    }
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        self.calls.hit("GraphApi::unblock");
        self.inner.unblock(blocker, blocked).await
    }
    async fn mute(
        &self,
        muter: UserId,
        muted: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<bool> {
        self.calls.hit("GraphApi::mute");
        self.inner.mute(muter, muted, until, reposts_only).await
    }
    async fn unmute(&self, muter: UserId, muted: UserId) -> Result<bool> {
        self.calls.hit("GraphApi::unmute");
        self.inner.unmute(muter, muted).await
    }
    async fn relationships(&self, pairs: &[(UserId, UserId)]) -> Result<Vec<Relationship>> {
        self.calls.hit("GraphApi::relationships");
        self.inner.relationships(pairs).await
    }
    async fn followers(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.calls.hit("GraphApi::followers");
        self.inner.followers(user, first, after).await
    }
    async fn following(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.calls.hit("GraphApi::following");
        self.inner.following(user, first, after).await
    }
    async fn counts(&self, users: &[UserId]) -> Result<Vec<FollowCounts>> {
        self.calls.hit("GraphApi::counts");
        self.inner.counts(users).await
    }
    async fn mutual_follows(
        &self,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.calls.hit("GraphApi::mutual_follows");
        self.inner.mutual_follows(user, first, after).await
    }
    async fn suggestions(&self, user: UserId, limit: u32) -> Result<Vec<Suggestion>> {
        self.calls.hit("GraphApi::suggestions");
        self.inner.suggestions(user, limit).await
    }
    async fn blocked_either_way(&self, user: UserId) -> Result<Vec<UserId>> {
        self.calls.hit("GraphApi::blocked_either_way");
        self.inner.blocked_either_way(user).await
    }
}

#[async_trait]
impl nova_social::SocialApi for Counted<dyn nova_social::SocialApi> {
    async fn follow(&self, principal: &Principal, target: UserId) -> Result<FollowOutcome> {
        self.calls.hit("SocialApi::follow");
        self.inner.follow(principal, target).await
    }
    async fn unfollow(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.calls.hit("SocialApi::unfollow");
        self.inner.unfollow(principal, target).await
    }
    async fn remove_follower(&self, principal: &Principal, follower: UserId) -> Result<()> {
        self.calls.hit("SocialApi::remove_follower");
        self.inner.remove_follower(principal, follower).await
    }
    async fn pending_requests(&self, principal: &Principal) -> Result<Vec<FollowRequest>> {
        self.calls.hit("SocialApi::pending_requests");
        self.inner.pending_requests(principal).await
    }
    async fn approve_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        self.calls.hit("SocialApi::approve_request");
        self.inner.approve_request(principal, requester).await
    }
    async fn deny_request(&self, principal: &Principal, requester: UserId) -> Result<()> {
        self.calls.hit("SocialApi::deny_request");
        self.inner.deny_request(principal, requester).await
    }
    async fn block(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.calls.hit("SocialApi::block");
        self.inner.block(principal, target).await
    }
    async fn unblock(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.calls.hit("SocialApi::unblock");
        self.inner.unblock(principal, target).await
    }
    async fn mute(
        &self,
        principal: &Principal,
        target: UserId,
        until: Option<Timestamp>,
        reposts_only: bool,
    ) -> Result<()> {
        self.calls.hit("SocialApi::mute");
        self.inner
            .mute(principal, target, until, reposts_only)
            .await
    }
    async fn unmute(&self, principal: &Principal, target: UserId) -> Result<()> {
        self.calls.hit("SocialApi::unmute");
        self.inner.unmute(principal, target).await
    }
    async fn can_interact(&self, viewer: UserId, target: UserId) -> Result<bool> {
        self.calls.hit("SocialApi::can_interact");
        self.inner.can_interact(viewer, target).await
    }
    async fn can_interact_many(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<bool>> {
        self.calls.hit("SocialApi::can_interact_many");
        self.inner.can_interact_many(viewer, targets).await
    }
    async fn author_access(
        &self,
        viewer: Option<UserId>,
        authors: &[UserId],
    ) -> Result<Vec<nova_social::AuthorAccess>> {
        self.calls.hit("SocialApi::author_access");
        self.inner.author_access(viewer, authors).await
    }
    async fn can_view(&self, viewer: Option<UserId>, author: UserId) -> Result<bool> {
        self.calls.hit("SocialApi::can_view");
        self.inner.can_view(viewer, author).await
    }
    async fn followers(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.calls.hit("SocialApi::followers");
        self.inner.followers(viewer, user, first, after).await
    }
    async fn following(
        &self,
        viewer: Option<&Principal>,
        user: UserId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<UserId>> {
        self.calls.hit("SocialApi::following");
        self.inner.following(viewer, user, first, after).await
    }
    async fn create_block_list(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<BlockList> {
        self.calls.hit("SocialApi::create_block_list");
        self.inner
            .create_block_list(principal, name, description)
            .await
    }
    async fn add_to_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        self.calls.hit("SocialApi::add_to_block_list");
        self.inner.add_to_block_list(principal, list, user).await
    }
    async fn remove_from_block_list(
        &self,
        principal: &Principal,
        list: BlockListId,
        user: UserId,
    ) -> Result<()> {
        self.calls.hit("SocialApi::remove_from_block_list");
        self.inner
            .remove_from_block_list(principal, list, user)
            .await
    }
    async fn subscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        self.calls.hit("SocialApi::subscribe_block_list");
        self.inner.subscribe_block_list(principal, list).await
    }
    async fn unsubscribe_block_list(&self, principal: &Principal, list: BlockListId) -> Result<()> {
        self.calls.hit("SocialApi::unsubscribe_block_list");
        self.inner.unsubscribe_block_list(principal, list).await
    }
}

#[async_trait]
impl nova_content::ContentApi for Counted<dyn nova_content::ContentApi> {
    async fn create_post(&self, principal: &Principal, post: NewPost) -> Result<Post> {
        self.calls.hit("ContentApi::create_post");
        self.inner.create_post(principal, post).await
    }
    async fn post(&self, viewer: Option<&Principal>, id: PostId) -> Result<Post> {
        self.calls.hit("ContentApi::post");
        self.inner.post(viewer, id).await
    }
    async fn posts(&self, viewer: Option<&Principal>, ids: &[PostId]) -> Result<Vec<Post>> {
        self.calls.hit("ContentApi::posts");
        self.inner.posts(viewer, ids).await
    }
    async fn edit_post(&self, principal: &Principal, id: PostId, text: &str) -> Result<Post> {
        self.calls.hit("ContentApi::edit_post");
        self.inner.edit_post(principal, id, text).await
    }
    async fn edit_history(&self, viewer: Option<&Principal>, id: PostId) -> Result<Vec<Edit>> {
        self.calls.hit("ContentApi::edit_history");
        self.inner.edit_history(viewer, id).await
    }
    async fn delete_post(&self, principal: &Principal, id: PostId) -> Result<()> {
        self.calls.hit("ContentApi::delete_post");
        self.inner.delete_post(principal, id).await
    }
    async fn like(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::like");
        self.inner.like(principal, id).await
    }
    async fn unlike(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::unlike");
        self.inner.unlike(principal, id).await
    }
    async fn repost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::repost");
        self.inner.repost(principal, id).await
    }
    async fn unrepost(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::unrepost");
        self.inner.unrepost(principal, id).await
    }
    async fn bookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::bookmark");
        self.inner.bookmark(principal, id).await
    }
    async fn unbookmark(&self, principal: &Principal, id: PostId) -> Result<bool> {
        self.calls.hit("ContentApi::unbookmark");
        self.inner.unbookmark(principal, id).await
    }
    async fn bookmarks(&self, principal: &Principal, first: u32) -> Result<Vec<Post>> {
        self.calls.hit("ContentApi::bookmarks");
        self.inner.bookmarks(principal, first).await
    }
    async fn thread(
        &self,
        viewer: Option<&Principal>,
        root: PostId,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        self.calls.hit("ContentApi::thread");
        self.inner.thread(viewer, root, first, after).await
    }
    async fn author_timeline(
        &self,
        viewer: Option<&Principal>,
        author: UserId,
        kind: TimelineKind,
        first: u32,
        after: Option<&str>,
    ) -> Result<Page<Post>> {
        self.calls.hit("ContentApi::author_timeline");
        self.inner
            .author_timeline(viewer, author, kind, first, after)
            .await
    }
}

#[async_trait]
impl nova_feed::FeedApi for Counted<dyn nova_feed::FeedApi> {
    async fn home(
        &self,
        viewer: &Principal,
        mode: FeedMode,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        self.calls.hit("FeedApi::home");
        self.inner.home(viewer, mode, first, after).await
    }
    async fn catch_up(&self, viewer: &Principal, first: u32) -> Result<FeedPage> {
        self.calls.hit("FeedApi::catch_up");
        self.inner.catch_up(viewer, first).await
    }
    async fn explore(
        &self,
        viewer: Option<&Principal>,
        first: u32,
        after: Option<&str>,
    ) -> Result<FeedPage> {
        self.calls.hit("FeedApi::explore");
        self.inner.explore(viewer, first, after).await
    }
    async fn new_posts(&self, viewer: &Principal) -> Result<BoxStream<'static, PostId>> {
        self.calls.hit("FeedApi::new_posts");
        self.inner.new_posts(viewer).await
    }
}

#[async_trait]
impl nova_trending::TrendingApi for Counted<dyn nova_trending::TrendingApi> {
    async fn ingest(&self, events: &[Engagement]) -> Result<usize, Error> {
        self.calls.hit("TrendingApi::ingest");
        self.inner.ingest(events).await
    }
    async fn trends(&self, scope: Scope, limit: usize) -> Result<Vec<Trend>, Error> {
        self.calls.hit("TrendingApi::trends");
        self.inner.trends(scope, limit).await
    }
    async fn top(&self, scope: Scope, window: &str, limit: usize) -> Result<Vec<Ranked>, Error> {
        self.calls.hit("TrendingApi::top");
        self.inner.top(scope, window, limit).await
    }
    async fn review(
        &self,
        by: &Principal,
        entity: EntityKey,
        state: ReviewState,
    ) -> Result<(), Error> {
        self.calls.hit("TrendingApi::review");
        self.inner.review(by, entity, state).await
    }
    async fn velocity(&self, entity: EntityKey) -> Result<f64, Error> {
        self.calls.hit("TrendingApi::velocity");
        self.inner.velocity(entity).await
    }
}
