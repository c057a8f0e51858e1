//! The signed-in caller: account, tokens, settings, profile edits, follow requests.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use nova_core::{MediaId, PostId, Principal, Timestamp};
use nova_identity::model::{Account as DomainAccount, LoginOutcome, TokenPair as DomainTokens};
use nova_user::{NotificationPrefs, ProfileUpdate, Settings as DomainSettings};

use super::{MessagePolicy, Post, User, load_user, load_users, parse_id};
use crate::context::caller;
use crate::error::{GqlResult, IntoGql};
use crate::paging::{DEFAULT_FIRST, MAX_FIRST};

/// An account as its owner sees it.
#[derive(SimpleObject)]
pub(crate) struct Account {
    /// The user id.
    pub id: ID,
    /// Email address.
    pub email: String,
    /// Username.
    pub username: String,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Whether TOTP two-factor login is on.
    pub two_factor_enabled: bool,
    /// Created.
    pub created_at: Timestamp,
}

impl From<DomainAccount> for Account {
    fn from(a: DomainAccount) -> Self {
        Self {
            id: ID(a.id.to_string()),
            email: a.email,
            username: a.username,
            email_verified: a.email_verified,
            two_factor_enabled: a.two_factor_enabled,
            created_at: a.created_at,
        }
    }
}

/// Tokens after a login or refresh.
#[derive(SimpleObject)]
pub(crate) struct TokenPair {
    /// Bearer token for `Authorization` (short-lived).
    pub access_token: String,
    /// When it expires.
    pub access_expires_at: Timestamp,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// When it expires.
    pub refresh_expires_at: Timestamp,
    /// The session.
    pub session_id: ID,
    /// The user.
    pub user_id: ID,
}

impl From<DomainTokens> for TokenPair {
    fn from(t: DomainTokens) -> Self {
        Self {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
            session_id: ID(t.session_id.to_string()),
            user_id: ID(t.user_id.to_string()),
        }
    }
}

/// The answer to a password login: tokens, or a second-factor challenge.
#[derive(SimpleObject)]
pub(crate) struct LoginResult {
    /// Set when logged in.
    pub tokens: Option<TokenPair>,
    /// Set when a TOTP or recovery code is needed (`loginTwoFactor`).
    pub two_factor_challenge: Option<String>,
    /// When the challenge expires.
    pub challenge_expires_at: Option<Timestamp>,
}

impl From<LoginOutcome> for LoginResult {
    fn from(o: LoginOutcome) -> Self {
        match o {
            LoginOutcome::Authenticated(t) => Self {
                tokens: Some(t.into()),
                two_factor_challenge: None,
                challenge_expires_at: None,
            },
            LoginOutcome::TwoFactorRequired {
                challenge,
                expires_at,
            } => Self {
                tokens: None,
                two_factor_challenge: Some(challenge),
                challenge_expires_at: Some(expires_at),
            },
        }
    }
}

/// What to add to an authenticator app.
#[derive(SimpleObject)]
pub(crate) struct TotpEnrollment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URI for a QR code.
    pub otpauth_uri: String,
}

/// The caller's settings.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "SettingsInput")]
pub(crate) struct Settings {
    /// Followers need approval.
    pub private_account: bool,
    /// Who may message me.
    pub message_policy: MessagePolicy,
    /// Appear in search and suggestions.
    pub discoverable: bool,
    /// Hide follower/following counts from others.
    pub hide_follow_counts: bool,
    /// Hide follower/following lists from others.
    pub hide_follow_lists: bool,
    /// Notifications wanted.
    pub notifications: NotificationSettings,
}

/// Notification preferences.
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "NotificationSettingsInput")]
pub(crate) struct NotificationSettings {
    /// Likes.
    pub likes: bool,
    /// Replies.
    pub replies: bool,
    /// Mentions.
    pub mentions: bool,
    /// Follows and follow requests.
    pub follows: bool,
    /// Reposts.
    pub reposts: bool,
    /// Direct messages.
    pub direct_messages: bool,
}

impl From<DomainSettings> for Settings {
    fn from(s: DomainSettings) -> Self {
        let n = s.notifications;
        Self {
            private_account: s.private_account,
            message_policy: s.message_policy.into(),
            discoverable: s.discoverable,
            hide_follow_counts: s.hide_follow_counts,
            hide_follow_lists: s.hide_follow_lists,
            notifications: NotificationSettings {
                likes: n.likes,
                replies: n.replies,
                mentions: n.mentions,
                follows: n.follows,
                reposts: n.reposts,
                direct_messages: n.direct_messages,
            },
        }
    }
}

impl From<Settings> for DomainSettings {
    fn from(s: Settings) -> Self {
        let n = s.notifications;
        Self {
            private_account: s.private_account,
            message_policy: s.message_policy.into(),
            discoverable: s.discoverable,
            hide_follow_counts: s.hide_follow_counts,
            hide_follow_lists: s.hide_follow_lists,
            notifications: NotificationPrefs {
                likes: n.likes,
                replies: n.replies,
                mentions: n.mentions,
                follows: n.follows,
                reposts: n.reposts,
                direct_messages: n.direct_messages,
            },
        }
    }
}

/// Profile changes; omitted fields stay as they are.
#[derive(InputObject)]
pub(crate) struct ProfileInput {
    /// Display name.
    pub display_name: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Links.
    pub links: Option<Vec<String>>,
    /// Pronouns.
    pub pronouns: Option<String>,
    /// Avatar media id (empty string removes it).
    pub avatar_id: Option<ID>,
    /// Banner media id (empty string removes it).
    pub banner_id: Option<ID>,
    /// Pinned post id (empty string unpins).
    pub pinned_post_id: Option<ID>,
}

fn clearable<T: std::str::FromStr>(id: Option<ID>, field: &str) -> GqlResult<Option<Option<T>>> {
    match id {
        None => Ok(None),
        Some(id) if id.is_empty() => Ok(Some(None)),
        Some(id) => Ok(Some(Some(parse_id(&id, field)?))),
    }
}

impl ProfileInput {
    /// The domain's update.
    pub fn into_update(self) -> GqlResult<ProfileUpdate> {
        Ok(ProfileUpdate {
            display_name: self.display_name,
            bio: self.bio,
            avatar: clearable::<MediaId>(self.avatar_id, "avatarId")?,
            banner: clearable::<MediaId>(self.banner_id, "bannerId")?,
            links: self.links,
            pronouns: self.pronouns,
            pinned_post: clearable::<PostId>(self.pinned_post_id, "pinnedPostId")?,
        })
    }
}

/// A follow request waiting for the caller.
pub(crate) struct FollowRequest(pub nova_social::FollowRequest);

#[Object]
impl FollowRequest {
    /// Who asks.
    async fn requester(&self, ctx: &Context<'_>) -> GqlResult<Option<User>> {
        load_user(ctx, self.0.requester_id).await
    }
    /// When.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at
    }
}

/// The signed-in caller.
pub(crate) struct Viewer(pub Principal);

#[Object]
impl Viewer {
    /// The caller's user id.
    async fn id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// The caller's profile.
    async fn user(&self, ctx: &Context<'_>) -> GqlResult<Option<User>> {
        Ok(load_users(ctx, &[self.0.user_id]).await?.pop())
    }
    /// The caller's account.
    async fn account(&self, ctx: &Context<'_>) -> GqlResult<Account> {
        let call = caller(ctx)?;
        Ok(call.domains.identity.account(&self.0).await.gql()?.into())
    }
    /// The caller's passkeys, oldest first.
    async fn passkeys(&self, ctx: &Context<'_>) -> GqlResult<Vec<Passkey>> {
        let call = caller(ctx)?;
        let passkeys = call.domains.identity.passkeys(&self.0).await.gql()?;
        Ok(passkeys.into_iter().map(Passkey::from).collect())
    }
    /// Moderation actions against the caller, with their reasons and any appeal, newest
    /// first.
    async fn strikes(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::ModerationStrike>> {
        super::strikes(ctx, &self.0).await
    }
    /// The caller's follower growth and top posts over the last `days` days (1 to 90,
    /// default 30).
    async fn insights(
        &self,
        ctx: &Context<'_>,
        days: Option<i32>,
    ) -> GqlResult<super::AccountInsights> {
        super::account_insights(ctx, &self.0, days).await
    }
    /// The caller's settings.
    async fn settings(&self, ctx: &Context<'_>) -> GqlResult<Settings> {
        let call = caller(ctx)?;
        Ok(call.domains.users.settings(&self.0).await.gql()?.into())
    }
    /// Follow requests waiting for approval, oldest first.
    async fn follow_requests(&self, ctx: &Context<'_>) -> GqlResult<Vec<FollowRequest>> {
        let call = caller(ctx)?;
        let requests = call.domains.social.pending_requests(&self.0).await.gql()?;
        Ok(requests.into_iter().map(FollowRequest).collect())
    }
    /// Bookmarked posts still visible, newest first.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn bookmarks(&self, ctx: &Context<'_>, first: Option<i32>) -> GqlResult<Vec<Post>> {
        let first = first
            .map(|n| n.clamp(1, MAX_FIRST as i32) as u32)
            .unwrap_or(DEFAULT_FIRST);
        let call = caller(ctx)?;
        let posts = call.domains.content.bookmarks(&self.0, first).await.gql()?;
        super::prime(ctx, posts.iter()).await?;
        Ok(posts.into_iter().map(Post).collect())
    }
}

/// A passkey ceremony in progress (`passkeyRegisterStart`, `passkeyLoginStart`).
#[derive(SimpleObject)]
pub(crate) struct PasskeyChallenge {
    /// Opaque, single use, valid for 5 minutes: pass it to the finishing mutation.
    pub ceremony: String,
    /// WebAuthn options (`{"publicKey": {...}}`, binary fields base64url) for
    /// `navigator.credentials.create()` / `.get()`.
    pub options: async_graphql::Json<serde_json::Value>,
    /// When the ceremony expires.
    pub expires_at: Timestamp,
}

impl From<nova_identity::model::PasskeyChallenge> for PasskeyChallenge {
    fn from(c: nova_identity::model::PasskeyChallenge) -> Self {
        Self {
            ceremony: c.ceremony,
            options: async_graphql::Json(c.options),
            expires_at: c.expires_at,
        }
    }
}

/// One of the caller's passkeys.
#[derive(SimpleObject)]
pub(crate) struct Passkey {
    /// Its id.
    pub id: ID,
    /// The name its owner gave it.
    pub name: String,
    /// The authenticator's signature counter (0: it keeps none).
    pub sign_count: i64,
    /// Whether it may be synced to other devices.
    pub backup_eligible: bool,
    /// Whether it is synced now.
    pub backed_up: bool,
    /// Transports the client reported (`usb`, `nfc`, `ble`, `internal`, `hybrid`).
    pub transports: Vec<String>,
    /// Registered.
    pub created_at: Timestamp,
    /// Last sign-in with it.
    pub last_used_at: Option<Timestamp>,
    /// Last refused assertion whose signature counter went backwards (a cloned key?).
    pub clone_warning_at: Option<Timestamp>,
}

impl From<nova_identity::model::PasskeyInfo> for Passkey {
    fn from(p: nova_identity::model::PasskeyInfo) -> Self {
        Self {
            id: ID(p.id.to_string()),
            name: p.name,
            sign_count: p.sign_count,
            backup_eligible: p.backup_eligible,
            backed_up: p.backed_up,
            transports: p.transports,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            clone_warning_at: p.clone_warning_at,
        }
    }
}
