//! # nova-gateway
//!
//! One GraphQL API (async-graphql) over Nova's domains. The gateway holds each domain as
//! its API trait (`Arc<dyn IdentityApi>`, `Arc<dyn ContentApi>`, ...) in [`Domains`], so the
//! same schema runs over in-process services (the `nova` all-in-one) or gRPC clients (the
//! `graphql-gateway` shell).
//!
//! - **Schema** ([`schema_sdl`], checked in as `schema.graphql`): `viewer`, `user`, `post`,
//!   `homeFeed`, `exploreFeed`, `trending`, follower lists, and mutations for accounts,
//!   sessions, 2FA, profile, settings, social actions and posts. Lists are Relay
//!   connections with opaque cursors; errors carry `extensions.code` from
//!   [`nova_core::ErrorKind::graphql_code`].
//! - **Auth**: `Authorization: Bearer` is verified by the [`Authenticator`] (locally, no
//!   network call per request) and the principal is passed to every domain call; the
//!   domains authorize, the gateway never is the only check.
//! - **DataLoaders** per request for users, posts, relationships and counts, so a page of
//!   posts with authors costs a bounded number of domain calls.
//! - **Protection** ([`QueryLimits`]): body size, a nesting scan before the parser,
//!   depth, complexity, alias, root-field, fragment-expansion, directive and batch
//!   limits, all checked before any resolver runs; introspection and GraphiQL off in
//!   production; rate limits ([`RateLimits`]) per principal and per IP plus stricter
//!   buckets for login, registration and post creation counted per attempt.
//! - **Subscriptions** over `graphql-transport-ws` at `/graphql/ws`: `homeFeedPosts` and a
//!   `notifications` hook ([`NotificationSource`]).
//!
//! ```
//! // The schema can be printed without any domain wired in.
//! let sdl = nova_gateway::schema_sdl();
//! assert!(sdl.contains("homeFeed("));
//! assert!(sdl.contains("type Subscription"));
//! ```

mod context;
mod error;
mod graphiql;
mod guard;
mod http;
pub mod introspection;
mod loaders;
mod mutation;
mod options;
mod paging;
mod ports;
mod query;
mod subscription;
mod types;
mod ws;
pub use ws::{CLOSE_SESSION_ENDED, SESSION_CHECK_INTERVAL};

use std::sync::Arc;

use async_graphql::Schema;
use nova_auth::Authenticator;
use nova_content::ContentApi;
use nova_feed::FeedApi;
use nova_graph::GraphApi;
use nova_identity::IdentityApi;
use nova_kv::RateLimiter;
use nova_notification::NotificationApi;
use nova_social::SocialApi;
use nova_trending::TrendingApi;
use nova_user::UserApi;

pub use http::router;
pub use options::{GATEWAY_ENV_VARS, GatewayOptions, QueryLimits, RateLimits};
pub use ports::{LiveNotifications, Notification, NotificationSource, TrendLabels};

/// The root types of the gateway's schema.
pub type NovaSchema =
    Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Builds the domains to call for one bearer token (per-token gRPC clients).
pub type WithToken = Arc<dyn Fn(&Domains, &str) -> Domains + Send + Sync>;

/// Every domain the gateway speaks to, as its API trait.
#[derive(Clone)]
pub struct Domains {
    /// Accounts, sessions, tokens, 2FA.
    pub identity: Arc<dyn IdentityApi>,
    /// Profiles and settings.
    pub users: Arc<dyn UserApi>,
    /// Follow counts and relationships (batch lookups).
    pub graph: Arc<dyn GraphApi>,
    /// Follows, requests, blocks, mutes, reposts, follower lists.
    pub social: Arc<dyn SocialApi>,
    /// Posts, likes, bookmarks, edits, threads, author timelines.
    pub content: Arc<dyn ContentApi>,
    /// Home, catch-up and explore feeds, new-post streams.
    pub feed: Arc<dyn FeedApi>,
    /// Trends and top entities.
    pub trending: Arc<dyn TrendingApi>,
    /// Full-text search (none: `search` answers `UNAVAILABLE`).
    pub search: Option<Arc<dyn nova_search::SearchApi>>,
    /// Turns a bearer token into a principal (locally).
    pub auth: Arc<dyn Authenticator>,
    /// Rate limiter (nova-kv: in-process or Redis).
    pub limits: Arc<dyn RateLimiter>,
    /// Grouped in-app notifications: the `notifications` list, unread counts, read
    /// markers (none: those fields answer `UNAVAILABLE`).
    pub notification: Option<Arc<dyn NotificationApi>>,
    /// Where `notifications` subscriptions come from (none: the subscription stays open
    /// and silent); [`LiveNotifications`] over the notification domain.
    pub notifications: Option<Arc<dyn NotificationSource>>,
    /// Engagement analytics: `Post.insights`, `viewer.insights`, `adminStats` (none:
    /// insights are null, the others answer `UNAVAILABLE`).
    pub analytics: Option<Arc<dyn nova_analytics::AnalyticsApi>>,
    /// Labels of trending hashtags and links (none: trends carry ids only).
    pub trend_labels: Option<Arc<dyn TrendLabels>>,
    /// Reports, strikes, appeals and the `moderation` namespace (none: those fields
    /// answer `UNAVAILABLE`).
    pub trust_safety: Option<Arc<dyn nova_trust_safety::TrustSafetyApi>>,
    /// End-to-end encrypted chat: conversations, members, ciphertext pages, sends and
    /// the `chatEvents` subscription (none: those fields answer `UNAVAILABLE`).
    pub chat: Option<Arc<dyn nova_chat::ChatApi>>,
    /// Uploads: `Post.media`, `User.avatar` and `User.banner` (none: empty and null).
    pub media: Option<Arc<dyn nova_media::MediaApi>>,
    /// For deployments whose domain clients forward the caller's token (gRPC clients
    /// built `with_token`): the domains to use for one bearer token.
    pub with_token: Option<WithToken>,
}

/// The schema over `domains` with `options`' limits (introspection off in production).
pub fn schema(domains: Domains, options: GatewayOptions) -> NovaSchema {
    let depth = options.query.max_depth;
    schema_with_depth(domains, options, depth)
}

/// [`schema`] with another depth limit (the introspection twin; see [`introspection`]).
pub(crate) fn schema_with_depth(
    domains: Domains,
    options: GatewayOptions,
    max_depth: usize,
) -> NovaSchema {
    let limits = options.query;
    let mut builder = Schema::build(
        query::QueryRoot,
        mutation::MutationRoot,
        subscription::SubscriptionRoot,
    )
    .limit_depth(max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(limits.max_recursion)
    .limit_directives(limits.max_directives)
    .extension(guard::Guard)
    .data(domains)
    .data(options.clone());
    if options.production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The schema's SDL (what `cargo xtask schema` writes to `schema.graphql`), with the
/// `@specifiedBy` URLs live introspection reports, so a client schema rebuilt from
/// introspection equals the committed one.
pub fn schema_sdl() -> String {
    Schema::build(
        query::QueryRoot,
        mutation::MutationRoot,
        subscription::SubscriptionRoot,
    )
    .finish()
    .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
