//! The SQL text of [`SqlGraphStore`](super::SqlGraphStore), shared by PostgreSQL and
//! SQLite.

use super::EdgeList;

/// Takes both users' count rows (creating them), lowest id first.
pub(super) const LOCK_PAIR: &str = "INSERT INTO follow_counts (user_id, followers, following) \
     VALUES ($1, 0, 0), ($2, 0, 0) \
     ON CONFLICT (user_id) DO UPDATE SET followers = follow_counts.followers";

/// Applies count deltas to two users: `$1` gets (`$2` followers, `$3` following), `$4`
/// gets (`$5`, `$6`).
pub(super) const ADD_COUNTS: &str = "UPDATE follow_counts SET \
     followers = followers + CASE WHEN user_id = $1 THEN $2 ELSE $5 END, \
     following = following + CASE WHEN user_id = $1 THEN $3 ELSE $6 END \
     WHERE user_id IN ($1, $4)";

pub(super) const FOLLOW_UNLESS_BLOCKED: &str = "INSERT INTO follows (follower_id, followee_id, created_at) \
     SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM blocks \
       WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)) \
     ON CONFLICT (follower_id, followee_id) DO NOTHING";

pub(super) const IS_BLOCKED: &str = "SELECT COUNT(*) FROM blocks \
     WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1)";

/// Friends of friends: candidates followed by users `$1` follows, ranked by how many.
pub(super) const SUGGESTIONS: &str = "SELECT f2.followee_id, COUNT(*) AS mutuals \
     FROM follows f1 JOIN follows f2 ON f2.follower_id = f1.followee_id \
     WHERE f1.follower_id = $1 AND f2.followee_id <> $1 \
       AND NOT EXISTS (SELECT 1 FROM follows x \
                       WHERE x.follower_id = $1 AND x.followee_id = f2.followee_id) \
       AND NOT EXISTS (SELECT 1 FROM blocks b \
                       WHERE b.blocker_id = $1 AND b.blocked_id = f2.followee_id) \
       AND NOT EXISTS (SELECT 1 FROM blocks b \
                       WHERE b.blocker_id = f2.followee_id AND b.blocked_id = $1) \
       AND NOT EXISTS (SELECT 1 FROM mutes m \
                       WHERE m.muter_id = $1 AND m.muted_id = f2.followee_id \
                         AND (m.until IS NULL OR m.until > $2)) \
     GROUP BY f2.followee_id ORDER BY mutuals DESC, f2.followee_id LIMIT $3";

pub(super) const BLOCKED_EITHER_WAY: &str = "SELECT blocked_id FROM blocks WHERE blocker_id = $1 \
     UNION SELECT blocker_id FROM blocks WHERE blocked_id = $1";

pub(super) const COUNT_AUDIT: &str = "SELECT u.user_id, \
       COALESCE(c.followers, 0), COALESCE(c.following, 0), \
       (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.user_id), \
       (SELECT COUNT(*) FROM follows f WHERE f.follower_id = u.user_id) \
     FROM (SELECT user_id FROM follow_counts UNION SELECT follower_id FROM follows \
           UNION SELECT followee_id FROM follows) u \
     LEFT JOIN follow_counts c ON c.user_id = u.user_id";

/// `($first, $first+1, ...), (...)` for `rows` rows of `width` placeholders.
pub(super) fn values_list(rows: usize, width: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(first + r * width + c).to_string());
        }
        sql.push(')');
    }
    sql
}

pub(super) fn list_sql(list: EdgeList, with_cursor: bool) -> String {
    let (select, from, filter, order) = match list {
        EdgeList::Followers => (
            "f.follower_id, f.created_at",
            "follows f",
            "f.followee_id = $1",
            "f.follower_id",
        ),
        EdgeList::Following => (
            "f.followee_id, f.created_at",
            "follows f",
            "f.follower_id = $1",
            "f.followee_id",
        ),
        EdgeList::Mutual => (
            "f.followee_id, f.created_at",
            "follows f JOIN follows r \
             ON r.follower_id = f.followee_id AND r.followee_id = f.follower_id",
            "f.follower_id = $1",
            "f.followee_id",
        ),
    };
    let cursor = if with_cursor {
        format!(" AND (f.created_at, {order}) < ($3, $4)")
    } else {
        String::new()
    };
    format!(
        "SELECT {select} FROM {from} WHERE {filter}{cursor} \
         ORDER BY f.created_at DESC, {order} DESC LIMIT $2"
    )
}
