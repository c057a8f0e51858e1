//! A whole small world for feed tests: graph, users, social, content and ranking on one
//! database, the feed over a timeline store, and the outbox delivered by hand.

#![allow(dead_code)]

use std::sync::Arc;

use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, SystemClock};
use nova_db::Db;
use nova_events::idempotency::Idempotent;
use nova_events::{EventHandler, outbox};
use nova_feed::store::{MemoryTimelineStore, TimelineStore};
use nova_feed::{FeedConfig, FeedEvents, FeedService};
use nova_graph::{GraphService, SqlGraphStore};
use nova_kv::{InProcessPubSub, PubSub};
use nova_ranking::features::FEATURES;
use nova_ranking::{LinearModel, Ranker, RankingService, RerankConfig};
use nova_social::SocialService;
use nova_social::store::SqlSocialStore;
use nova_user::UserService;
use nova_user::store::SqlUserStore;

pub struct World {
    pub db: Db,
    pub content: Arc<ContentService>,
    pub social: Arc<SocialService>,
    pub feed: Arc<FeedService>,
    pub events: Arc<dyn EventHandler>,
}

pub fn world(db: Db, store: Arc<dyn TimelineStore>, config: FeedConfig) -> World {
    let cursors = CursorCodec::new(b"feed test key, long enough for hmac");
    let graph = Arc::new(GraphService::new(
        Arc::new(SqlGraphStore::new(db.clone())),
        SystemClock::shared(),
        cursors.clone(),
    ));
    let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
    let social = Arc::new(SocialService::new(
        graph.clone(),
        users.clone(),
        Arc::new(SqlSocialStore::new(db.clone())),
    ));
    let audience = Arc::new(SocialAudience::new(social.clone(), graph.clone(), users));
    let content = Arc::new(ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        audience,
        cursors.clone(),
    ));
    let model = LinearModel::from_toml(
        "logistic = true\n[weights]\nrecency = 2.0\nauthor_affinity = 1.0",
        &FEATURES,
    )
    .unwrap();
    let ranker = Ranker::new(Arc::new(model), RerankConfig::default()).unwrap();
    let ranking = Arc::new(RankingService::new(
        ranker,
        nova_ranking::store::store(&db),
        SystemClock::shared(),
    ));
    let pubsub: Arc<dyn PubSub> = Arc::new(InProcessPubSub::default());
    let feed = Arc::new(
        FeedService::new(
            store,
            content.clone(),
            graph,
            pubsub,
            SystemClock::shared(),
            cursors,
        )
        .with_ranking(ranking)
        .with_config(config),
    );
    let events: Arc<dyn EventHandler> = Arc::new(Idempotent::new(
        "feed",
        outbox::store(&db),
        Arc::new(FeedEvents::new(feed.clone())),
    ));
    World {
        db,
        content,
        social,
        feed,
        events,
    }
}

pub fn memory_world(db: Db) -> World {
    world(
        db,
        Arc::new(MemoryTimelineStore::default()),
        FeedConfig::default(),
    )
}

impl World {
    pub async fn user(&self, name: &str) -> Principal {
        nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
    }

    pub async fn post(&self, author: &Principal, text: &str) -> PostId {
        self.content
            .create_post(
                author,
                NewPost {
                    text: text.into(),
                    quotes_allowed: true,
                    ..NewPost::default()
                },
            )
            .await
            .unwrap()
            .id
    }

    /// Hands every unpublished outbox event to the feed's consumer (twice: duplicates
    /// must be harmless), then marks them published.
    pub async fn deliver(&self) -> usize {
        let store = outbox::store(&self.db);
        let events = store.fetch_unpublished(1000).await.unwrap();
        for e in &events {
            self.events.handle(e).await.unwrap();
            self.events.handle(e).await.unwrap();
        }
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        store
            .mark_published(&ids, chrono::Utc::now())
            .await
            .unwrap();
        events.len()
    }
}
