//! Wiring content for a service process (content-service, and feed-service, which runs
//! content in-process): each neighbour domain — graph, users, social — is a gRPC client
//! when its channel is given (`*_SERVICE_URL` set), else in-process on the shared
//! database. The embedded `nova` wires its domains itself (with its read caches).

use std::sync::Arc;

use nova_core::SystemClock;
use nova_core::channel::ServiceChannel;
use nova_core::cursor::CursorCodec;
use nova_db::Db;
use nova_events::RelayWaker;
use nova_graph::{GraphApi, GraphGrpcClient, GraphService, SqlGraphStore};
use nova_social::grpc::SocialGrpcClient;
use nova_social::store::SqlSocialStore;
use nova_social::{LatePostAccess, SocialApi, SocialService};
use nova_user::grpc::UserGrpcClient;
use nova_user::store::SqlUserStore;
use nova_user::{UserApi, UserService};

use crate::store::SqlContentStore;
use crate::{ContentService, SocialAudience};

/// Channels to the neighbour services; `None` runs that domain in-process.
#[derive(Debug, Default)]
pub struct Remotes {
    /// graph-service.
    pub graph: Option<ServiceChannel>,
    /// user-service.
    pub users: Option<ServiceChannel>,
    /// social-service.
    pub social: Option<ServiceChannel>,
}

/// Content and the graph it was wired with (feed-service needs both).
pub struct Wired {
    /// The content service.
    pub content: Arc<ContentService>,
    /// Its graph: remote or in-process.
    pub graph: Arc<dyn GraphApi>,
}

/// Content over `db`, with its neighbours remote or in-process as `remotes` says; an
/// in-process social asks this content about posts (reposts).
pub fn content(db: &Db, relay: &RelayWaker, cursors: CursorCodec, remotes: Remotes) -> Wired {
    let graph: Arc<dyn GraphApi> = match remotes.graph {
        Some(channel) => Arc::new(GraphGrpcClient::from_channel(channel)),
        None => Arc::new(
            GraphService::new(
                Arc::new(SqlGraphStore::new(db.clone())),
                SystemClock::shared(),
                cursors.clone(),
            )
            .with_relay(relay.clone()),
        ),
    };
    let users: Arc<dyn UserApi> = match remotes.users {
        Some(channel) => Arc::new(UserGrpcClient::from_channel(channel)),
        None => Arc::new(
            UserService::new(Arc::new(SqlUserStore::new(db.clone()))).with_relay(relay.clone()),
        ),
    };
    // In-process social asks content about posts: wired once content exists.
    let posts = Arc::new(LatePostAccess::default());
    let social: Arc<dyn SocialApi> = match remotes.social {
        Some(channel) => Arc::new(SocialGrpcClient::from_channel(channel)),
        None => Arc::new(
            SocialService::new(
                graph.clone(),
                users.clone(),
                posts.clone(),
                Arc::new(SqlSocialStore::new(db.clone())),
            )
            .with_relay(relay.clone()),
        ),
    };
    let content = Arc::new(
        ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            Arc::new(SocialAudience::new(social, graph.clone(), users)),
            cursors,
        )
        .with_relay(relay.clone()),
    );
    posts.set(content.clone());
    Wired { content, graph }
}
