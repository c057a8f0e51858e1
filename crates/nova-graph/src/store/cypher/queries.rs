//! The Cypher text of [`CypherGraphStore`](super::CypherGraphStore): one set for every
//! transport (FalkorDB, Neo4j). Users are `(:User {id, followers, following})` nodes;
//! edges are `FOLLOWS {at}`, `BLOCKS {at}` and `MUTES {at, until, reposts_only}`, with
//! times in microseconds since the epoch.
//!
//! Each write is one query, so it is atomic; FalkorDB runs a graph's writes one at a time,
//! which makes "check, then create and count" race-free there.

use crate::store::EdgeList;

/// A query and the names of its result columns, in `RETURN` order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cypher {
    pub(super) text: &'static str,
    pub(super) columns: &'static [&'static str],
}

impl Cypher {
    const fn new(columns: &'static [&'static str], text: &'static str) -> Self {
        Self { text, columns }
    }
}

/// Columns of [`list`] queries.
pub(super) const LIST_COLUMNS: &[&str] = &["id", "at"];

/// Creates both users if needed (counts start at 0), then writes to both nodes in id
/// order. On engines with concurrent transactions (Neo4j) that write takes the nodes'
/// locks in one global order, so writes touching a user serialise without deadlocks and
/// the checks below read committed state.
macro_rules! merge_pair {
    () => {
        "MERGE (a:User {id: $a}) ON CREATE SET a.followers = 0, a.following = 0 \
         MERGE (b:User {id: $b}) ON CREATE SET b.followers = 0, b.following = 0 \
         WITH a, b \
         FOREACH (n IN CASE WHEN a.id < b.id THEN [a, b] ELSE [b, a] END | SET n.written_at = $at) \
         WITH a, b "
    };
}

/// `$a` follows `$b` unless a block exists either way; returns `(blocks, existing)`.
pub(super) const FOLLOW: Cypher = Cypher::new(
    &["blocks", "existing"],
    concat!(
        merge_pair!(),
        "OPTIONAL MATCH (a)-[k:BLOCKS]-(b) \
     WITH a, b, count(k) AS blocks \
     OPTIONAL MATCH (a)-[f:FOLLOWS]->(b) \
     WITH a, b, blocks, count(f) AS existing \
     FOREACH (x IN CASE WHEN blocks = 0 AND existing = 0 THEN [1] ELSE [] END | \
       CREATE (a)-[:FOLLOWS {at: $at}]->(b) \
       SET a.following = a.following + 1, b.followers = b.followers + 1) \
     RETURN blocks, existing"
    ),
);

/// Second half of a follow: removes `$a -> $b` again if a block exists either way by
/// now. FalkorDB does not isolate a query's reads from a concurrent write, so a follow
/// and a block can each miss the other; the follow re-checks after its write and the
/// block deletes follows after its write, so in every interleaving no follow survives a
/// block. Returns how many edges went (0 or 1).
pub(super) const FOLLOW_RECHECK: Cypher = Cypher::new(
    &["removed"],
    "MATCH (a:User {id: $a})-[f:FOLLOWS]->(b:User {id: $b}) \
     MATCH (a)-[:BLOCKS]-(b) \
     WITH DISTINCT a, b, f \
     DELETE f \
     SET a.following = a.following - 1, b.followers = b.followers - 1 \
     RETURN count(*) AS removed",
);

/// Removes `$a -> $b`; returns how many edges went (0 or 1).
pub(super) const UNFOLLOW: Cypher = Cypher::new(
    &["removed"],
    "MATCH (a:User {id: $a})-[f:FOLLOWS]->(b:User {id: $b}) \
     DELETE f \
     SET a.following = a.following - 1, b.followers = b.followers - 1 \
     RETURN count(*) AS removed",
);

/// `$a` blocks `$b` and both follows go; returns `(existing, a_followed_b, b_followed_a)`.
pub(super) const BLOCK: Cypher = Cypher::new(
    &["existing", "outs", "incs"],
    concat!(
        merge_pair!(),
        "OPTIONAL MATCH (a)-[k:BLOCKS]->(b) \
     WITH a, b, count(k) AS existing \
     FOREACH (x IN CASE WHEN existing = 0 THEN [1] ELSE [] END | \
       CREATE (a)-[:BLOCKS {at: $at}]->(b)) \
     WITH a, b, existing \
     OPTIONAL MATCH (a)-[out:FOLLOWS]->(b) \
     WITH a, b, existing, collect(out) AS outs \
     OPTIONAL MATCH (b)-[inc:FOLLOWS]->(a) \
     WITH a, b, existing, outs, collect(inc) AS incs \
     FOREACH (e IN outs | DELETE e) \
     FOREACH (e IN incs | DELETE e) \
     SET a.following = a.following - size(outs), b.followers = b.followers - size(outs), \
         b.following = b.following - size(incs), a.followers = a.followers - size(incs) \
     RETURN existing, size(outs) AS outs, size(incs) AS incs"
    ),
);

/// Removes the block `$a -> $b`; returns how many went.
pub(super) const UNBLOCK: Cypher = Cypher::new(
    &["removed"],
    "MATCH (:User {id: $a})-[k:BLOCKS]->(:User {id: $b}) \
     DELETE k RETURN count(*) AS removed",
);

/// Creates or updates the mute; returns the old `(at, until, reposts_only)` (nulls if new).
pub(super) const MUTE: Cypher = Cypher::new(
    &["old_at", "old_until", "old_reposts"],
    concat!(
        merge_pair!(),
        "MERGE (a)-[m:MUTES]->(b) \
     WITH m, m.at AS old_at, m.until AS old_until, m.reposts_only AS old_reposts \
     SET m.at = $at, m.until = $until, m.reposts_only = $reposts_only \
     RETURN old_at, old_until, old_reposts"
    ),
);

/// Removes the mute; returns how many went.
pub(super) const UNMUTE: Cypher = Cypher::new(
    &["removed"],
    "MATCH (:User {id: $a})-[m:MUTES]->(:User {id: $b}) \
     DELETE m RETURN count(*) AS removed",
);

/// Every pair `($froms[i], $tos[i])` in one query: `(i, following, followed_by, blocking,
/// blocked_by, muting, muting_reposts_only)` as counts.
pub(super) const RELATIONSHIPS: Cypher = Cypher::new(
    &[
        "i",
        "following",
        "followed_by",
        "blocking",
        "blocked_by",
        "muting",
        "reposts_only",
    ],
    "UNWIND range(0, size($froms) - 1) AS i \
     WITH i, $froms[i] AS a, $tos[i] AS b \
     OPTIONAL MATCH (:User {id: a})-[f:FOLLOWS]->(:User {id: b}) \
     WITH i, a, b, count(f) AS following \
     OPTIONAL MATCH (:User {id: b})-[g:FOLLOWS]->(:User {id: a}) \
     WITH i, a, b, following, count(g) AS followed_by \
     OPTIONAL MATCH (:User {id: a})-[k:BLOCKS]->(:User {id: b}) \
     WITH i, a, b, following, followed_by, count(k) AS blocking \
     OPTIONAL MATCH (:User {id: b})-[l:BLOCKS]->(:User {id: a}) \
     WITH i, a, b, following, followed_by, blocking, count(l) AS blocked_by \
     OPTIONAL MATCH (:User {id: a})-[m:MUTES]->(:User {id: b}) \
     WITH i, following, followed_by, blocking, blocked_by, \
          CASE WHEN m IS NOT NULL AND (m.until IS NULL OR m.until > $now) THEN m END AS m \
     RETURN i, following, followed_by, blocking, blocked_by, count(m) AS muting, \
            count(CASE WHEN m.reposts_only THEN 1 END) AS reposts_only",
);

/// Stored counts of `$ids[i]`: `(i, followers, following)`.
pub(super) const COUNTS: Cypher = Cypher::new(
    &["i", "followers", "following"],
    "UNWIND range(0, size($ids) - 1) AS i \
     WITH i, $ids[i] AS id \
     OPTIONAL MATCH (u:User {id: id}) \
     RETURN i, coalesce(u.followers, 0) AS followers, coalesce(u.following, 0) AS following",
);

/// Friends of friends of `$u` with their mutual-connection counts.
pub(super) const SUGGESTIONS: Cypher = Cypher::new(
    &["id", "mutuals"],
    "MATCH (me:User {id: $u})-[:FOLLOWS]->(f:User)-[:FOLLOWS]->(c:User) \
     WHERE c.id <> $u AND NOT (me)-[:FOLLOWS]->(c) AND NOT (me)-[:BLOCKS]->(c) \
       AND NOT (c)-[:BLOCKS]->(me) \
     OPTIONAL MATCH (me)-[m:MUTES]->(c) \
     WITH c, f, m \
     WHERE m IS NULL OR (m.until IS NOT NULL AND m.until <= $now) \
     RETURN c.id AS id, count(DISTINCT f) AS mutuals \
     ORDER BY mutuals DESC, id ASC LIMIT $limit",
);

/// Users `$u` blocks or is blocked by.
pub(super) const BLOCKED_EITHER_WAY: Cypher = Cypher::new(
    &["id"],
    "MATCH (:User {id: $u})-[:BLOCKS]-(o:User) RETURN DISTINCT o.id AS id",
);

/// Every user's stored and counted `(followers, following)`.
pub(super) const COUNT_AUDIT: Cypher = Cypher::new(
    &["id", "sf", "sg", "followers", "following"],
    "MATCH (u:User) \
     OPTIONAL MATCH (x:User)-[:FOLLOWS]->(u) \
     WITH u, count(x) AS followers \
     OPTIONAL MATCH (u)-[:FOLLOWS]->(y:User) \
     RETURN u.id AS id, u.followers AS sf, u.following AS sg, followers, count(y) AS following",
);

/// A page of `list` for `$u`, newest first, after `($at, $id)` when `with_cursor`:
/// `(id, at)` rows.
pub(super) fn list(list: EdgeList, with_cursor: bool) -> String {
    let pattern = match list {
        EdgeList::Followers => "(o:User)-[e:FOLLOWS]->(u:User {id: $u})",
        EdgeList::Following => "(u:User {id: $u})-[e:FOLLOWS]->(o:User)",
        EdgeList::Mutual => "(u:User {id: $u})-[e:FOLLOWS]->(o:User)-[:FOLLOWS]->(u)",
    };
    let cursor = if with_cursor {
        " WHERE e.at < $at OR (e.at = $at AND o.id < $id)"
    } else {
        ""
    };
    format!(
        "MATCH {pattern}{cursor} RETURN o.id AS id, e.at AS at \
         ORDER BY at DESC, id DESC LIMIT $limit"
    )
}
