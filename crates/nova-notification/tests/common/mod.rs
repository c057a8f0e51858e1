//! A small world for notification tests: identity accounts, graph, users, social and
//! content on one database writing their events to the outbox, and the notification
//! service fed from that outbox by hand (every event twice: redelivery must be harmless).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use nova_content::store::SqlContentStore;
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, Principal, SystemClock, UserId};
use nova_db::Db;
use nova_events::{EventEnvelope, EventHandler, outbox};
use nova_graph::{GraphService, SqlGraphStore};
use nova_kv::InProcessPubSub;
use nova_notification::store::SqlNotificationStore;
use nova_notification::{NotificationEvents, NotificationService, Relations, Standing};
use nova_social::store::SqlSocialStore;
use nova_social::{SocialApi, SocialService};
use nova_user::store::SqlUserStore;
use nova_user::{Settings, UserApi, UserService};

/// The port as nova-app implements it: social's one answer per page of authors.
pub struct SocialRelations(pub Arc<dyn SocialApi>);

#[async_trait]
impl Relations for SocialRelations {
    async fn standings(
        &self,
        recipient: UserId,
        actors: &[UserId],
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

pub const KEY: &[u8] = b"notification test key, long enough";

pub struct World {
    pub db: Db,
    pub social: Arc<SocialService>,
    pub users: Arc<UserService>,
    pub content: Arc<ContentService>,
    pub notifications: Arc<NotificationService>,
    pub handler: Arc<dyn EventHandler>,
}

pub fn service(db: &Db, social: Arc<dyn SocialApi>) -> NotificationService {
    NotificationService::new(
        Arc::new(SqlNotificationStore::new(db.clone())),
        Arc::new(SocialRelations(social)),
        CursorCodec::new(KEY),
    )
    .with_pubsub(Arc::new(InProcessPubSub::default()))
}

pub fn world(db: Db) -> World {
    world_with(db, |s| s)
}

pub fn world_with(db: Db, f: impl FnOnce(NotificationService) -> NotificationService) -> World {
    let cursors = CursorCodec::new(KEY);
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
    let content = Arc::new(ContentService::new(
        Arc::new(SqlContentStore::new(db.clone())),
        Arc::new(SocialAudience::new(social.clone(), graph, users.clone())),
        cursors,
    ));
    let notifications = Arc::new(f(service(&db, social.clone())));
    let handler: Arc<dyn EventHandler> = Arc::new(NotificationEvents(notifications.clone()));
    World {
        db,
        social,
        users,
        content,
        notifications,
        handler,
    }
}

impl World {
    pub async fn user(&self, name: &str) -> Principal {
        nova_identity::fixtures::account(&self.db, name)
            .await
            .unwrap()
    }

    pub async fn make_private(&self, p: &Principal) {
        let settings = Settings {
            private_account: true,
            ..Settings::default()
        };
        self.users.update_settings(p, settings).await.unwrap();
    }

    pub async fn post(&self, author: &Principal, text: &str) -> PostId {
        self.create(
            author,
            NewPost {
                text: text.into(),
                quotes_allowed: true,
                ..NewPost::default()
            },
        )
        .await
    }

    pub async fn create(&self, author: &Principal, post: NewPost) -> PostId {
        self.content.create_post(author, post).await.unwrap().id
    }

    /// Hands every unpublished outbox event to the consumer twice, marks them published,
    /// and returns them (to replay later).
    pub async fn deliver(&self) -> Vec<EventEnvelope> {
        let store = outbox::store(&self.db);
        let mut all = Vec::new();
        loop {
            let events = store.fetch_unpublished(1000).await.unwrap();
            if events.is_empty() {
                return all;
            }
            for e in &events {
                self.handler.handle(e).await.unwrap();
                self.handler.handle(e).await.unwrap();
            }
            let ids: Vec<_> = events.iter().map(|e| e.id).collect();
            store
                .mark_published(&ids, chrono::Utc::now())
                .await
                .unwrap();
            all.extend(events);
        }
    }
}
