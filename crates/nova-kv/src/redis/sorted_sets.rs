//! [`SortedSets`] on Redis sorted sets.

use std::ops::Bound;

use async_trait::async_trait;
use nova_core::Result;
use redis::cmd;

use super::{RedisStore, SORTED_SET, backend};
use crate::sorted_sets::{ScoreRange, ScoredMember, SortedSets, check_score};

/// A score bound in Redis range syntax: `1.5`, `(1.5` (exclusive), `-inf` / `+inf`.
fn bound_arg(bound: Bound<f64>, unbounded: &str) -> Result<String> {
    Ok(match bound {
        Bound::Included(s) => {
            check_score(s)?;
            score_arg(s)
        }
        Bound::Excluded(s) => {
            check_score(s)?;
            format!("({}", score_arg(s))
        }
        Bound::Unbounded => unbounded.to_owned(),
    })
}

/// A finite score exactly as Rust prints it (round-trips); infinities as Redis spells them.
fn score_arg(score: f64) -> String {
    if score == f64::INFINITY {
        "+inf".to_owned()
    } else if score == f64::NEG_INFINITY {
        "-inf".to_owned()
    } else {
        format!("{score}")
    }
}

fn scored(pairs: Vec<(String, f64)>) -> Vec<ScoredMember> {
    pairs
        .into_iter()
        .map(|(member, score)| ScoredMember { member, score })
        .collect()
}

/// `ZADD key score member [score member ...]`.
fn zadd_cmd<'a>(key: String, members: impl Iterator<Item = (&'a str, f64)>) -> redis::Cmd {
    let mut zadd = cmd("ZADD");
    zadd.arg(key);
    for (member, score) in members {
        zadd.arg(score_arg(score)).arg(member);
    }
    zadd
}

#[async_trait]
impl SortedSets for RedisStore {
    async fn zadd(&self, key: &str, members: &[(&str, f64)]) -> Result<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        for (_, score) in members {
            check_score(*score)?;
        }
        zadd_cmd(self.key(SORTED_SET, key), members.iter().copied())
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn zadd_many(&self, entries: &[(&str, &str, f64)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        for (_, _, score) in entries {
            check_score(*score)?;
        }
        // One ZADD per key (in order of first appearance), all in one pipeline.
        let mut keys: Vec<&str> = Vec::new();
        let mut groups: std::collections::HashMap<&str, Vec<(&str, f64)>> =
            std::collections::HashMap::new();
        for &(key, member, score) in entries {
            let group = groups.entry(key).or_insert_with(|| {
                keys.push(key);
                Vec::new()
            });
            group.push((member, score));
        }
        let mut pipe = redis::pipe();
        for key in keys {
            let members = groups.remove(key).unwrap_or_default();
            pipe.add_command(zadd_cmd(self.key(SORTED_SET, key), members.into_iter()))
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn zincrby(&self, key: &str, member: &str, delta: f64) -> Result<f64> {
        check_score(delta)?;
        cmd("ZINCRBY")
            .arg(self.key(SORTED_SET, key))
            .arg(score_arg(delta))
            .arg(member)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn zrem(&self, key: &str, members: &[&str]) -> Result<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        cmd("ZREM")
            .arg(self.key(SORTED_SET, key))
            .arg(members)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn score(&self, key: &str, member: &str) -> Result<Option<f64>> {
        cmd("ZSCORE")
            .arg(self.key(SORTED_SET, key))
            .arg(member)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn top(&self, key: &str, n: usize) -> Result<Vec<ScoredMember>> {
        // ZREVRANGE 0 -1 would mean "everything".
        let Some(last) = n.checked_sub(1) else {
            return Ok(Vec::new());
        };
        let pairs: Vec<(String, f64)> = cmd("ZREVRANGE")
            .arg(self.key(SORTED_SET, key))
            .arg(0)
            .arg(last)
            .arg("WITHSCORES")
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(scored(pairs))
    }

    async fn range_by_score(
        &self,
        key: &str,
        range: ScoreRange,
        limit: usize,
    ) -> Result<Vec<ScoredMember>> {
        let max = bound_arg(range.max, "+inf")?;
        let min = bound_arg(range.min, "-inf")?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pairs: Vec<(String, f64)> = cmd("ZREVRANGEBYSCORE")
            .arg(self.key(SORTED_SET, key))
            .arg(max)
            .arg(min)
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(scored(pairs))
    }

    async fn zcard(&self, key: &str) -> Result<u64> {
        cmd("ZCARD")
            .arg(self.key(SORTED_SET, key))
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn trim_to_top(&self, key: &str, keep: usize) -> Result<u64> {
        // Ranks count from the lowest score; -1 is the highest. Keep the top `keep`.
        let stop = -i64::try_from(keep).unwrap_or(i64::MAX - 1) - 1;
        cmd("ZREMRANGEBYRANK")
            .arg(self.key(SORTED_SET, key))
            .arg(0)
            .arg(stop)
            .query_async(&mut self.conn())
            .await
            .map_err(backend)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let n: u64 = cmd("DEL")
            .arg(self.key(SORTED_SET, key))
            .query_async(&mut self.conn())
            .await
            .map_err(backend)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_use_redis_syntax() {
        assert_eq!(bound_arg(Bound::Unbounded, "+inf").unwrap(), "+inf");
        assert_eq!(bound_arg(Bound::Excluded(1.5), "+inf").unwrap(), "(1.5");
        assert_eq!(
            bound_arg(Bound::Included(f64::NEG_INFINITY), "").unwrap(),
            "-inf"
        );
        assert!(bound_arg(Bound::Included(f64::NAN), "").is_err());
        assert_eq!(score_arg(0.1), "0.1");
    }
}
