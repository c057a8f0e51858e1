//! Wiring of the all-in-one process.

use std::sync::Arc;

use nova_auth::Authenticator;
use nova_content::store::SqlContentStore;
use nova_content::{ContentService, SocialAudience};
use nova_core::SystemClock;
use nova_core::config::NovaConfig;
use nova_db::DbKind;
use nova_feed::setup::Domains as FeedDomains;
use nova_gateway::{Domains, GatewayOptions};
use nova_graph::{CachedGraphStore, GraphApi, GraphService, GraphStore, SqlGraphStore};
use nova_identity::IdentityApi;
use nova_runtime::{Infra, SERVICES, Server, ServiceSpec};
use nova_social::store::SqlSocialStore;
use nova_social::{LatePostAccess, SocialApi, SocialService};
use nova_trending::labels::{LABELS_CONSUMER, LabelRecorder, TrendLabelStore};
use nova_user::store::{CachedUserStore, SqlUserStore, UserStore};
use nova_user::{UserApi, UserService};

/// The gateway's spec: the all-in-one answers on the gateway's port.
fn gateway_spec() -> Result<&'static ServiceSpec, String> {
    ServiceSpec::by_name("graphql-gateway")
        .ok_or_else(|| "service registry has no graphql-gateway".to_owned())
}

/// Entries per in-process read cache (about 100 bytes each).
const READ_CACHE_ENTRIES: u64 = 100_000;

/// Runs until SIGTERM / SIGINT.
pub async fn run(config: NovaConfig, demo: bool) -> Result<(), String> {
    let spec = gateway_spec()?;
    // Configuration first: a bad value stops nova with one line before anything starts
    // (trending's snapshot restore would already be logging).
    nova_runtime::resolve_ports(spec, &config).map_err(|e| e.to_string())?;
    nova_trending::setup::snapshot_interval(&config)?;
    let gateway_options = GatewayOptions::from_config(&config).map_err(|e| e.to_string())?;
    nova_feed::setup::config(&config)?;
    let infra = Infra::start(&config, spec.name).await?;

    // Domains: each writes through `db`, wakes the relay after commits, limits with `kv`.
    let identity: Arc<dyn IdentityApi> = nova_identity::setup::service_from_config(
        &config,
        &infra.db,
        &infra.kv,
        Some(infra.relay.clone()),
    )
    .await
    .map_err(|e| format!("identity: {e}"))?;
    // In one process the identity service verifies tokens itself (ended sessions at once).
    let auth: Arc<dyn Authenticator> = Arc::new(identity.clone());
    let (db, relay) = (&infra.db, &infra.relay);
    // On SQLite this process is the only writer, so hot reads (profiles, settings,
    // relationships, follow and block lists) may be served from memory, invalidated by
    // the writes here.
    let sole_writer = db.kind() == DbKind::Sqlite;
    let mut user_store: Arc<dyn UserStore> = Arc::new(SqlUserStore::new(db.clone()));
    if sole_writer {
        user_store = Arc::new(CachedUserStore::new(user_store, READ_CACHE_ENTRIES));
    }
    let users: Arc<dyn UserApi> = Arc::new(UserService::new(user_store).with_relay(relay.clone()));
    let mut graph_store: Arc<dyn GraphStore> = Arc::new(SqlGraphStore::new(db.clone()));
    if sole_writer {
        graph_store = Arc::new(CachedGraphStore::new(graph_store, READ_CACHE_ENTRIES));
    }
    let graph: Arc<dyn GraphApi> = Arc::new(
        GraphService::new(
            graph_store,
            SystemClock::shared(),
            Infra::cursor_codec(&config)?,
        )
        .with_relay(relay.clone()),
    );
    // Social asks content whether a post may be reposted, content asks social who may
    // see whom: content is wired into social once both exist.
    let posts = Arc::new(LatePostAccess::default());
    let mut social_service = SocialService::new(
        graph.clone(),
        users.clone(),
        posts.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    )
    .with_relay(relay.clone());
    if sole_writer {
        social_service = social_service.with_read_cache(READ_CACHE_ENTRIES);
    }
    let social: Arc<dyn SocialApi> = Arc::new(social_service);
    let content = Arc::new(
        ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            Arc::new(SocialAudience::new(
                social.clone(),
                graph.clone(),
                users.clone(),
            )),
            Infra::cursor_codec(&config)?,
        )
        .with_relay(relay.clone()),
    );
    posts.set(content.clone());

    // Ranking, trending (restored from its last snapshot) and the home feed, fed by the
    // domains' events through the embedded log.
    let ranking = nova_ranking::setup::embedded(&config, db)?;
    let trending = nova_trending::setup::embedded(&config, db, infra.shutdown_token()).await?;
    let labels = TrendLabelStore::new(db.clone());
    let feed = nova_feed::setup::embedded(
        &config,
        db,
        infra.kv.pubsub.clone(),
        FeedDomains {
            content: content.clone(),
            graph: graph.clone(),
            ranking: Some(ranking),
            trending: Some(trending.api.clone()),
        },
        Infra::cursor_codec(&config)?,
    )
    .await?;

    if demo {
        let domains = crate::demo::DemoDomains {
            identity: identity.clone(),
            users: users.clone(),
            social: social.clone(),
            content: content.clone(),
        };
        let seeded = crate::demo::seed(&domains).await?;
        if seeded.accounts == 0 {
            println!("nova demo: the demo network is already there");
        } else {
            println!(
                "nova demo: seeded {} accounts, {} follows, {} posts, {} likes; log in as ada, grace, alan, ... with password {}",
                seeded.accounts,
                seeded.follows,
                seeded.posts,
                seeded.likes,
                crate::demo::DEMO_PASSWORD
            );
        }
    }

    let mut infra = infra;
    infra.track(trending.snapshots);
    infra.consume(nova_trending::setup::CONSUMER, trending.consumer);
    infra.consume(
        LABELS_CONSUMER,
        Arc::new(LabelRecorder::new(labels.clone())),
    );
    for (consumer, handler) in feed.consumers {
        infra.consume(consumer, handler);
    }

    let domains = Domains {
        identity: identity.clone(),
        users: users.clone(),
        graph,
        social: social.clone(),
        content: content.clone(),
        feed: feed.api.clone(),
        trending: trending.api.clone(),
        auth: auth.clone(),
        limits: infra.kv.rate_limiter.clone(),
        notifications: None,
        trend_labels: Some(Arc::new(labels)),
        with_token: None,
    };
    let routes = nova_identity::http::router(identity)
        .merge(nova_user::http::router(users, auth.clone()))
        .merge(nova_social::http::router(social, auth.clone()))
        .merge(nova_content::http::router(content, auth.clone()))
        .merge(nova_trending::http::router(trending.api))
        .merge(nova_feed::http::router(feed.api, auth))
        .merge(nova_gateway::router(domains, gateway_options));
    let server = Server::new(spec, &config).http_routes(routes);
    let server = infra
        .readiness_checks(server)
        .bind()
        .await
        .map_err(|e| e.to_string())?;
    let http = server.http_addr();
    tracing::info!(%http, data = %infra.db_location, "nova is up");
    println!("nova: listening on http://{http} (health /api/v1/health, metrics /metrics)");
    println!(
        "nova: data in {}; cache and rate limits: {}",
        infra.db_location, infra.kv_location
    );
    println!(
        "nova: {} services in the registry; embedded event log and storage",
        SERVICES.len()
    );

    let served = server
        .serve_until(nova_runtime::shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    infra.shutdown().await;
    served
}
