//! `Mutation`: writes. Each passes the caller's principal to the domain, which decides.

use async_graphql::{Context, ID, Object};
use nova_core::{Error, PostId, Timestamp, UserId};
use nova_identity::model::{LoginRequest, RegisterRequest};

use crate::context::{RequestCtx, caller};
use crate::error::{GqlResult, IntoGql};
use crate::types::{
    Account, FollowOutcome, LoginResult, NotificationFolder, NotificationPolicy, Passkey,
    PasskeyChallenge, Post, PostInput, ProfileInput, Settings, TokenPair, TotpEnrollment, User,
    notification_api, parse_id,
};

/// The root of writes.
pub struct MutationRoot;

fn user_arg(id: &ID) -> GqlResult<UserId> {
    parse_id(id, "userId")
}

fn post_arg(id: &ID) -> GqlResult<PostId> {
    parse_id(id, "postId")
}

async fn created(
    ctx: &Context<'_>,
    call: &RequestCtx,
    post: nova_content::NewPost,
) -> GqlResult<Post> {
    let post = call
        .domains
        .content
        .create_post(call.require()?, post)
        .await
        .gql()?;
    crate::types::prime(ctx, std::iter::once(&post)).await?;
    Ok(Post(post))
}

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates an account (rate-limited per attempt and per IP).
    async fn register(
        &self,
        ctx: &Context<'_>,
        email: String,
        username: String,
        password: String,
    ) -> GqlResult<Account> {
        let call = caller(ctx)?;
        let req = RegisterRequest {
            email,
            username,
            password,
        };
        let account = call
            .domains
            .identity
            .register(req, &call.request_context())
            .await
            .gql()?;
        Ok(account.into())
    }

    /// Marks the email verified with the token from the email.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> GqlResult<bool> {
        caller(ctx)?
            .domains
            .identity
            .verify_email(&token)
            .await
            .gql()?;
        Ok(true)
    }

    /// Password login (rate-limited per attempt); may ask for a second factor.
    async fn login(
        &self,
        ctx: &Context<'_>,
        identifier: String,
        password: String,
    ) -> GqlResult<LoginResult> {
        let call = caller(ctx)?;
        let req = LoginRequest {
            identifier,
            password,
            device_token: None,
            code: None,
        };
        let outcome = call
            .domains
            .identity
            .login(req, &call.request_context())
            .await
            .gql()?;
        Ok(outcome.into())
    }

    /// Completes a login with a TOTP or recovery code.
    async fn login_two_factor(
        &self,
        ctx: &Context<'_>,
        challenge: String,
        code: String,
    ) -> GqlResult<TokenPair> {
        let call = caller(ctx)?;
        let tokens = call
            .domains
            .identity
            .login_two_factor(&challenge, &code, &call.request_context())
            .await
            .gql()?;
        Ok(tokens.into())
    }

    /// A new token pair for a refresh token (single use).
    async fn refresh(&self, ctx: &Context<'_>, refresh_token: String) -> GqlResult<TokenPair> {
        let call = caller(ctx)?;
        let tokens = call
            .domains
            .identity
            .refresh(&refresh_token, &call.request_context())
            .await
            .gql()?;
        Ok(tokens.into())
    }

    /// Ends the caller's session.
    async fn logout(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let call = caller(ctx)?;
        call.domains.identity.logout(call.require()?).await.gql()?;
        Ok(true)
    }

    /// Ends every session of the caller; returns how many.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> GqlResult<u64> {
        let call = caller(ctx)?;
        call.domains
            .identity
            .logout_everywhere(call.require()?)
            .await
            .gql()
    }

    /// Starts registering a passkey for the caller: WebAuthn creation options and a
    /// ceremony bound to the caller's session.
    async fn passkey_register_start(&self, ctx: &Context<'_>) -> GqlResult<PasskeyChallenge> {
        let call = caller(ctx)?;
        let start = call
            .domains
            .identity
            .passkey_register_start(call.require()?)
            .await
            .gql()?;
        Ok(start.into())
    }

    /// Finishes a passkey registration with the `PublicKeyCredential` JSON of
    /// `navigator.credentials.create()`; `name` defaults to "Passkey".
    async fn passkey_register_finish(
        &self,
        ctx: &Context<'_>,
        ceremony: String,
        credential: async_graphql::Json<serde_json::Value>,
        name: Option<String>,
    ) -> GqlResult<Passkey> {
        let call = caller(ctx)?;
        let name = name.unwrap_or_else(|| "Passkey".to_owned());
        let passkey = call
            .domains
            .identity
            .passkey_register_finish(call.require()?, &ceremony, &credential.0, &name)
            .await
            .gql()?;
        Ok(passkey.into())
    }

    /// Starts a passkey sign-in: with `username` its passkeys are offered; without one
    /// any discoverable passkey may answer.
    async fn passkey_login_start(
        &self,
        ctx: &Context<'_>,
        username: Option<String>,
    ) -> GqlResult<PasskeyChallenge> {
        let call = caller(ctx)?;
        let start = call
            .domains
            .identity
            .passkey_login_start(username.as_deref(), &call.request_context())
            .await
            .gql()?;
        Ok(start.into())
    }

    /// Finishes a passkey sign-in with the assertion JSON of `navigator.credentials.get()`
    /// (rate-limited per attempt like `login`): tokens, with no second-factor step.
    async fn passkey_login_finish(
        &self,
        ctx: &Context<'_>,
        ceremony: String,
        credential: async_graphql::Json<serde_json::Value>,
    ) -> GqlResult<TokenPair> {
        let call = caller(ctx)?;
        let tokens = call
            .domains
            .identity
            .passkey_login_finish(&ceremony, &credential.0, &call.request_context())
            .await
            .gql()?;
        Ok(tokens.into())
    }

    /// Renames one of the caller's passkeys.
    async fn rename_passkey(&self, ctx: &Context<'_>, id: ID, name: String) -> GqlResult<Passkey> {
        let call = caller(ctx)?;
        let id = parse_id(&id, "id")?;
        let passkey = call
            .domains
            .identity
            .rename_passkey(call.require()?, id, &name)
            .await
            .gql()?;
        Ok(passkey.into())
    }

    /// Deletes one of the caller's passkeys (never an account's last way to sign in);
    /// with `endSessions`, the sessions it opened end too. How many ended.
    async fn delete_passkey(
        &self,
        ctx: &Context<'_>,
        id: ID,
        end_sessions: Option<bool>,
    ) -> GqlResult<u64> {
        let call = caller(ctx)?;
        let id = parse_id(&id, "id")?;
        call.domains
            .identity
            .delete_passkey(call.require()?, id, end_sessions.unwrap_or(false))
            .await
            .gql()
    }

    /// Starts TOTP enrolment.
    async fn enroll_totp(&self, ctx: &Context<'_>) -> GqlResult<TotpEnrollment> {
        let call = caller(ctx)?;
        let e = call
            .domains
            .identity
            .enroll_totp(call.require()?)
            .await
            .gql()?;
        Ok(TotpEnrollment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
        })
    }

    /// Confirms TOTP with a current code; returns the recovery codes (shown once).
    async fn confirm_totp(&self, ctx: &Context<'_>, code: String) -> GqlResult<Vec<String>> {
        let call = caller(ctx)?;
        call.domains
            .identity
            .confirm_totp(call.require()?, &code)
            .await
            .gql()
    }

    /// Turns TOTP off (needs a current or recovery code).
    async fn disable_totp(&self, ctx: &Context<'_>, code: String) -> GqlResult<bool> {
        let call = caller(ctx)?;
        call.domains
            .identity
            .disable_totp(call.require()?, &code)
            .await
            .gql()?;
        Ok(true)
    }

    /// Changes the caller's profile.
    async fn update_profile(&self, ctx: &Context<'_>, input: ProfileInput) -> GqlResult<User> {
        let call = caller(ctx)?;
        let me = call.require()?;
        let update = input.into_update()?;
        // Only one's own post may be pinned; someone else's answers like a missing one.
        if let Some(Some(post)) = update.pinned_post {
            let own = call
                .domains
                .content
                .post(Some(me), post)
                .await
                .is_ok_and(|p| p.author_id == me.user_id && !p.deleted);
            if !own {
                return Err(Error::invalid("pinnedPostId", "no such post of yours")).gql();
            }
        }
        let profile = call.domains.users.update_profile(me, update).await.gql()?;
        Ok(User(profile))
    }

    /// Replaces the caller's settings.
    async fn update_settings(&self, ctx: &Context<'_>, input: Settings) -> GqlResult<Settings> {
        let call = caller(ctx)?;
        let settings = call
            .domains
            .users
            .update_settings(call.require()?, input.into())
            .await
            .gql()?;
        Ok(settings.into())
    }

    /// Follows a user, or asks to when the account is private.
    async fn follow(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<FollowOutcome> {
        let call = caller(ctx)?;
        let outcome = call
            .domains
            .social
            .follow(call.require()?, user_arg(&user_id)?)
            .await
            .gql()?;
        Ok(outcome.into())
    }

    /// Stops following (or withdraws a request).
    async fn unfollow(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .unfollow(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Makes a follower stop following the caller.
    async fn remove_follower(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .remove_follower(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Approves a follow request.
    async fn approve_follow_request(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .approve_request(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Denies a follow request.
    async fn deny_follow_request(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .deny_request(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Blocks a user (follows both ways end).
    async fn block(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .block(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Lifts a block.
    async fn unblock(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .unblock(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Mutes a user, optionally until a time and optionally only their reposts.
    async fn mute(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        until: Option<Timestamp>,
        #[graphql(default = false)] reposts_only: bool,
    ) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .mute(call.require()?, target, until, reposts_only)
            .await
            .gql()?;
        Ok(true)
    }

    /// Lifts a mute.
    async fn unmute(&self, ctx: &Context<'_>, user_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let target = user_arg(&user_id)?;
        call.domains
            .social
            .unmute(call.require()?, target)
            .await
            .gql()?;
        Ok(true)
    }

    /// Publishes a post (rate-limited per attempt).
    async fn create_post(&self, ctx: &Context<'_>, input: PostInput) -> GqlResult<Post> {
        created(ctx, caller(ctx)?, input.into_new_post(None, None)?).await
    }

    /// Replies to a post the caller may see (rate-limited like posts).
    async fn reply(&self, ctx: &Context<'_>, to: ID, input: PostInput) -> GqlResult<Post> {
        let to = parse_id(&to, "to")?;
        created(ctx, caller(ctx)?, input.into_new_post(Some(to), None)?).await
    }

    /// Quotes a post the caller may see (rate-limited like posts).
    async fn quote(&self, ctx: &Context<'_>, of: ID, input: PostInput) -> GqlResult<Post> {
        let of = parse_id(&of, "of")?;
        created(ctx, caller(ctx)?, input.into_new_post(None, Some(of))?).await
    }

    /// Replaces a post's text (its author only).
    async fn edit_post(&self, ctx: &Context<'_>, post_id: ID, text: String) -> GqlResult<Post> {
        let call = caller(ctx)?;
        let post = call
            .domains
            .content
            .edit_post(call.require()?, post_arg(&post_id)?, &text)
            .await
            .gql()?;
        Ok(Post(post))
    }

    /// Deletes a post (its author only).
    async fn delete_post(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains
            .content
            .delete_post(call.require()?, id)
            .await
            .gql()?;
        Ok(true)
    }

    /// Likes; `false` if already liked.
    async fn like(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains.content.like(call.require()?, id).await.gql()
    }

    /// Unlikes; `false` if not liked.
    async fn unlike(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains.content.unlike(call.require()?, id).await.gql()
    }

    /// Bookmarks; `false` if already bookmarked.
    async fn bookmark(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains
            .content
            .bookmark(call.require()?, id)
            .await
            .gql()
    }

    /// Removes a bookmark; `false` if there was none.
    async fn unbookmark(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains
            .content
            .unbookmark(call.require()?, id)
            .await
            .gql()
    }

    /// Reposts; `false` if already reposted.
    async fn repost(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains.content.repost(call.require()?, id).await.gql()
    }

    /// Undoes a repost; `false` if there was none.
    async fn unrepost(&self, ctx: &Context<'_>, post_id: ID) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = post_arg(&post_id)?;
        call.domains
            .content
            .unrepost(call.require()?, id)
            .await
            .gql()
    }

    /// Marks the caller's notifications read: one (`id`), a read marker (`upTo`: that one
    /// and every older one in its folder) or everything in `folder` (`all: true`); send
    /// exactly one. Answers how many turned read.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        up_to: Option<ID>,
        all: Option<bool>,
        folder: Option<NotificationFolder>,
    ) -> GqlResult<u64> {
        use nova_notification::MarkRead;
        let which = match (id, up_to, all.unwrap_or(false)) {
            (Some(id), None, false) => MarkRead::One(parse_id(&id, "id")?),
            (None, Some(id), false) => MarkRead::UpTo(parse_id(&id, "upTo")?),
            (None, None, true) => MarkRead::All,
            _ => {
                return Err(Error::invalid(
                    "id",
                    "give exactly one of id, upTo and all: true",
                ))
                .gql();
            }
        };
        let call = caller(ctx)?;
        notification_api(call)?
            .mark_read(call.require()?, folder.unwrap_or_default().into(), which)
            .await
            .gql()
    }

    /// Replaces the caller's notification filters (for what arrives from now on).
    async fn set_notification_policy(
        &self,
        ctx: &Context<'_>,
        filter_not_following: bool,
    ) -> GqlResult<NotificationPolicy> {
        let call = caller(ctx)?;
        let wanted = nova_notification::Policy {
            filter_not_following,
        };
        let policy = notification_api(call)?
            .set_policy(call.require()?, wanted)
            .await
            .gql()?;
        Ok(NotificationPolicy {
            filter_not_following: policy.filter_not_following,
        })
    }

    /// Reports a post, account, media item or chat message. Reporting the same thing
    /// again returns the first report; too many reports in a short time is
    /// `RATE_LIMITED`.
    async fn report(
        &self,
        ctx: &Context<'_>,
        input: crate::types::ReportInput,
    ) -> GqlResult<crate::types::ModerationReport> {
        crate::types::file_report(ctx, input).await
    }

    /// Appeals an action against the caller, once per action.
    async fn appeal(
        &self,
        ctx: &Context<'_>,
        action_id: ID,
        text: String,
    ) -> GqlResult<crate::types::ModerationAppeal> {
        crate::types::file_appeal(ctx, action_id, text).await
    }

    /// Moderation writes: actions, reversals, appeal decisions, rules. Moderators and
    /// admins only; anyone else gets `NOT_FOUND`.
    async fn moderation(&self, ctx: &Context<'_>) -> GqlResult<crate::types::ModerationMutation> {
        Ok(crate::types::ModerationMutation(crate::types::moderator(
            ctx,
        )?))
    }

    /// The direct conversation with `userId` (created on first use). A user the caller
    /// may not message (blocked either way, their DM setting) answers `NOT_FOUND`.
    async fn open_direct_chat(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> GqlResult<crate::types::ChatConversation> {
        let call = caller(ctx)?;
        let other = user_arg(&user_id)?;
        Ok(crate::types::chat_api(call)?
            .open_direct(call.require()?, other)
            .await
            .gql()?
            .into())
    }

    /// A new group of the caller (owner) and `memberIds`.
    async fn create_chat_group(
        &self,
        ctx: &Context<'_>,
        title: String,
        member_ids: Vec<ID>,
    ) -> GqlResult<crate::types::ChatConversation> {
        let call = caller(ctx)?;
        let members = member_ids
            .iter()
            .map(|id| parse_id(id, "memberIds"))
            .collect::<GqlResult<Vec<UserId>>>()?;
        Ok(crate::types::chat_api(call)?
            .create_group(call.require()?, &title, &members)
            .await
            .gql()?
            .into())
    }

    /// Adds `userIds` to a group.
    async fn invite_to_chat(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_ids: Vec<ID>,
    ) -> GqlResult<crate::types::ChatMembers> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let users = user_ids
            .iter()
            .map(|u| parse_id(u, "userIds"))
            .collect::<GqlResult<Vec<UserId>>>()?;
        Ok(crate::types::chat_api(call)?
            .invite(call.require()?, id, &users)
            .await
            .gql()?
            .into())
    }

    /// Removes `userId` from a group (the caller's own id: leaves it).
    async fn remove_from_chat(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
    ) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let user = user_arg(&user_id)?;
        let me = call.require()?;
        let chat = crate::types::chat_api(call)?;
        if user == me.user_id {
            chat.leave(me, id).await.gql()?;
        } else {
            chat.kick(me, id, user).await.gql()?;
        }
        Ok(true)
    }

    /// Stores an encrypted message for its recipient devices (ciphertext only).
    async fn send_chat_message(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        message: crate::types::ChatMessageInput,
    ) -> GqlResult<crate::types::ChatSent> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let message = message.into_message()?;
        Ok(crate::types::chat_api(call)?
            .send(call.require()?, id, message)
            .await
            .gql()?
            .into())
    }

    /// Read receipt: the caller read up to `messageId`.
    async fn mark_chat_read(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        message_id: i64,
    ) -> GqlResult<bool> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        crate::types::chat_api(call)?
            .mark_read(call.require()?, id, message_id)
            .await
            .gql()?;
        Ok(true)
    }

    /// Archives or unarchives for the caller (`keepArchived`: new messages do not
    /// unarchive it).
    async fn archive_chat(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        archived: bool,
        keep_archived: Option<bool>,
    ) -> GqlResult<crate::types::ChatConversation> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        Ok(crate::types::chat_api(call)?
            .set_archived(
                call.require()?,
                id,
                archived,
                keep_archived.unwrap_or(false),
            )
            .await
            .gql()?
            .into())
    }

    /// Mutes for the caller until `until` (null: unmute).
    async fn mute_chat(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        until: Option<Timestamp>,
    ) -> GqlResult<crate::types::ChatConversation> {
        let call = caller(ctx)?;
        let id = parse_id(&conversation_id, "conversationId")?;
        Ok(crate::types::chat_api(call)?
            .mute(call.require()?, id, until)
            .await
            .gql()?
            .into())
    }

    /// Who may start a direct conversation with the caller: `everyone`, `following` or
    /// `nobody`.
    async fn set_dm_policy(&self, ctx: &Context<'_>, allow: String) -> GqlResult<String> {
        let call = caller(ctx)?;
        let policy = nova_chat::DmPolicy::parse(&allow).gql()?;
        let set = crate::types::chat_api(call)?
            .set_dm_policy(call.require()?, policy)
            .await
            .gql()?;
        Ok(set.as_str().to_owned())
    }
}
