//! [`SocialStore`] over [`Db`], one set of queries for both engines.

use async_trait::async_trait;
use nova_core::{Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, on_db};
use nova_events::{AppendEvents, EventEnvelope};
use sqlx::QueryBuilder;

use super::SocialStore;
use crate::model::{BlockList, BlockListId, FollowRequest};

/// The social store.
#[derive(Debug, Clone)]
pub struct SqlSocialStore {
    db: Db,
}

impl SqlSocialStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// Runs one write statement and, if it changed a row, appends `events` in the same
/// transaction. `$sql` binds are given as a closure over the query.
macro_rules! changed_with_events {
    ($db:expr, $events:expr, $query:expr) => {{
        let changed = on_db!($db, tx, |tx| {
            let n = $query.execute(&mut *tx).await.db()?.rows_affected();
            if n > 0 {
                tx.append_events($events).await?;
            }
            n > 0
        });
        Ok(changed)
    }};
}

#[async_trait]
impl SocialStore for SqlSocialStore {
    async fn add_request(
        &self,
        requester: UserId,
        target: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(&self.db, events, sqlx::query(
            "INSERT INTO follow_requests (requester_id, target_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(requester)
        .bind(target)
        .bind(now))
    }

    async fn remove_request(
        &self,
        requester: UserId,
        target: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(
            &self.db,
            events,
            sqlx::query("DELETE FROM follow_requests WHERE requester_id = $1 AND target_id = $2")
                .bind(requester)
                .bind(target)
        )
    }

    async fn pending_for(&self, target: UserId) -> Result<Vec<FollowRequest>> {
        on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT requester_id, target_id, created_at FROM follow_requests WHERE target_id = $1 \
             ORDER BY created_at, requester_id LIMIT 1000"
        )
        .bind(target)
        .fetch_all(c)
        .await
        .db())
    }

    async fn remove_requests_between(&self, a: UserId, b: UserId) -> Result<u64> {
        on_db!(&self.db, write, |c| sqlx::query(
            "DELETE FROM follow_requests WHERE (requester_id = $1 AND target_id = $2) \
             OR (requester_id = $2 AND target_id = $1)"
        )
        .bind(a)
        .bind(b)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected()))
    }

    async fn create_list(&self, list: &BlockList, events: &[EventEnvelope]) -> Result<()> {
        changed_with_events!(&self.db, events, sqlx::query(
            "INSERT INTO block_lists (id, owner_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(list.id)
        .bind(list.owner_id)
        .bind(&list.name)
        .bind(&list.description)
        .bind(list.created_at))
        .map(|_: bool| ())
    }

    async fn list(&self, id: BlockListId) -> Result<Option<BlockList>> {
        on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT id, owner_id, name, description, created_at FROM block_lists WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(c)
        .await
        .db())
    }

    async fn add_entry(
        &self,
        list: BlockListId,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(&self.db, events, sqlx::query(
            "INSERT INTO block_list_entries (list_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(list)
        .bind(user)
        .bind(now))
    }

    async fn remove_entry(
        &self,
        list: BlockListId,
        user: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(
            &self.db,
            events,
            sqlx::query("DELETE FROM block_list_entries WHERE list_id = $1 AND user_id = $2")
                .bind(list)
                .bind(user)
        )
    }

    async fn subscribe(
        &self,
        list: BlockListId,
        user: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(&self.db, events, sqlx::query(
            "INSERT INTO block_list_subscriptions (list_id, subscriber_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(list)
        .bind(user)
        .bind(now))
    }

    async fn unsubscribe(
        &self,
        list: BlockListId,
        user: UserId,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        changed_with_events!(
            &self.db,
            events,
            sqlx::query(
                "DELETE FROM block_list_subscriptions WHERE list_id = $1 AND subscriber_id = $2"
            )
            .bind(list)
            .bind(user)
        )
    }

    async fn list_blocked(&self, viewer: UserId, targets: &[UserId]) -> Result<Vec<UserId>> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.db, read, |c| {
            // Either side subscribes to a list that contains the other.
            let mut q = QueryBuilder::new("SELECT DISTINCT CASE WHEN s.subscriber_id = ");
            q.push_bind(viewer);
            q.push(
                " THEN e.user_id ELSE s.subscriber_id END \
                 FROM block_list_subscriptions s JOIN block_list_entries e ON e.list_id = s.list_id \
                 WHERE (s.subscriber_id = ",
            );
            q.push_bind(viewer);
            q.push(" AND e.user_id IN (");
            let mut list = q.separated(", ");
            for t in targets {
                list.push_bind(*t);
            }
            list.push_unseparated(")) OR (e.user_id = ");
            q.push_bind(viewer);
            q.push(" AND s.subscriber_id IN (");
            let mut list = q.separated(", ");
            for t in targets {
                list.push_bind(*t);
            }
            list.push_unseparated("))");
            q.build_query_scalar().fetch_all(c).await.db()
        })
    }
}
