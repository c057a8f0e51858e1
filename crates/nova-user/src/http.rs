//! REST under `/api/v1/users/*`, over any [`UserApi`] (in-process service or gRPC client),
//! the caller authenticated by an [`Authenticator`] from `Authorization: Bearer`.
//!
//! | method | path | |
//! |---|---|---|
//! | GET | `/api/v1/users/{id}` | a profile |
//! | GET | `/api/v1/users/by-username/{name}` | a profile by username |
//! | PATCH | `/api/v1/users/me` | change the caller's profile (`null` clears avatar, banner, pinned post) |
//! | GET, PUT | `/api/v1/users/me/settings` | the caller's settings |
//! | POST | `/api/v1/users/me/username` | `{"username"}` |
//! | POST | `/api/v1/users/me/deactivate`, `/api/v1/users/me/reactivate` | |
//! | DELETE | `/api/v1/users/me?reason=` | soft-delete the caller's account |
//!
//! Bad input is a 400 naming the field and changes nothing; errors carry
//! `{"error": {"code", "message", "field"?}}`.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use nova_auth::Body;
use nova_auth::{Authenticated, Authenticator, MaybeAuthenticated};
use nova_core::{Error, MediaId, PostId, Principal, UserId};
use serde::{Deserialize, Deserializer};

use crate::api::UserApi;
use crate::model::{Profile, ProfileUpdate, Settings};

/// Whether `viewer` and `target` may see each other at all (no block either way): the
/// social domain answers it (`nova_social::SocialInteractions`), nova-user cannot know
/// blocks itself.
#[async_trait::async_trait]
pub trait Interactions: Send + Sync {
    /// `false` when either blocks the other.
    async fn can_interact(&self, viewer: UserId, target: UserId) -> nova_core::Result<bool>;
}

/// Whether a post exists and is the caller's own: the content domain answers it
/// (`nova_content::ContentPosts`), nova-user cannot know posts itself.
#[async_trait::async_trait]
pub trait OwnPosts: Send + Sync {
    /// `true` only for an existing, undeleted post authored by `author`.
    async fn is_own_post(&self, author: &Principal, post: PostId) -> nova_core::Result<bool>;
}

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    users: Arc<dyn UserApi>,
    auth: Arc<dyn Authenticator>,
    blocks: Option<Arc<dyn Interactions>>,
    posts: Option<Arc<dyn OwnPosts>>,
}

impl FromRef<AppState> for Arc<dyn Authenticator> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

type ApiResult<T> = Result<T, Error>;

/// The users REST routes, blocks unchecked (for a deployment with no social domain);
/// see [`router_with_blocks`].
pub fn router(users: Arc<dyn UserApi>, auth: Arc<dyn Authenticator>) -> Router {
    routes(AppState {
        users,
        auth,
        blocks: None,
        posts: None,
    })
}

/// The users REST routes where a profile of someone who blocks the caller, or whom the
/// caller blocks, answers 404 like a missing one (as GraphQL's `user` does).
pub fn router_with_blocks(
    users: Arc<dyn UserApi>,
    auth: Arc<dyn Authenticator>,
    blocks: Arc<dyn Interactions>,
) -> Router {
    routes(AppState {
        users,
        auth,
        blocks: Some(blocks),
        posts: None,
    })
}

/// The users REST routes with the ports the other domains answer: `blocks` as in
/// [`router_with_blocks`], and `posts`, so `pinned_post` accepts only the caller's own
/// post (another's, or a missing one, is a 400 naming the field, changing nothing).
pub fn router_with_ports(
    users: Arc<dyn UserApi>,
    auth: Arc<dyn Authenticator>,
    blocks: Option<Arc<dyn Interactions>>,
    posts: Option<Arc<dyn OwnPosts>>,
) -> Router {
    routes(AppState {
        users,
        auth,
        blocks,
        posts,
    })
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/users/{id}", get(profile))
        .route("/api/v1/users/by-username/{name}", get(profile_by_username))
        .route(
            "/api/v1/users/me",
            axum::routing::patch(update_profile).delete(delete_me),
        )
        .route(
            "/api/v1/users/me/settings",
            get(settings).put(update_settings),
        )
        .route("/api/v1/users/me/username", post(change_username))
        .route("/api/v1/users/me/deactivate", post(deactivate))
        .route("/api/v1/users/me/reactivate", post(reactivate))
        .with_state(state)
}

/// A user id from the path; anything else is a 400 naming `field`.
pub(crate) fn parse_user_id(value: &str, field: &str) -> ApiResult<UserId> {
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be a user id (UUID)"))
}

async fn profile(
    State(s): State<AppState>,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Profile>> {
    let id = parse_user_id(&id, "id")?;
    let profile = s.users.profile(id).await?;
    visible(&s, viewer.as_ref(), profile).await.map(Json)
}

async fn profile_by_username(
    State(s): State<AppState>,
    MaybeAuthenticated(viewer): MaybeAuthenticated,
    Path(name): Path<String>,
) -> ApiResult<Json<Profile>> {
    let profile = s.users.profile_by_username(&name).await?;
    visible(&s, viewer.as_ref(), profile).await.map(Json)
}

/// `profile` unless a block stands between it and the viewer: then not found, exactly
/// like a missing user.
async fn visible(s: &AppState, viewer: Option<&Principal>, profile: Profile) -> ApiResult<Profile> {
    if let (Some(blocks), Some(viewer)) = (&s.blocks, viewer)
        && viewer.user_id != profile.user_id
        && !blocks.can_interact(viewer.user_id, profile.user_id).await?
    {
        return Err(Error::not_found());
    }
    Ok(profile)
}

/// `Some(None)` for an explicit `null`, `None` (via `default`) when the field is absent.
fn clearable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A profile change as sent: absent fields stay, `null` clears the clearable ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilePatch {
    display_name: Option<String>,
    bio: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    avatar: Option<Option<MediaId>>,
    #[serde(default, deserialize_with = "clearable")]
    banner: Option<Option<MediaId>>,
    links: Option<Vec<String>>,
    pronouns: Option<String>,
    #[serde(default, deserialize_with = "clearable")]
    pinned_post: Option<Option<PostId>>,
}

async fn update_profile(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Body(b): Body<ProfilePatch>,
) -> ApiResult<Json<Profile>> {
    // Only one's own post may be pinned; someone else's answers like a missing one
    // (as GraphQL's `updateProfile` does).
    if let (Some(Some(post)), Some(posts)) = (b.pinned_post, &s.posts)
        && !posts.is_own_post(&p, post).await?
    {
        return Err(Error::invalid("pinned_post", "no such post of yours"));
    }
    let update = ProfileUpdate {
        display_name: b.display_name,
        bio: b.bio,
        avatar: b.avatar,
        banner: b.banner,
        links: b.links,
        pronouns: b.pronouns,
        pinned_post: b.pinned_post,
    };
    Ok(Json(s.users.update_profile(&p, update).await?))
}

async fn settings(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
) -> ApiResult<Json<Settings>> {
    Ok(Json(s.users.settings(&p).await?))
}

async fn update_settings(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Body(settings): Body<Settings>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(s.users.update_settings(&p, settings).await?))
}

#[derive(Deserialize)]
struct UsernameBody {
    username: String,
}

async fn change_username(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    Body(b): Body<UsernameBody>,
) -> ApiResult<Json<Profile>> {
    Ok(Json(s.users.change_username(&p, &b.username).await?))
}

async fn deactivate(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
) -> ApiResult<StatusCode> {
    s.users.deactivate(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reactivate(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
) -> ApiResult<StatusCode> {
    s.users.reactivate(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DeleteQuery {
    reason: Option<String>,
}

async fn delete_me(
    State(s): State<AppState>,
    Authenticated(p): Authenticated,
    query: Result<Query<DeleteQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(q) = query.map_err(|_| Error::invalid("reason", "is invalid"))?;
    let reason = q.reason.unwrap_or_else(|| "deleted by the user".to_owned());
    s.users.delete_account(&p, &reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
