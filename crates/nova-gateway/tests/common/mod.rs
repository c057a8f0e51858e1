//! A gateway over real in-process domains on a fresh SQLite database, each domain API
//! wrapped in a counting decorator, driven through the axum router in-process.

#![allow(dead_code)]

pub mod counting;

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode};
use nova_auth::{Authenticator, LocalRevocations, Revocations};
use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, SystemClock};
use nova_events::outbox;
use nova_feed::store::MemoryTimelineStore;
use nova_feed::{FeedApi, FeedService};
use nova_gateway::{Domains, GatewayOptions};
use nova_graph::{GraphApi, GraphService, SqlGraphStore};
use nova_identity::store::SqlIdentityStore;
use nova_identity::{
    IdentityApi, IdentityService, KeySet, MemoryMailer, SecretBox, TokenConfig, TokenIssuer,
    TokenVerifier,
};
use nova_kv::{InProcessRateLimiter, Kv};
use nova_notification::store::SqlNotificationStore;
use nova_notification::{NotificationService, Relations, Standing};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_testkit::TestSqlite;
use nova_trending::store::SqlTrendingStore;
use nova_trending::{TrendingApi, TrendingConfig, TrendingService};
use nova_user::store::SqlUserStore;
use nova_user::{UserApi, UserService};
use serde_json::{Value, json};
use tower::ServiceExt;

use counting::{Calls, Counted};

/// One RSA key for the whole test binary (generation is slow).
pub static KEYS: LazyLock<Arc<KeySet>> =
    LazyLock::new(|| Arc::new(KeySet::generate("test-key").expect("key generation")));

fn token_config() -> TokenConfig {
    TokenConfig::new("nova", "nova")
}

/// Verifies access tokens locally and refuses ended sessions (as a separate gateway
/// does with the JWKS and the revocation set).
struct TokenAuth(TokenVerifier, Arc<LocalRevocations>);

#[async_trait]
impl Authenticator for TokenAuth {
    async fn authenticate(&self, bearer: &str) -> nova_core::Result<Principal> {
        let principal = self.0.verify(bearer)?;
        match self.1.is_revoked(principal.session_id).await? {
            false => Ok(principal),
            true => Err(nova_core::Error::from_kind(
                nova_core::ErrorKind::Unauthenticated,
            )),
        }
    }

    async fn session_ended(&self, session: nova_core::SessionId) -> nova_core::Result<bool> {
        self.1.is_revoked(session).await
    }
}

/// Who may notify whom, from social (as nova-app answers the notification domain).
struct SocialRelations(Arc<dyn SocialApi>);

#[async_trait]
impl Relations for SocialRelations {
    async fn standings(
        &self,
        recipient: nova_core::UserId,
        actors: &[nova_core::UserId],
    ) -> nova_core::Result<Vec<Standing>> {
        let access = self.0.author_access(Some(recipient), actors).await?;
        Ok(access
            .into_iter()
            .map(|a| Standing {
                may_notify: a.exists && a.can_interact,
                muted: a.viewer_mutes,
                muted_reposts_only: a.mutes_reposts_only,
                follows: a.viewer_follows,
            })
            .collect())
    }
}

/// The domains (uncounted, for arranging a test) and the gateway over counted ones.
pub struct World {
    pub sqlite: TestSqlite,
    pub calls: Arc<Calls>,
    /// Graph calls made by the domains themselves (social, content), behind the gateway.
    pub inner_calls: Arc<Calls>,
    pub router: Router,
    pub domains: Domains,
    pub content: Arc<dyn ContentApi>,
    pub social: Arc<dyn SocialApi>,
    pub users: Arc<dyn UserApi>,
    pub feed: Arc<FeedService>,
    /// The sessions the gateway's verifier treats as ended.
    pub revocations: Arc<LocalRevocations>,
    pub notifications: Arc<NotificationService>,
    issuer: TokenIssuer,
}

fn counted<T: ?Sized>(inner: Arc<T>, calls: &Arc<Calls>) -> Arc<Counted<T>> {
    Arc::new(Counted {
        inner,
        calls: calls.clone(),
    })
}

impl World {
    pub async fn new() -> Self {
        Self::with_options(GatewayOptions::default()).await
    }

    pub async fn with_options(options: GatewayOptions) -> Self {
        let sqlite = nova_testkit::sqlite().await;
        let db = sqlite.db().clone();
        let clock = SystemClock::shared();
        let cursors = CursorCodec::new(b"test key, long enough for hmac!!");
        let kv = Kv::in_process();

        let identity: Arc<dyn IdentityApi> = Arc::new(
            IdentityService::builder(Arc::new(SqlIdentityStore::new(db.clone())), KEYS.clone())
                .rate_limiter(Arc::new(InProcessRateLimiter::new(clock.clone())))
                .mailer(Arc::new(MemoryMailer::default()))
                .secrets(SecretBox::generate("test"))
                .build(),
        );
        let users: Arc<dyn UserApi> =
            Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
        let graph: Arc<dyn GraphApi> = Arc::new(GraphService::new(
            Arc::new(SqlGraphStore::new(db.clone())),
            clock.clone(),
            cursors.clone(),
        ));
        // Social and content reach the graph through a counter of their own.
        let inner_calls = Arc::new(Calls::default());
        let counted_graph: Arc<dyn GraphApi> = counted(graph.clone(), &inner_calls);
        let social: Arc<dyn SocialApi> = Arc::new(SocialService::new(
            counted_graph.clone(),
            users.clone(),
            Arc::new(SqlSocialStore::new(db.clone())),
        ));
        let content_service = Arc::new(ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            Arc::new(SocialAudience::new(
                social.clone(),
                counted_graph.clone(),
                users.clone(),
            )),
            cursors.clone(),
        ));
        let content: Arc<dyn ContentApi> = content_service;
        let trending: Arc<dyn TrendingApi> = Arc::new(
            TrendingService::start(
                TrendingConfig::default(),
                Arc::new(SqlTrendingStore::new(db.clone())),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        // Feed, too, reaches the graph through the domains' counter (and reads trending
        // for the ranked page's out-of-network posts).
        let feed = Arc::new(
            FeedService::new(
                Arc::new(MemoryTimelineStore::default()),
                content.clone(),
                counted_graph,
                kv.pubsub.clone(),
                clock.clone(),
                cursors,
            )
            .with_trending(trending.clone()),
        );

        let notifications = Arc::new(
            NotificationService::new(
                Arc::new(SqlNotificationStore::new(db.clone())),
                Arc::new(SocialRelations(social.clone())),
                CursorCodec::new(b"test key, long enough for hmac!!"),
            )
            .with_pubsub(kv.pubsub.clone()),
        );

        let calls = Arc::new(Calls::default());
        let revocations = Arc::new(LocalRevocations::default());
        let domains = Domains {
            identity: counted(identity, &calls),
            users: counted(users.clone(), &calls),
            graph: counted(graph, &calls),
            social: counted(social.clone(), &calls),
            content: counted(content.clone(), &calls),
            feed: counted(feed.clone() as Arc<dyn FeedApi>, &calls),
            trending: counted(trending, &calls),
            search: None,
            auth: Arc::new(TokenAuth(
                TokenVerifier::for_key_set(&**KEYS, token_config(), clock.clone()),
                revocations.clone(),
            )),
            limits: kv.rate_limiter.clone(),
            notification: Some(notifications.clone()),
            notifications: Some(Arc::new(nova_gateway::LiveNotifications(
                notifications.clone(),
            ))),
            analytics: None,
            trend_labels: None,
            trust_safety: None,
            chat: None,
            media: None,
            with_token: None,
        };
        let router = nova_gateway::router(domains.clone(), options);
        Self {
            sqlite,
            calls,
            inner_calls,
            router,
            domains,
            content,
            social,
            users,
            feed,
            revocations,
            notifications,
            issuer: TokenIssuer::new(KEYS.clone(), token_config(), clock),
        }
    }

    /// Hands the outbox's unpublished events to the notification domain and marks them
    /// published.
    pub async fn deliver_notifications(&self) {
        let store = outbox::store(self.sqlite.db());
        let events = store.fetch_unpublished(1000).await.unwrap();
        self.notifications.ingest(&events).await.unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        store
            .mark_published(&ids, chrono::Utc::now())
            .await
            .unwrap();
    }

    /// A new account and an access token for it.
    pub async fn user(&self, name: &str) -> (Principal, String) {
        let principal = nova_identity::fixtures::account(self.sqlite.db(), name)
            .await
            .unwrap();
        let token = self.issuer.issue(&principal).unwrap().token;
        (principal, token)
    }

    /// A post by `author` (straight through the domain).
    pub async fn post(&self, author: &Principal, text: &str) -> PostId {
        self.post_with(
            author,
            NewPost {
                text: text.into(),
                quotes_allowed: true,
                ..NewPost::default()
            },
        )
        .await
    }

    pub async fn post_with(&self, author: &Principal, post: NewPost) -> PostId {
        self.content.create_post(author, post).await.unwrap().id
    }

    /// POSTs `body` to `/graphql`; the status and the JSON answer.
    pub async fn raw(&self, token: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes).into_owned() }));
        (status, json)
    }

    /// Runs one operation; the whole JSON answer.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables });
        self.raw(token, serde_json::to_vec(&body).unwrap()).await.1
    }

    /// GETs `path`; the status and the body text.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The first error's `extensions.code`.
pub fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer}"))
}

/// The first error without its location and path: what a client can compare.
pub fn error_of(answer: &Value) -> Value {
    let e = &answer["errors"][0];
    assert!(!e.is_null(), "expected an error in {answer}");
    json!({ "message": e["message"], "extensions": e["extensions"] })
}
