//! [`Domains::build`]: every part a process needs, each built exactly once — in-process
//! on the shared database, or a gRPC client when its `*_SERVICE_URL` is set — and what
//! the served parts mount (HTTP routes, gRPC services, event consumers).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Router;
use nova_analytics::grpc::{AnalyticsGrpcClient, AnalyticsGrpcServer};
use nova_analytics::{AnalyticsApi, AnalyticsEvents, AnalyticsService};
use nova_auth::{Authenticator, JWKS_REFRESH_INTERVAL, JwksAuthenticator, KvRevocations};
use nova_chat::grpc::{ChatGrpcClient, ChatGrpcServer};
use nova_chat::store::SqlChatStore;
use nova_chat::{ChatApi, ChatService};
use nova_content::ContentApi;
use nova_content::grpc::{ContentGrpcClient, ContentGrpcServer};
use nova_content::store::SqlContentStore;
use nova_content::{ContentService, SocialAudience};
use nova_core::SystemClock;
use nova_core::channel::ServiceChannel;
use nova_core::config::NovaConfig;
use nova_core::cursor::CursorCodec;
use nova_db::DbKind;
use nova_e2ee::grpc::KeyDirectoryGrpcServer;
use nova_e2ee::{KeyDirectory, KeyDirectoryService};
use nova_events::EventHandler;
use nova_feed::FeedApi;
use nova_feed::grpc::{FeedGrpcClient, FeedGrpcServer};
use nova_gateway::{GatewayOptions, TrendLabels};
use nova_graph::grpc::{GraphGrpcClient, GraphGrpcServer};
use nova_graph::{CachedGraphStore, GraphApi, GraphService, GraphStore, SqlGraphStore};
use nova_identity::IdentityApi;
use nova_identity::grpc::{IdentityGrpcClient, IdentityGrpcServer};
use nova_identity::revocations::{REVOCATIONS_CONSUMER, RevocationRecorder};
use nova_media::grpc::{MediaGrpcClient, MediaGrpcServer};
use nova_media::{MediaApi, MediaService};
use nova_notification::grpc::{NotificationGrpcClient, NotificationGrpcServer};
use nova_notification::store::SqlNotificationStore;
use nova_notification::{NotificationApi, NotificationEvents, NotificationService};
use nova_ranking::Ranker;
use nova_ranking::RankingApi;
use nova_ranking::grpc::{RankingGrpcClient, RankingGrpcServer};
use nova_runtime::{Server, ServiceSpec};
use nova_search::SearchApi;
use nova_search::grpc::{SearchGrpcClient, SearchGrpcServer};
use nova_social::grpc::{SocialGrpcClient, SocialGrpcServer};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_trending::TrendingApi;
use nova_trending::grpc::{TrendingGrpcClient, TrendingGrpcServer};
use nova_trending::labels::{LABELS_CONSUMER, LabelRecorder, TrendLabelStore};
use nova_trust_safety::TrustSafetyApi;
use nova_trust_safety::TrustSafetyService;
use nova_trust_safety::consumer::{RoleAudit, RulesReload};
use nova_trust_safety::grpc::{TrustSafetyGrpcClient, TrustSafetyGrpcServer};
use nova_trust_safety::store::SqlTrustSafetyStore;
use nova_user::grpc::{UserGrpcClient, UserGrpcServer};
use nova_user::store::{CachedUserStore, SqlUserStore, UserStore};
use nova_user::{UserApi, UserService};
use tonic::transport::Endpoint;

use crate::host::Host;
use crate::moderation::TrustSafetyPorts;
use crate::plan::{Part, Plan};
use crate::relations::SocialRelations;

/// Entries per in-process read cache (about 100 bytes each).
const READ_CACHE_ENTRIES: u64 = 100_000;

/// Adds one gRPC service to the server.
pub type GrpcMount = Box<dyn FnOnce(Server) -> Server + Send>;

/// What a plan needs, read from the configuration before anything starts: a bad value
/// stops the process with one line naming it.
pub struct Settings {
    /// The plan.
    pub plan: &'static Plan,
    /// Its registry entry.
    pub spec: &'static ServiceSpec,
    /// The parts this process builds or calls.
    needed: BTreeSet<Part>,
    /// The needed parts that run elsewhere, and the channel to each.
    channels: BTreeMap<Part, ServiceChannel>,
    ranker: Option<Ranker>,
    gateway: Option<GatewayOptions>,
}

impl Settings {
    /// Reads and checks everything `plan` will need from `config`.
    pub fn read(plan: &'static Plan, config: &NovaConfig) -> Result<Self, String> {
        let spec = ServiceSpec::by_name(plan.spec)
            .ok_or_else(|| format!("service registry has no {}", plan.spec))?;
        nova_runtime::resolve_ports(spec, config).map_err(|e| e.to_string())?;
        let here = |part: Part| plan.serves.contains(&part) || plan.local.contains(&part);
        let mut needed = BTreeSet::new();
        let mut channels = BTreeMap::new();
        let mut todo: Vec<Part> = plan.serves.iter().chain(plan.local).copied().collect();
        while let Some(part) = todo.pop() {
            if !needed.insert(part) {
                continue;
            }
            if !here(part)
                && let Some(channel) = channel(plan, config, part)?
            {
                channels.insert(part, channel);
                continue;
            }
            todo.extend(part.needs());
        }
        let local = |part: Part| needed.contains(&part) && !channels.contains_key(&part);
        if local(Part::Trending) {
            nova_trending::setup::snapshot_interval(config)?;
        }
        if local(Part::Feed) {
            nova_feed::setup::config(config)?;
        }
        if local(Part::Media) {
            nova_media::MediaSettings::from_source(&config.source).map_err(|e| e.to_string())?;
        }
        if local(Part::Chat) {
            nova_chat::CallSettings::from_source(&config.source).map_err(|e| e.to_string())?;
        }
        let ranker = match local(Part::Ranking) {
            true => Some(nova_ranking::setup::ranker(config)?),
            false => None,
        };
        let gateway = match local(Part::Gateway) {
            true => Some(GatewayOptions::from_config(config).map_err(|e| e.to_string())?),
            false => None,
        };
        Ok(Self {
            plan,
            spec,
            needed,
            channels,
            ranker,
            gateway,
        })
    }
}

/// The channel to `part`'s service when it runs elsewhere: its variable, or (for a
/// stateless plan) the Kubernetes default `http://<service>:<grpc port>`. Lazy: services
/// may start in any order.
fn channel(plan: &Plan, config: &NovaConfig, part: Part) -> Result<Option<ServiceChannel>, String> {
    let Some((var, service)) = part.remote() else {
        return Ok(None);
    };
    if let Some(channel) = nova_runtime::shell::remote(config, var)? {
        return Ok(Some(channel));
    }
    if !plan.stateless {
        return Ok(None);
    }
    let port = ServiceSpec::by_name(service)
        .and_then(|s| s.grpc_port)
        .ok_or_else(|| format!("service registry has no gRPC port for {service}"))?;
    let endpoint = Endpoint::from_shared(format!("http://{service}:{port}"))
        .map_err(|_| format!("{var}: expected an http:// URL such as http://host:port"))?;
    Ok(Some(nova_runtime::shell::with_identity(
        config,
        endpoint.connect_lazy(),
    )))
}

/// The domains of one process, each built once (in-process or a gRPC client); `None`
/// where the process does not need it.
#[derive(Clone, Default)]
pub struct Domains {
    /// Accounts, sessions, tokens.
    pub identity: Option<Arc<dyn IdentityApi>>,
    /// Profiles and settings.
    pub users: Option<Arc<dyn UserApi>>,
    /// Follow / block / mute edges.
    pub graph: Option<Arc<dyn GraphApi>>,
    /// Follows, blocks, mutes, viewer access.
    pub social: Option<Arc<dyn SocialApi>>,
    /// Posts.
    pub content: Option<Arc<dyn ContentApi>>,
    /// Scoring.
    pub ranking: Option<Arc<dyn RankingApi>>,
    /// Trends.
    pub trending: Option<Arc<dyn TrendingApi>>,
    /// Home timelines.
    pub feed: Option<Arc<dyn FeedApi>>,
    /// Full-text search.
    pub search: Option<Arc<dyn SearchApi>>,
    /// Grouped in-app notifications.
    pub notification: Option<Arc<dyn NotificationApi>>,
    /// Reports, moderation, appeals, audit, pre-publish rules.
    pub trust_safety: Option<Arc<dyn TrustSafetyApi>>,
    /// Engagement analytics and insights.
    pub analytics: Option<Arc<dyn AnalyticsApi>>,
    /// End-to-end encrypted chat.
    pub chat: Option<Arc<dyn ChatApi>>,
    /// The E2EE key directory (served with chat).
    pub keys: Option<Arc<dyn KeyDirectory>>,
    /// Uploaded media.
    pub media: Option<Arc<dyn MediaApi>>,
}

impl std::fmt::Debug for Domains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Domains").finish_non_exhaustive()
    }
}

/// What a process runs: its domains and what the served ones mount.
pub struct Built {
    /// The domains (the demo seeds through them).
    pub domains: Domains,
    /// The HTTP routes of the served parts.
    pub http: Router,
    /// Routes that stream their request body under their own caps (media uploads):
    /// mounted outside the server's body limit.
    pub streamed: Router,
    /// Their gRPC services (mounted when the registry gives the service a gRPC port).
    pub grpc: Vec<GrpcMount>,
    /// `(consumer group, handler)` pairs to run on the event bus.
    pub consumers: Vec<(&'static str, Arc<dyn EventHandler>)>,
}

/// Building state: the parts so far and the in-process pieces later parts need.
struct Builder<'a> {
    settings: Settings,
    config: &'a NovaConfig,
    host: &'a mut Host,
    cursors: Option<CursorCodec>,
    sole_writer: bool,
    domains: Domains,
    labels: Option<TrendLabelStore>,
    /// The in-process notification service (its event consumer runs where it is served).
    notifications: Option<Arc<NotificationService>>,
    /// The in-process analytics service (its event consumer runs where it is served).
    analytics: Option<Arc<AnalyticsService>>,
    /// The in-process media service (uploads stream through where it is served).
    media: Option<Arc<MediaService>>,
    auth: Option<Arc<dyn Authenticator>>,
    built: Built,
}

impl Domains {
    /// Builds every part `settings` needs on `host`, each exactly once, and mounts the
    /// served ones.
    pub async fn build(
        settings: Settings,
        host: &mut Host,
        config: &NovaConfig,
    ) -> Result<Built, String> {
        // On SQLite the all-in-one is the only writer, so hot reads (profiles, settings,
        // relationships, follow and block lists) may be served from memory, invalidated
        // by the writes here. Anywhere else another process may write.
        let sole_writer =
            settings.plan.all_in_one && host.infra().is_some_and(|i| i.db.kind() == DbKind::Sqlite);
        let cursors = match settings.plan.stateless {
            true => None,
            false => Some(nova_runtime::Infra::cursor_codec(config)?),
        };
        let mut b = Builder {
            settings,
            config,
            host,
            cursors,
            sole_writer,
            domains: Domains::default(),
            labels: None,
            notifications: None,
            analytics: None,
            media: None,
            auth: None,
            built: Built {
                domains: Domains::default(),
                http: Router::new(),
                streamed: Router::new(),
                grpc: Vec::new(),
                consumers: Vec::new(),
            },
        };
        for part in Part::ALL {
            if !b.settings.needed.contains(&part) {
                continue;
            }
            match b.settings.channels.get(&part).cloned() {
                Some(channel) => b.remote(part, channel),
                None => b.local(part).await?,
            }
            if b.settings.plan.serves.contains(&part) {
                b.mount(part)?;
            }
        }
        let mut built = b.built;
        built.domains = b.domains;
        Ok(built)
    }
}

/// `Some(x)` or the error naming the missing part (a plan whose `needs` are wrong).
fn have<T: Clone>(value: &Option<T>, part: Part) -> Result<T, String> {
    value
        .clone()
        .ok_or_else(|| format!("composition: {part:?} is needed before it is built"))
}

impl Builder<'_> {
    fn infra(&self) -> Result<&nova_runtime::Infra, String> {
        self.host
            .infra()
            .ok_or_else(|| "composition: a stateless process cannot run domains".to_owned())
    }

    fn cursors(&self) -> Result<CursorCodec, String> {
        have(&self.cursors, Part::Graph)
    }

    /// `part` as a gRPC client on `channel`.
    fn remote(&mut self, part: Part, channel: ServiceChannel) {
        let d = &mut self.domains;
        match part {
            Part::Identity => {
                d.identity = Some(Arc::new(IdentityGrpcClient::from_channel(channel)))
            }
            Part::Users => d.users = Some(Arc::new(UserGrpcClient::from_channel(channel))),
            Part::Graph => d.graph = Some(Arc::new(GraphGrpcClient::from_channel(channel))),
            Part::Social => d.social = Some(Arc::new(SocialGrpcClient::from_channel(channel))),
            Part::Content => d.content = Some(Arc::new(ContentGrpcClient::from_channel(channel))),
            Part::Ranking => d.ranking = Some(Arc::new(RankingGrpcClient::from_channel(channel))),
            Part::Trending => {
                d.trending = Some(Arc::new(TrendingGrpcClient::from_channel(channel)));
            }
            Part::Feed => d.feed = Some(Arc::new(FeedGrpcClient::from_channel(channel))),
            Part::Search => d.search = Some(Arc::new(SearchGrpcClient::from_channel(channel))),
            Part::Notification => {
                d.notification = Some(Arc::new(NotificationGrpcClient::from_channel(channel)));
            }
            Part::TrustSafety => {
                d.trust_safety = Some(Arc::new(TrustSafetyGrpcClient::from_channel(channel)));
            }
            Part::Analytics => {
                d.analytics = Some(Arc::new(AnalyticsGrpcClient::from_channel(channel)));
            }
            Part::Media => d.media = Some(Arc::new(MediaGrpcClient::from_channel(channel))),
            // The key directory stays with chat: its clients (the E2EE SDK) call
            // realtime-chat-service themselves, with nova-e2ee's own gRPC client.
            Part::Chat => d.chat = Some(Arc::new(ChatGrpcClient::from_channel(channel))),
            Part::Gateway => {}
        }
    }

    /// `part` in this process, over the parts built before it.
    async fn local(&mut self, part: Part) -> Result<(), String> {
        match part {
            Part::Identity => {
                let infra = self.infra()?;
                let mailer = crate::mail::identity_mailer(&self.config.source)
                    .map_err(|e| format!("identity: {e}"))?;
                let identity = nova_identity::setup::service_from_config(
                    self.config,
                    &infra.db,
                    &infra.kv,
                    Some(infra.relay.clone()),
                    mailer,
                )
                .await
                .map_err(|e| format!("identity: {e}"))?;
                // Accounts the users domain deletes lose their sessions here, where
                // sessions are kept.
                self.built.consumers.push((
                    nova_identity::revocations::DELETED_ACCOUNTS_CONSUMER,
                    Arc::new(nova_identity::revocations::DeletedAccounts::new(
                        identity.clone(),
                    )),
                ));
                // Trust & safety's suspensions: no logins, sessions ended, until reversed.
                self.built.consumers.push((
                    nova_identity::revocations::SUSPENSIONS_CONSUMER,
                    Arc::new(nova_identity::revocations::Suspensions::new(
                        identity.clone(),
                    )),
                ));
                self.domains.identity = Some(identity);
            }
            Part::Users => {
                let infra = self.infra()?;
                let mut store: Arc<dyn UserStore> = Arc::new(SqlUserStore::new(infra.db.clone()));
                if self.sole_writer {
                    store = Arc::new(CachedUserStore::new(store, READ_CACHE_ENTRIES));
                }
                // Avatars and banners are the user's own uploads, claimed in media.
                let media = crate::media::MediaPorts(have(&self.domains.media, Part::Media)?);
                let users = UserService::new(store)
                    .with_relay(infra.relay.clone())
                    .with_media(Arc::new(media));
                self.domains.users = Some(Arc::new(users));
            }
            Part::Graph => {
                let infra = self.infra()?;
                let mut store: Arc<dyn GraphStore> = Arc::new(SqlGraphStore::new(infra.db.clone()));
                if self.sole_writer {
                    store = Arc::new(CachedGraphStore::new(store, READ_CACHE_ENTRIES));
                }
                let graph = GraphService::new(store, SystemClock::shared(), self.cursors()?)
                    .with_relay(infra.relay.clone());
                self.domains.graph = Some(Arc::new(graph));
            }
            Part::Social => {
                let infra = self.infra()?;
                let mut social = SocialService::new(
                    have(&self.domains.graph, Part::Graph)?,
                    have(&self.domains.users, Part::Users)?,
                    Arc::new(SqlSocialStore::new(infra.db.clone())),
                )
                .with_relay(infra.relay.clone());
                if self.sole_writer {
                    social = social.with_read_cache(READ_CACHE_ENTRIES);
                }
                self.domains.social = Some(Arc::new(social));
            }
            Part::Content => {
                let infra = self.infra()?;
                let audience = SocialAudience::new(
                    have(&self.domains.social, Part::Social)?,
                    have(&self.domains.graph, Part::Graph)?,
                    have(&self.domains.users, Part::Users)?,
                );
                // Posts are screened before they are stored and read as moderation
                // leaves them (hidden, removed, suspended authors).
                let ts = Arc::new(TrustSafetyPorts(have(
                    &self.domains.trust_safety,
                    Part::TrustSafety,
                )?));
                let content = ContentService::new(
                    Arc::new(SqlContentStore::new(infra.db.clone())),
                    Arc::new(audience),
                    self.cursors()?,
                )
                .with_relay(infra.relay.clone())
                .with_publish_check(ts.clone())
                .with_moderation(ts)
                .with_attachments(Arc::new(crate::media::MediaPorts(have(
                    &self.domains.media,
                    Part::Media,
                )?)));
                let content = Arc::new(content);
                // A block ends the pair's reposts, which live here (graph owns the block).
                self.built.consumers.push((
                    nova_content::consumer::CONSUMER,
                    Arc::new(nova_content::consumer::BlockedPairs::new(content.clone())),
                ));
                self.domains.content = Some(content);
            }
            Part::Ranking => {
                let ranker = self
                    .settings
                    .ranker
                    .take()
                    .ok_or("composition: ranking was not configured")?;
                self.domains.ranking =
                    Some(nova_ranking::setup::service(ranker, &self.infra()?.db));
            }
            Part::Trending => {
                let infra = self.infra()?;
                let (db, stop) = (infra.db.clone(), infra.shutdown_token());
                let trending = nova_trending::setup::embedded(self.config, &db, stop).await?;
                self.host.track(trending.snapshots);
                self.built
                    .consumers
                    .push((nova_trending::setup::CONSUMER, trending.consumer));
                self.domains.trending = Some(trending.api);
                self.labels = Some(TrendLabelStore::new(db));
            }
            Part::Feed => {
                let infra = self.infra()?;
                let domains = nova_feed::setup::Domains {
                    content: have(&self.domains.content, Part::Content)?,
                    graph: have(&self.domains.graph, Part::Graph)?,
                    ranking: self.domains.ranking.clone(),
                    trending: self.domains.trending.clone(),
                };
                let feed = nova_feed::setup::embedded(
                    self.config,
                    &infra.db,
                    infra.kv.pubsub.clone(),
                    domains,
                    self.cursors()?,
                )
                .await?;
                self.built.consumers.extend(feed.consumers);
                self.domains.feed = Some(feed.api);
            }
            Part::Search => {
                let content = have(&self.domains.content, Part::Content)?;
                let users = have(&self.domains.users, Part::Users)?;
                let social = have(&self.domains.social, Part::Social)?;
                let access =
                    crate::search::DomainAccess::new(content.clone(), users.clone(), social);
                let corpus = crate::search::DomainCorpus::new(content, users);
                let search = nova_search::setup::configured(
                    self.config,
                    Arc::new(access),
                    Arc::new(corpus),
                    self.cursors()?,
                )
                .await?;
                self.built
                    .consumers
                    .push((nova_search::setup::CONSUMER, search.consumer));
                self.domains.search = Some(search.api);
            }
            Part::Notification => {
                let infra = self.infra()?;
                // Who may notify whom: social's answer, and trust & safety's actions.
                let relations = SocialRelations::new(
                    have(&self.domains.social, Part::Social)?,
                    have(&self.domains.trust_safety, Part::TrustSafety)?,
                );
                let service = NotificationService::new(
                    Arc::new(SqlNotificationStore::new(infra.db.clone())),
                    Arc::new(relations),
                    self.cursors()?,
                )
                .with_pubsub(infra.kv.pubsub.clone());
                let service = Arc::new(service);
                self.domains.notification = Some(service.clone());
                self.notifications = Some(service);
            }
            Part::TrustSafety => {
                let infra = self.infra()?;
                let service = TrustSafetyService::new(
                    Arc::new(SqlTrustSafetyStore::new(infra.db.clone())),
                    infra.kv.rate_limiter.clone(),
                )
                .with_relay(infra.relay.clone());
                service
                    .reload_rules()
                    .await
                    .map_err(|e| format!("trust-safety: rules: {e}"))?;
                let service = Arc::new(service);
                // Every process checking posts here reloads the rules when they change.
                self.built.consumers.push((
                    nova_trust_safety::consumer::CONSUMER,
                    Arc::new(RulesReload::new(service.clone())),
                ));
                // Identity's staff role changes go into the audit log (once per event).
                self.built.consumers.push((
                    nova_trust_safety::consumer::ROLES_CONSUMER,
                    Arc::new(RoleAudit::new(service.clone())),
                ));
                self.domains.trust_safety = Some(service);
            }
            Part::Analytics => {
                let infra = self.infra()?;
                let built = nova_analytics::setup::build(
                    self.config,
                    &infra.db,
                    infra.kv.rate_limiter.clone(),
                    infra.shutdown_token(),
                )
                .await
                .map_err(|e| format!("analytics: {e}"))?;
                tracing::info!(engine = built.engine, "analytics store");
                // Drains the write buffer at shutdown, before the database closes.
                self.host.track(built.task);
                self.domains.analytics = Some(built.service.clone());
                self.analytics = Some(built.service);
            }
            Part::Chat => {
                let infra = self.infra()?;
                let social = have(&self.domains.social, Part::Social)?;
                let (db, kv) = (infra.db.clone(), infra.kv.clone());
                let calls = nova_chat::CallSettings::from_source(&self.config.source)
                    .map_err(|e| e.to_string())?;
                let chat = ChatService::new(
                    Arc::new(SqlChatStore::new(db.clone())),
                    // Suspended accounts neither write nor are written to.
                    Arc::new(crate::chat::SocialReach::new(
                        social.clone(),
                        have(&self.domains.trust_safety, Part::TrustSafety)?,
                    )),
                )
                .with_pubsub(kv.pubsub.clone())
                .with_limiter(kv.rate_limiter.clone())
                .with_calls(calls);
                let chat = Arc::new(chat);
                let (sweeper, sweep_stop) = (chat.clone(), infra.shutdown_token());
                let (purger, stop) = (chat.clone(), infra.shutdown_token());
                // Calls nobody answered in time end as missed: swept every 2 s (every
                // replica sweeps; a call's version makes the ending happen once).
                self.host.track(tokio::spawn(async move {
                    let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
                    loop {
                        tokio::select! {
                            _ = sweep_stop.cancelled() => return,
                            _ = every.tick() => {
                                if let Err(e) = sweeper.expire_calls().await {
                                    tracing::warn!(error = %e, "chat: ending unanswered calls failed");
                                }
                            }
                        }
                    }
                }));
                // Undelivered envelopes expire: purge them hourly until shutdown.
                self.host.track(tokio::spawn(async move {
                    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
                    loop {
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = every.tick() => {
                                if let Err(e) = purger.purge_expired().await {
                                    tracing::warn!(error = %e, "chat: purging expired envelopes failed");
                                }
                            }
                        }
                    }
                }));
                let keys = KeyDirectoryService::sql(db)
                    .with_policy(Arc::new(crate::chat::SocialInteraction(social)))
                    .with_claim_limits(kv.rate_limiter, Default::default());
                self.domains.chat = Some(chat);
                self.domains.keys = Some(Arc::new(keys));
            }
            Part::Media => {
                let infra = self.infra()?;
                let media = Arc::new(crate::media::embedded(self.config, infra)?);
                let stop = infra.shutdown_token();
                // Unattached uploads go after a day: looked for hourly until shutdown.
                let cleanup = media
                    .clone()
                    .spawn_cleanup(std::time::Duration::from_secs(3600), stop);
                self.host.track(cleanup);
                self.domains.media = Some(media.clone());
                self.media = Some(media);
            }
            // The gateway holds no state: it is built when mounted.
            Part::Gateway => {}
        }
        Ok(())
    }

    /// Verifies bearer tokens: the identity service itself when it runs here (ended
    /// sessions at once), else identity's published keys (`IDENTITY_JWKS_URL`), re-read
    /// every 5 minutes and on an unknown key id, refusing the sessions identity's
    /// `session.revoked` events end.
    fn auth(&mut self) -> Arc<dyn Authenticator> {
        if let Some(auth) = &self.auth {
            return auth.clone();
        }
        let auth: Arc<dyn Authenticator> = match (
            &self.domains.identity,
            self.settings.channels.contains_key(&Part::Identity),
        ) {
            (Some(identity), false) => Arc::new(identity.clone()),
            _ => {
                // Ended sessions: this process's consumer records identity's
                // `session.revoked` events in the kv store (Redis when shared) and pub/sub
                // tells every replica, the gateway included.
                let kv = self.host.kv();
                let revocations = Arc::new(KvRevocations::new(kv.cache.clone(), kv.pubsub.clone()));
                let listener = revocations.spawn_listener(self.host.shutdown_token());
                self.host.track(listener);
                if self.host.infra().is_some() {
                    self.built.consumers.push((
                        REVOCATIONS_CONSUMER,
                        Arc::new(RevocationRecorder::new(revocations.clone())),
                    ));
                }
                let jwks = Arc::new(
                    JwksAuthenticator::from_config(self.config).with_revocations(revocations),
                );
                let refresh = jwks.spawn_refresh(JWKS_REFRESH_INTERVAL, self.host.shutdown_token());
                self.host.track(refresh);
                jwks
            }
        };
        self.auth = Some(auth.clone());
        auth
    }

    fn http(&mut self, routes: Router) {
        let http = std::mem::take(&mut self.built.http);
        self.built.http = http.merge(routes);
    }

    fn streamed(&mut self, routes: Router) {
        let streamed = std::mem::take(&mut self.built.streamed);
        self.built.streamed = streamed.merge(routes);
    }

    /// gRPC services are mounted only where the registry gives the service a gRPC port
    /// (the all-in-one answers HTTP and GraphQL only).
    fn grpc(&mut self, mount: GrpcMount) {
        if self.settings.spec.grpc_port.is_some() {
            self.built.grpc.push(mount);
        }
    }

    /// Mounts served `part`: its HTTP routes, gRPC service and consumers.
    fn mount(&mut self, part: Part) -> Result<(), String> {
        match part {
            Part::Identity => {
                let identity = have(&self.domains.identity, part)?;
                self.http(nova_identity::http::router(identity.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(IdentityGrpcServer::new(identity).into_service())
                }));
            }
            Part::Users => {
                let (users, auth) = (have(&self.domains.users, part)?, self.auth());
                // With social at hand, a profile read across a block answers like a missing
                // one, as GraphQL does; with content, only one's own post may be pinned.
                let blocks = self.domains.social.as_ref().map(|social| {
                    Arc::new(nova_social::SocialInteractions(social.clone()))
                        as Arc<dyn nova_user::http::Interactions>
                });
                let posts = self.domains.content.as_ref().map(|content| {
                    Arc::new(nova_content::ContentPosts(content.clone()))
                        as Arc<dyn nova_user::http::OwnPosts>
                });
                let routes =
                    nova_user::http::router_with_ports(users.clone(), auth.clone(), blocks, posts);
                self.http(routes);
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(UserGrpcServer::new(users, auth).into_service())
                }));
            }
            Part::Graph => {
                let graph = have(&self.domains.graph, part)?;
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(GraphGrpcServer::new(graph).into_service())
                }));
            }
            Part::Social => {
                let (social, auth) = (have(&self.domains.social, part)?, self.auth());
                self.http(nova_social::http::router(social.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(SocialGrpcServer::new(social, auth).into_service())
                }));
            }
            Part::Content => {
                let (content, auth) = (have(&self.domains.content, part)?, self.auth());
                self.http(nova_content::http::router(content.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(ContentGrpcServer::new(content, auth).into_service())
                }));
            }
            Part::Ranking => {
                let ranking = have(&self.domains.ranking, part)?;
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(RankingGrpcServer::new(ranking).into_service())
                }));
            }
            Part::Trending => {
                let (trending, auth) = (have(&self.domains.trending, part)?, self.auth());
                self.http(nova_trending::http::router(trending.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(TrendingGrpcServer::new(trending, auth).into_service())
                }));
                // The text of trending hashtags and links, for the gateway and REST readers.
                let labels = have(&self.labels, part)?;
                self.built
                    .consumers
                    .push((LABELS_CONSUMER, Arc::new(LabelRecorder::new(labels))));
            }
            Part::Feed => {
                let (feed, auth) = (have(&self.domains.feed, part)?, self.auth());
                self.http(nova_feed::http::router(feed.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(FeedGrpcServer::new(feed, auth).into_service())
                }));
            }
            Part::Search => {
                let (search, auth) = (have(&self.domains.search, part)?, self.auth());
                self.http(nova_search::http::router(search.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(SearchGrpcServer::new(search, auth).into_service())
                }));
            }
            Part::Notification => {
                let (api, auth) = (have(&self.domains.notification, part)?, self.auth());
                self.http(nova_notification::http::router(api.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(NotificationGrpcServer::new(api, auth).into_service())
                }));
                // Deduplicated by event id in the transaction that writes the notification.
                let service = have(&self.notifications, part)?;
                self.built.consumers.push((
                    nova_notification::CONSUMER,
                    Arc::new(NotificationEvents(service)),
                ));
            }
            Part::TrustSafety => {
                let (api, auth) = (have(&self.domains.trust_safety, part)?, self.auth());
                self.http(nova_trust_safety::http::router(api.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(TrustSafetyGrpcServer::new(api, auth).into_service())
                }));
            }
            Part::Analytics => {
                let (api, auth) = (have(&self.domains.analytics, part)?, self.auth());
                self.http(nova_analytics::http::router(api.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(AnalyticsGrpcServer::new(api, auth).into_service())
                }));
                // Idempotent by event id (the store keeps each id once).
                let service = have(&self.analytics, part)?;
                self.built
                    .consumers
                    .push((nova_analytics::CONSUMER, Arc::new(AnalyticsEvents(service))));
            }
            Part::Chat => {
                let (chat, keys, auth) = (
                    have(&self.domains.chat, part)?,
                    have(&self.domains.keys, part)?,
                    self.auth(),
                );
                self.http(nova_chat::http::router(chat.clone(), auth.clone()));
                self.http(nova_e2ee::http::router(keys.clone(), auth.clone()));
                self.grpc(Box::new(move |s| {
                    let key_auth = Arc::new(crate::chat::KeyDirectoryAuth(auth.clone()));
                    s.add_grpc_service(ChatGrpcServer::new(chat, auth).into_service())
                        .add_grpc_service(
                            KeyDirectoryGrpcServer::new(keys, key_auth).into_service(),
                        )
                }));
            }
            Part::Media => {
                let (service, auth) = (have(&self.media, part)?, self.auth());
                self.http(nova_media::http::router(service.clone(), auth.clone()));
                self.streamed(nova_media::http::upload_router(
                    service.clone(),
                    auth.clone(),
                ));
                // A deleted post's media and a deleted account's uploads go with them.
                self.built.consumers.push((
                    nova_media::consumer::CONSUMER,
                    Arc::new(nova_media::consumer::MediaCleanup::new(service.clone())),
                ));
                self.grpc(Box::new(move |s| {
                    s.add_grpc_service(MediaGrpcServer::new(service, auth).into_service())
                }));
            }
            Part::Gateway => {
                let options = self
                    .settings
                    .gateway
                    .take()
                    .ok_or("composition: the gateway was not configured")?;
                let domains = self.gateway_domains()?;
                self.http(nova_gateway::router(domains, options));
            }
        }
        Ok(())
    }

    /// The gateway's domains. Over gRPC each request's clients carry its caller's token,
    /// so the services authenticate the caller themselves (the gateway is never the only
    /// check).
    fn gateway_domains(&mut self) -> Result<nova_gateway::Domains, String> {
        let auth = self.auth();
        let d = &self.domains;
        let trend_labels = match (&self.labels, self.host.labels_db()) {
            (Some(labels), _) => Some(Arc::new(labels.clone()) as Arc<dyn TrendLabels>),
            (None, Some(db)) => Some(Arc::new(TrendLabelStore::new(db)) as Arc<dyn TrendLabels>),
            (None, None) => None,
        };
        let limits = self.host.kv().rate_limiter.clone();
        let mut domains = nova_gateway::Domains {
            identity: have(&d.identity, Part::Identity)?,
            users: have(&d.users, Part::Users)?,
            graph: have(&d.graph, Part::Graph)?,
            social: have(&d.social, Part::Social)?,
            content: have(&d.content, Part::Content)?,
            feed: have(&d.feed, Part::Feed)?,
            trending: have(&d.trending, Part::Trending)?,
            search: d.search.clone(),
            notification: d.notification.clone(),
            auth,
            limits,
            notifications: d
                .notification
                .clone()
                .map(|api| Arc::new(nova_gateway::LiveNotifications(api)) as _),
            analytics: d.analytics.clone(),
            trend_labels,
            trust_safety: d.trust_safety.clone(),
            chat: d.chat.clone(),
            media: d.media.clone(),
            with_token: None,
        };
        if self.settings.plan.stateless {
            let c = &self.settings.channels;
            let channel = |part: Part| have(&c.get(&part).cloned(), part);
            let identity = IdentityGrpcClient::from_channel(channel(Part::Identity)?);
            let users = UserGrpcClient::from_channel(channel(Part::Users)?);
            let social = SocialGrpcClient::from_channel(channel(Part::Social)?);
            let content = ContentGrpcClient::from_channel(channel(Part::Content)?);
            let feed = FeedGrpcClient::from_channel(channel(Part::Feed)?);
            let trending = TrendingGrpcClient::from_channel(channel(Part::Trending)?);
            let search = SearchGrpcClient::from_channel(channel(Part::Search)?);
            let notification = NotificationGrpcClient::from_channel(channel(Part::Notification)?);
            let trust_safety = TrustSafetyGrpcClient::from_channel(channel(Part::TrustSafety)?);
            let analytics = AnalyticsGrpcClient::from_channel(channel(Part::Analytics)?);
            let chat = ChatGrpcClient::from_channel(channel(Part::Chat)?);
            let media = MediaGrpcClient::from_channel(channel(Part::Media)?);
            domains.with_token = Some(Arc::new(
                move |base: &nova_gateway::Domains, token: &str| nova_gateway::Domains {
                    identity: Arc::new(identity.with_token(token)),
                    users: Arc::new(users.with_token(token)),
                    social: Arc::new(social.with_token(token)),
                    content: Arc::new(content.with_token(token)),
                    feed: Arc::new(feed.with_token(token)),
                    trending: Arc::new(trending.with_token(token)),
                    search: Some(Arc::new(search.with_token(token))),
                    notification: Some(Arc::new(notification.with_token(token))),
                    notifications: Some(Arc::new(nova_gateway::LiveNotifications(Arc::new(
                        notification.with_token(token),
                    )))),
                    trust_safety: Some(Arc::new(trust_safety.with_token(token))),
                    analytics: Some(Arc::new(analytics.with_token(token))),
                    chat: Some(Arc::new(chat.with_token(token))),
                    media: Some(Arc::new(media.with_token(token))),
                    ..base.clone()
                },
            ));
        }
        Ok(domains)
    }
}
