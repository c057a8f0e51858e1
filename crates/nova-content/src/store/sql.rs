//! [`ContentStore`] over [`Db`], one set of queries for both engines.

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, PostId, Result, Timestamp, UserId};
use nova_db::{Db, DbResultExt, is_unique_violation, on_db};
use nova_events::{AppendEvents, EventEnvelope};
use sqlx::QueryBuilder;

use super::{AuthorScope, ContentStore, PostInsert, PostRow, TimelineKind};
use crate::model::Edit;

const COLUMNS: &str = "id, author_id, text, facets, media, language, visibility, content_warning, \
     reply_to, root_id, depth, quote_of, reply_policy, quotes_allowed, like_count, reply_count, \
     quote_count, created_at, edited_at, deleted_at, idempotency_key, request_hash";

/// The content store.
#[derive(Debug, Clone)]
pub struct SqlContentStore {
    db: Db,
}

impl SqlContentStore {
    /// Over `db` (migrated).
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn idempotency_conflict(err: sqlx::Error) -> Error {
    if is_unique_violation(&err) {
        Error::new(ErrorKind::Conflict, "idempotency_key: already used")
    } else {
        nova_db::map_err(err)
    }
}

/// Posts per multi-row INSERT (20 columns, 17 bound: far under both engines' limits).
const POSTS_PER_INSERT: usize = 100;
/// Rows per multi-row INSERT of two-column pairs (mentions, hashtags).
const PAIRS_PER_INSERT: usize = 1000;

/// How often each id occurs, in first-seen order.
fn counts(ids: impl Iterator<Item = PostId>) -> Vec<(PostId, i64)> {
    let mut out: Vec<(PostId, i64)> = Vec::new();
    for id in ids {
        match out.iter_mut().find(|(p, _)| *p == id) {
            Some((_, n)) => *n += 1,
            None => out.push((id, 1)),
        }
    }
    out
}

/// `IN (...)` over ids.
fn push_ids<'a, DB: sqlx::Database>(q: &mut QueryBuilder<'a, DB>, ids: &'a [PostId])
where
    PostId: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.push(" IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

#[async_trait]
impl ContentStore for SqlContentStore {
    async fn insert_posts(&self, posts: &[PostInsert]) -> Result<()> {
        if posts.is_empty() {
            return Ok(());
        }
        let mentions: Vec<(PostId, UserId)> = posts
            .iter()
            .flat_map(|p| p.mentions.iter().map(|u| (p.row.id, *u)))
            .collect();
        let hashtags: Vec<(PostId, &str)> = posts
            .iter()
            .flat_map(|p| p.hashtags.iter().map(|t| (p.row.id, t.as_str())))
            .collect();
        let replies = counts(posts.iter().filter_map(|p| p.row.reply_to));
        let quotes = counts(posts.iter().filter_map(|p| p.row.quote_of));
        let events: Vec<EventEnvelope> = posts.iter().flat_map(|p| p.events.clone()).collect();
        // Multi-row statements: a batch costs a handful of round trips, not a few per post.
        on_db!(&self.db, tx, |tx| {
            for chunk in posts.chunks(POSTS_PER_INSERT) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO posts (id, author_id, text, facets, media, language, visibility, \
                     content_warning, reply_to, root_id, depth, quote_of, reply_policy, quotes_allowed, \
                     like_count, reply_count, quote_count, created_at, idempotency_key, request_hash) ",
                );
                q.push_values(chunk, |mut b, p| {
                    let r = &p.row;
                    b.push_bind(r.id)
                        .push_bind(r.author_id)
                        .push_bind(&r.text)
                        .push_bind(&r.facets)
                        .push_bind(&r.media)
                        .push_bind(&r.language)
                        .push_bind(&r.visibility)
                        .push_bind(&r.content_warning)
                        .push_bind(r.reply_to)
                        .push_bind(r.root_id)
                        .push_bind(r.depth)
                        .push_bind(r.quote_of)
                        .push_bind(&r.reply_policy)
                        .push_bind(r.quotes_allowed)
                        .push("0, 0, 0")
                        .push_bind(r.created_at)
                        .push_bind(&r.idempotency_key)
                        .push_bind(&r.request_hash);
                });
                q.build()
                    .execute(&mut *tx)
                    .await
                    .map_err(idempotency_conflict)?;
            }
            for chunk in mentions.chunks(PAIRS_PER_INSERT) {
                let mut q = QueryBuilder::new("INSERT INTO post_mentions (post_id, user_id) ");
                q.push_values(chunk, |mut b, (post, user)| {
                    b.push_bind(*post).push_bind(*user);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await.db()?;
            }
            for chunk in hashtags.chunks(PAIRS_PER_INSERT) {
                let mut q = QueryBuilder::new("INSERT INTO post_hashtags (post_id, tag) ");
                q.push_values(chunk, |mut b, (post, tag)| {
                    b.push_bind(*post).push_bind(*tag);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *tx).await.db()?;
            }
            for (parent, n) in &replies {
                sqlx::query("UPDATE posts SET reply_count = reply_count + $2 WHERE id = $1")
                    .bind(*parent)
                    .bind(*n)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            for (quoted, n) in &quotes {
                sqlx::query("UPDATE posts SET quote_count = quote_count + $2 WHERE id = $1")
                    .bind(*quoted)
                    .bind(*n)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            tx.append_events(&events).await?
        });
        Ok(())
    }

    async fn by_idempotency_key(&self, author: UserId, key: &str) -> Result<Option<PostRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM posts WHERE author_id = $1 AND idempotency_key = $2");
        on_db!(&self.db, write, |c| sqlx::query_as(&sql)
            .bind(author)
            .bind(key)
            .fetch_optional(c)
            .await
            .db())
    }

    async fn posts(&self, ids: &[PostId]) -> Result<Vec<PostRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM posts WHERE id"));
            push_ids(&mut q, ids);
            q.build_query_as().fetch_all(c).await.db()
        })
    }

    async fn mentions(&self, ids: &[PostId]) -> Result<Vec<(PostId, UserId)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(&self.db, read, |c| {
            let mut q =
                QueryBuilder::new("SELECT post_id, user_id FROM post_mentions WHERE post_id");
            push_ids(&mut q, ids);
            q.build_query_as().fetch_all(c).await.db()
        })
    }

    async fn viewer_flags(
        &self,
        viewer: UserId,
        ids: &[PostId],
    ) -> Result<(Vec<PostId>, Vec<PostId>)> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let rows: Vec<(PostId, i32)> = on_db!(&self.db, read, |c| {
            let mut q = QueryBuilder::new("SELECT post_id, 1 FROM likes WHERE user_id = ");
            q.push_bind(viewer);
            q.push(" AND post_id");
            push_ids(&mut q, ids);
            q.push(" UNION ALL SELECT post_id, 2 FROM bookmarks WHERE user_id = ");
            q.push_bind(viewer);
            q.push(" AND post_id");
            push_ids(&mut q, ids);
            q.build_query_as().fetch_all(c).await.db()
        })?;
        let pick = |k| {
            rows.iter()
                .filter(|(_, t)| *t == k)
                .map(|(p, _)| *p)
                .collect()
        };
        Ok((pick(1), pick(2)))
    }

    async fn author_posts(
        &self,
        author: UserId,
        kind: TimelineKind,
        scope: AuthorScope,
        viewer: Option<UserId>,
        before: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<PostRow>> {
        let kind_filter = match kind {
            TimelineKind::Posts => "reply_to IS NULL",
            TimelineKind::Replies => "reply_to IS NOT NULL",
            TimelineKind::Media => "media <> '[]'",
        };
        // Visibility in SQL, so a page is full even when some posts are hidden.
        let visibility = if scope.all {
            // Still mentions $4 so both branches bind the same parameters.
            "($4 IS NULL OR $4 IS NOT NULL)".to_owned()
        } else {
            let mut allowed = vec!["visibility = 'public'"];
            if scope.followers {
                allowed.push("visibility = 'followers'");
            }
            allowed.push("(visibility = 'mentioned' AND EXISTS (SELECT 1 FROM post_mentions m WHERE m.post_id = posts.id AND m.user_id = $4))");
            format!("({})", allowed.join(" OR "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM posts WHERE author_id = $1 AND deleted_at IS NULL AND {kind_filter} \
             AND {visibility} AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let viewer = viewer.unwrap_or_default();
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(author)
            .bind(before)
            .bind(i64::from(limit))
            .bind(viewer)
            .fetch_all(c)
            .await
            .db())
    }

    async fn thread(
        &self,
        root: PostId,
        after: Option<PostId>,
        limit: u32,
    ) -> Result<Vec<PostRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM posts WHERE root_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        on_db!(&self.db, read, |c| sqlx::query_as(&sql)
            .bind(root)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
            .db())
    }

    async fn edit(
        &self,
        post: PostId,
        editor: UserId,
        text: &str,
        facets_json: &str,
        hashtags: &[String],
        mentions: &[UserId],
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<()> {
        on_db!(&self.db, tx, |tx| {
            let previous: String =
                sqlx::query_scalar("SELECT text FROM posts WHERE id = $1 AND deleted_at IS NULL")
                    .bind(post)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .ok_or_else(Error::not_found)?;
            sqlx::query("INSERT INTO post_edits (post_id, edited_at, editor_id, previous_text) VALUES ($1, $2, $3, $4)")
                .bind(post)
                .bind(now)
                .bind(editor)
                .bind(&previous)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("UPDATE posts SET text = $2, facets = $3, edited_at = $4 WHERE id = $1")
                .bind(post)
                .bind(text)
                .bind(facets_json)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("DELETE FROM post_hashtags WHERE post_id = $1")
                .bind(post)
                .execute(&mut *tx)
                .await
                .db()?;
            for tag in hashtags {
                sqlx::query("INSERT INTO post_hashtags (post_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(post)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            for user in mentions {
                sqlx::query("INSERT INTO post_mentions (post_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(post)
                    .bind(*user)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            tx.append_events(events).await?
        });
        Ok(())
    }

    async fn edits(&self, post: PostId) -> Result<Vec<Edit>> {
        let rows: Vec<(Timestamp, UserId, String)> = on_db!(&self.db, read, |c| {
            sqlx::query_as(
            "SELECT edited_at, editor_id, previous_text FROM post_edits WHERE post_id = $1 ORDER BY edited_at"
        )
        .bind(post)
        .fetch_all(c)
        .await
        .db()
        })?;
        Ok(rows
            .into_iter()
            .map(|(edited_at, editor_id, previous_text)| Edit {
                edited_at,
                editor_id,
                previous_text,
            })
            .collect())
    }

    async fn delete(&self, post: PostId, now: Timestamp, events: &[EventEnvelope]) -> Result<bool> {
        let deleted = on_db!(&self.db, tx, |tx| {
            // The tombstone keeps its place in the thread; the content is gone.
            let n = sqlx::query(
                "UPDATE posts SET deleted_at = $2, text = '', facets = '[]', media = '[]', content_warning = NULL \
                 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(post)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM post_edits WHERE post_id = $1")
                    .bind(post)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                sqlx::query("DELETE FROM post_hashtags WHERE post_id = $1")
                    .bind(post)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(deleted)
    }

    async fn like(
        &self,
        user: UserId,
        post: PostId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let liked = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query("INSERT INTO likes (user_id, post_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(user)
                .bind(post)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if n == 1 {
                sqlx::query("UPDATE posts SET like_count = like_count + 1 WHERE id = $1")
                    .bind(post)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(liked)
    }

    async fn unlike(&self, user: UserId, post: PostId, events: &[EventEnvelope]) -> Result<bool> {
        let unliked = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query("DELETE FROM likes WHERE user_id = $1 AND post_id = $2")
                .bind(user)
                .bind(post)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if n == 1 {
                sqlx::query("UPDATE posts SET like_count = like_count - 1 WHERE id = $1")
                    .bind(post)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(unliked)
    }

    async fn add_repost(
        &self,
        user: UserId,
        post: PostId,
        author: UserId,
        now: Timestamp,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let created = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query(
                "INSERT INTO reposts (user_id, post_id, author_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(user)
            .bind(post)
            .bind(author)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if n == 1 {
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(created)
    }

    async fn reposts_between(&self, a: UserId, b: UserId) -> Result<Vec<(UserId, PostId, UserId)>> {
        on_db!(&self.db, read, |c| sqlx::query_as(
            "SELECT user_id, post_id, author_id FROM reposts \
             WHERE (user_id = $1 AND author_id = $2) OR (user_id = $2 AND author_id = $1)"
        )
        .bind(a)
        .bind(b)
        .fetch_all(c)
        .await
        .db())
    }

    async fn repost_author(&self, user: UserId, post: PostId) -> Result<Option<UserId>> {
        on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT author_id FROM reposts WHERE user_id = $1 AND post_id = $2"
        )
        .bind(user)
        .bind(post)
        .fetch_optional(c)
        .await
        .db())
    }

    async fn remove_repost(
        &self,
        user: UserId,
        post: PostId,
        events: &[EventEnvelope],
    ) -> Result<bool> {
        let removed = on_db!(&self.db, tx, |tx| {
            let n = sqlx::query("DELETE FROM reposts WHERE user_id = $1 AND post_id = $2")
                .bind(user)
                .bind(post)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            if n == 1 {
                tx.append_events(events).await?;
            }
            n == 1
        });
        Ok(removed)
    }

    async fn bookmark(&self, user: UserId, post: PostId, now: Timestamp) -> Result<bool> {
        on_db!(&self.db, write, |c| {
            sqlx::query("INSERT INTO bookmarks (user_id, post_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(user)
            .bind(post)
            .bind(now)
            .execute(c)
            .await
            .db()
            .map(|r| r.rows_affected() == 1)
        })
    }

    async fn unbookmark(&self, user: UserId, post: PostId) -> Result<bool> {
        on_db!(&self.db, write, |c| sqlx::query(
            "DELETE FROM bookmarks WHERE user_id = $1 AND post_id = $2"
        )
        .bind(user)
        .bind(post)
        .execute(c)
        .await
        .db()
        .map(|r| r.rows_affected() == 1))
    }

    async fn bookmarks(&self, user: UserId, limit: u32) -> Result<Vec<PostId>> {
        on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT post_id FROM bookmarks WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2"
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .db())
    }

    async fn count_like_rows(&self, post: PostId) -> Result<i64> {
        on_db!(&self.db, read, |c| sqlx::query_scalar(
            "SELECT count(*) FROM likes WHERE post_id = $1"
        )
        .bind(post)
        .fetch_one(c)
        .await
        .db())
    }
}
