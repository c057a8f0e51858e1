//! The scale-out engine: one OpenSearch 2/3 or Elasticsearch 8 index behind an alias,
//! spoken to over the documented REST API (feature `opensearch`).
//!
//! - **Index**: explicit mappings (`dynamic: strict`) and one custom analyzer,
//!   `nova_text` = standard tokenizer → `cjk_width` → `lowercase` → `cjk_bigram` → English
//!   `stemmer`: the same idea as the embedded analyzer (words stemmed as English, CJK runs
//!   as bigrams so Chinese and Japanese need no dictionary). Posts and accounts share the
//!   index (a `kind` keyword), like the Tantivy index; the source document rides along
//!   unindexed (`enabled: false`) and is what hits are read back from.
//! - **Writes**: every [`Change`] batch is one `_bulk` request (`index`/`delete` by
//!   `kind:id`), except "all posts of an author", a `_delete_by_query`; both with
//!   `refresh=true`, so a batch is searchable when [`SearchEngine::apply`] returns.
//! - **Reindex without downtime** ([`OpenSearchEngine::rebuild`]): a new index
//!   `<alias>-<unix-µs>` is created and named by a second alias, `<alias>.rebuilding`,
//!   while the alias keeps serving the old one; every engine (in any process) writes to
//!   both meanwhile, since [`SearchEngine::apply`] looks the second alias up; then one
//!   `_aliases` request moves the alias and drops the second one atomically, and the old
//!   indices are deleted.
//! - **Queries**: every word is a `match` with `fuzziness` (the same edit distances as
//!   the embedded engine: 1 from 4 characters, 2 from 8, transpositions as one edit) next
//!   to an exact `match` that scores higher; CJK words and `"phrases"` are `match_phrase`;
//!   operators and the viewer filter are `filter` clauses (the same rules as the Tantivy
//!   engine); BM25 × recency × engagement is a `function_score` script with the same
//!   formula as [`boosted`](super::tantivy::boosted). Highlights use the `html` encoder
//!   with `<b>` tags.
//! - **Paging**: ranks inside the first [`DEFAULT_WINDOW`] hits are read with
//!   `from`/`size`; deeper ranks are walked with `search_after` on `(_score, key)`, so no
//!   request ever asks past the index's `max_result_window`.
//!
//! **Why plain HTTP (reqwest) and not a client crate.** Tried: the `elasticsearch` crate
//! 9.1.0-alpha.1 against osmem-server (info, index creation, search) works — it sends
//! `application/json` and osmem answers with `X-Elastic-Product: Elasticsearch`, so no
//! product check refuses it. It was still not chosen: every release of that crate is an
//! alpha; it targets Elasticsearch, whose newer clients send the versioned media type
//! `application/vnd.elasticsearch+json; compatible-with=9`, which OpenSearch (and
//! osmem-server: checked with curl) answers with 406; and the `opensearch` crate is the
//! mirror image for OpenSearch. The endpoints used here (`PUT index`, `_bulk`, `_search`,
//! `_count`, `_delete_by_query`, `_aliases`, `_alias`, `GET _doc`, `DELETE index`) are the
//! REST subset both products document and share, so one small client over the
//! workspace's reqwest serves both without a second heavy generated API crate.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nova_core::{Error, ErrorKind, PostId, Result, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::tantivy::typo_distance;
use super::{Change, PostQuery, SearchEngine, ViewerFilter};
use crate::model::{HashtagHit, PostDoc, PostHit, PostVisibility, UserDoc, UserHit};
use crate::tokenizer::is_cjk;

/// Ranks read with `from`/`size`; deeper ones with `search_after` (the servers' default
/// `index.max_result_window` is 10,000).
pub const DEFAULT_WINDOW: usize = 10_000;
/// Hits per `search_after` round when walking to a deep rank.
const WALK_CHUNK: usize = 1_000;
/// Distinct hashtags one prefix looks at, at most.
const MAX_TAG_CANDIDATES: usize = 500;
/// Characters of a highlight.
const HIGHLIGHT_CHARS: usize = 200;

const KIND_POST: &str = "post";
const KIND_USER: &str = "user";

/// Where and how to reach the server.
#[derive(Debug, Clone)]
pub struct OpenSearchConfig {
    /// Base URL, e.g. `http://127.0.0.1:9200`.
    pub url: String,
    /// Basic-auth user and password, if the cluster asks for them.
    pub credentials: Option<(String, String)>,
    /// The alias searches and writes go through (its indices are `<alias>-<unix-ms>`).
    pub alias: String,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    credentials: Option<(String, String)>,
    alias: String,
    window: usize,
}

/// The OpenSearch/Elasticsearch engine.
#[derive(Clone)]
pub struct OpenSearchEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OpenSearchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSearchEngine")
            .field("url", &self.inner.base)
            .field("alias", &self.inner.alias)
            .finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search engine: {e}"))
}

/// The index settings and mappings (explicit; nothing is mapped dynamically).
pub fn index_body() -> Value {
    let text = json!({"type": "text", "analyzer": "nova_text"});
    let keyword = json!({"type": "keyword"});
    json!({
        "settings": {
            "analysis": {
                "analyzer": {
                    "nova_text": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["cjk_width", "lowercase", "cjk_bigram", "nova_english"]
                    }
                },
                "filter": {
                    "nova_english": {"type": "stemmer", "language": "english"}
                }
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "key": keyword,
                "kind": keyword,
                "post": {"type": "object", "enabled": false},
                "user": {"type": "object", "enabled": false},
                "text": text,
                "tags": keyword,
                "mentions": keyword,
                "mention_ids": keyword,
                "author": keyword,
                "lang": keyword,
                "visibility": keyword,
                "open": {"type": "boolean"},
                "media": {"type": "boolean"},
                "created": {"type": "date", "format": "epoch_second"},
                "engagement": {"type": "long"},
                "username": keyword,
                "names": text,
                "bio": text,
                "discoverable": {"type": "boolean"}
            }
        }
    })
}

fn post_key(id: PostId) -> String {
    format!("{KIND_POST}:{id}")
}

fn user_key(id: UserId) -> String {
    format!("{KIND_USER}:{id}")
}

fn post_source(p: &PostDoc) -> Value {
    let engagement = p.like_count.max(0) + p.repost_count.max(0);
    json!({
        "key": post_key(p.id),
        "kind": KIND_POST,
        "post": p,
        "text": p.text,
        "tags": p.hashtags.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>(),
        "mentions": p.mentions.iter().map(|m| m.to_lowercase()).collect::<Vec<_>>(),
        "mention_ids": p.mention_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "author": p.author_id.to_string(),
        "lang": p.language.as_ref().map(|l| l.to_lowercase()),
        "visibility": p.visibility.as_str(),
        "open": p.visibility == PostVisibility::Public && !p.author_private,
        "media": p.has_media,
        "created": p.created_at.timestamp(),
        "engagement": engagement,
    })
}

fn user_source(u: &UserDoc) -> Value {
    json!({
        "key": user_key(u.id),
        "kind": KIND_USER,
        "user": u,
        "username": u.username.to_lowercase(),
        "names": format!("{} {}", u.username, u.display_name),
        "bio": u.bio,
        "discoverable": u.discoverable,
    })
}

/// The `_bulk` body of `changes` (none of them [`Change::DeleteAuthorPosts`]) against
/// `index`: one action line (and a source line for upserts) per change.
fn bulk_body(index: &str, changes: &[&Change]) -> Result<String> {
    let mut out = String::new();
    let mut line = |v: Value| {
        out.push_str(&v.to_string());
        out.push('\n');
    };
    for change in changes {
        match change {
            Change::UpsertPost(p) => {
                line(json!({"index": {"_index": index, "_id": post_key(p.id)}}));
                line(post_source(p));
            }
            Change::UpsertUser(u) => {
                line(json!({"index": {"_index": index, "_id": user_key(u.id)}}));
                line(user_source(u));
            }
            Change::DeletePost(id) => {
                line(json!({"delete": {"_index": index, "_id": post_key(*id)}}));
            }
            Change::DeleteUser(id) => {
                line(json!({"delete": {"_index": index, "_id": user_key(*id)}}));
            }
            Change::DeleteAuthorPosts(_) => {
                return Err(internal("an author's posts go through _delete_by_query"));
            }
        }
    }
    Ok(out)
}

fn term(field: &str, value: impl Into<Value>) -> Value {
    json!({"term": {field: value.into()}})
}

/// One free word: exact (BM25) or within the typo distance, or an ordered phrase for
/// CJK runs.
fn word_clause(field: &str, word: &str, fuzzy: bool) -> Value {
    if word.chars().any(is_cjk) {
        return json!({"match_phrase": {field: word}});
    }
    let distance = typo_distance(&word.to_lowercase());
    if !fuzzy || distance == 0 {
        return json!({"match": {field: {"query": word, "operator": "and"}}});
    }
    json!({"bool": {"should": [
        {"match": {field: {"query": word, "operator": "and"}}},
        {"match": {field: {
            "query": word,
            "operator": "and",
            "fuzziness": distance,
            "prefix_length": 0,
            "max_expansions": 50,
            "fuzzy_transpositions": true,
            "boost": 0.5
        }}}
    ], "minimum_should_match": 1}})
}

/// The viewer filter, the same rules as the embedded engine's.
fn viewer_clause(viewer: ViewerFilter) -> Value {
    match viewer {
        ViewerFilter::Anonymous => term("open", true),
        ViewerFilter::User(viewer) => {
            let id = viewer.to_string();
            json!({"bool": {"should": [
                term("visibility", PostVisibility::Public.as_str()),
                term("visibility", PostVisibility::Followers.as_str()),
                {"bool": {"filter": [
                    term("visibility", PostVisibility::Mentioned.as_str()),
                    term("mention_ids", id.clone())
                ]}},
                term("author", id)
            ], "minimum_should_match": 1}})
        }
    }
}

/// The post query, `None` when nothing can match (`from:` names nobody).
fn post_query(q: &PostQuery) -> Option<Value> {
    let mut must = Vec::new();
    let mut filter = vec![term("kind", KIND_POST)];
    for word in &q.parsed.words {
        must.push(word_clause("text", word, true));
    }
    for phrase in &q.parsed.phrases {
        must.push(json!({"match_phrase": {"text": phrase}}));
    }
    if !q.parsed.from.is_empty() {
        if q.authors.is_empty() {
            return None;
        }
        let ids: Vec<String> = q.authors.iter().map(ToString::to_string).collect();
        filter.push(json!({"terms": {"author": ids}}));
    }
    for tag in &q.parsed.hashtags {
        filter.push(term("tags", tag.as_str()));
    }
    for m in &q.parsed.mentions {
        filter.push(term("mentions", m.as_str()));
    }
    if let Some(lang) = &q.parsed.lang {
        filter.push(term("lang", lang.as_str()));
    }
    if q.parsed.has_media {
        filter.push(term("media", true));
    }
    if q.parsed.before.is_some() || q.parsed.after.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(after) = q.parsed.after {
            range.insert("gte".into(), json!(after.timestamp()));
        }
        if let Some(before) = q.parsed.before {
            range.insert("lt".into(), json!(before.timestamp()));
        }
        filter.push(json!({"range": {"created": range}}));
    }
    filter.push(viewer_clause(q.viewer));
    let matched = if must.is_empty() {
        // Only operators: every match scores alike, ranked by the boosts.
        json!({"bool": {"must": [{"match_all": {}}], "filter": filter}})
    } else {
        json!({"bool": {"must": must, "filter": filter}})
    };
    Some(json!({"function_score": {
        "query": matched,
        "functions": [{"script_score": {"script": {
            "lang": "painless",
            // The embedded engine's boosted(): recency keeps 2/3 at a week, at least
            // 1/3 for old posts; engagement 1 + 0.3·ln(1 + likes + reposts).
            "source": "double age = Math.max(0.0, params.now - doc['created'].value.toEpochSecond()) / 86400.0; \
                       double recency = 1.0 / 3.0 + (2.0 / 3.0) / (1.0 + age / 7.0); \
                       double engaged = 1.0 + 0.3 * Math.log(1.0 + doc['engagement'].value); \
                       return recency * engaged;",
            "params": {"now": q.now.timestamp()}
        }}}],
        "boost_mode": "multiply"
    }}))
}

fn users_query(text: &str) -> Option<Value> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let mut must = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        let raw = word.trim_start_matches('@').to_lowercase();
        let mut any = Vec::new();
        if !raw.is_empty() {
            any.push(json!({"term": {"username": {"value": raw, "boost": 4.0}}}));
            if last {
                any.push(json!({"prefix": {"username": {"value": raw, "boost": 2.0}}}));
            }
            for field in ["names", "bio"] {
                any.push(word_clause(field, &raw, true));
            }
            if last && !raw.chars().any(is_cjk) {
                // The last word as a prefix of a name word (autocomplete).
                any.push(json!({"match_bool_prefix": {"names": raw}}));
            }
        }
        if !any.is_empty() {
            must.push(json!({"bool": {"should": any, "minimum_should_match": 1}}));
        }
    }
    if must.is_empty() {
        return None;
    }
    Some(json!({"bool": {
        "must": must,
        "filter": [term("kind", KIND_USER), term("discoverable", true)]
    }}))
}

/// A regular expression matching the literal `prefix` followed by anything (Lucene
/// regexp syntax).
fn prefix_regex(prefix: &str) -> String {
    let mut out = String::new();
    for c in prefix.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out.push_str(".*");
    out
}

/// A server's `sort` value for `_score`, sent back as the float the server holds: a
/// score prints as the shortest decimal of an `f32`, which read back as an `f64` is not
/// the same number.
fn exact_score(v: &Value) -> Value {
    match v.as_f64() {
        Some(f) => json!(f64::from(f as f32)),
        None => v.clone(),
    }
}

impl OpenSearchEngine {
    /// Connects to `config.url` and makes sure the alias exists (creating its first
    /// index with the mappings when it does not).
    pub async fn connect(config: OpenSearchConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(internal)?;
        let engine = Self {
            inner: Arc::new(Inner {
                http,
                base: config.url.trim_end_matches('/').to_owned(),
                credentials: config.credentials,
                alias: config.alias,
                window: DEFAULT_WINDOW,
            }),
        };
        engine.ensure_alias().await?;
        Ok(engine)
    }

    /// The same engine reading ranks past `window` with `search_after` (tests use a
    /// small window to walk deep pages on a small corpus).
    pub fn with_window(self, window: usize) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base: inner.base.clone(),
                credentials: inner.credentials.clone(),
                alias: inner.alias.clone(),
                window: window.max(1),
            }),
        }
    }

    /// Deletes every index behind the alias (tests; the alias goes with them).
    pub async fn delete_indices(&self) -> Result<()> {
        let mut indices = self.alias_indices().await?;
        indices.extend(self.indices_of(&self.rebuilding_alias()).await?);
        for index in indices {
            let (status, value) = self
                .call_raw(Method::DELETE, &format!("/{index}"), None)
                .await?;
            if !status.is_success() && status != StatusCode::NOT_FOUND {
                return Err(internal(format!("DELETE {index}: {status} {value}")));
            }
        }
        Ok(())
    }

    /// The alias.
    pub fn alias(&self) -> &str {
        &self.inner.alias
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let (status, value) = self.call_raw(method.clone(), path, body).await?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(internal(format!("{method} {path}: {status} {value}")))
        }
    }

    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut request = self
            .inner
            .http
            .request(method, format!("{}{path}", self.inner.base));
        if let Some((user, password)) = &self.inner.credentials {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(internal)?;
        let status = response.status();
        let text = response.text().await.map_err(internal)?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok((status, value))
    }

    /// The concrete indices the alias points at.
    pub async fn alias_indices(&self) -> Result<Vec<String>> {
        self.indices_of(&self.inner.alias).await
    }

    /// The alias naming the index a running rebuild fills.
    fn rebuilding_alias(&self) -> String {
        format!("{}.rebuilding", self.inner.alias)
    }

    async fn indices_of(&self, alias: &str) -> Result<Vec<String>> {
        let (status, value) = self
            .call_raw(Method::GET, &format!("/_alias/{alias}"), None)
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(internal(format!("GET _alias: {status} {value}")));
        }
        let mut names: Vec<String> = value
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        Ok(names)
    }

    async fn create_index(&self) -> Result<String> {
        let name = format!(
            "{}-{}",
            self.inner.alias,
            chrono::Utc::now().timestamp_micros()
        );
        self.call(Method::PUT, &format!("/{name}"), Some(&index_body()))
            .await?;
        Ok(name)
    }

    async fn ensure_alias(&self) -> Result<()> {
        if !self.alias_indices().await?.is_empty() {
            return Ok(());
        }
        let index = self.create_index().await?;
        self.call(
            Method::POST,
            "/_aliases",
            Some(&json!({"actions": [{"add": {"index": index, "alias": self.inner.alias}}]})),
        )
        .await?;
        Ok(())
    }

    /// Applies `changes` to `index` (the alias or a concrete index).
    async fn apply_to(&self, index: &str, changes: &[Change]) -> Result<()> {
        let mut pending: Vec<&Change> = Vec::new();
        for change in changes {
            if let Change::DeleteAuthorPosts(author) = change {
                self.bulk(index, &pending).await?;
                pending.clear();
                let query = json!({"query": {"bool": {"filter": [
                    term("kind", KIND_POST),
                    term("author", author.to_string())
                ]}}});
                self.call(
                    Method::POST,
                    &format!("/{index}/_delete_by_query?refresh=true&conflicts=proceed"),
                    Some(&query),
                )
                .await?;
            } else {
                pending.push(change);
            }
        }
        self.bulk(index, &pending).await
    }

    async fn bulk(&self, index: &str, changes: &[&Change]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let body = bulk_body(index, changes)?;
        let mut request = self
            .inner
            .http
            .post(format!("{}/_bulk?refresh=true", self.inner.base))
            .header("Content-Type", "application/x-ndjson")
            .body(body);
        if let Some((user, password)) = &self.inner.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await.map_err(internal)?;
        let status = response.status();
        let value: Value = response.json().await.map_err(internal)?;
        if !status.is_success() {
            return Err(internal(format!("_bulk: {status} {value}")));
        }
        if value["errors"].as_bool() == Some(true) {
            // A delete of a missing document is "not_found", not a failure.
            let failed: Vec<&Value> = value["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item.as_object()?.values().next())
                .filter(|r| r.get("error").is_some())
                .collect();
            if !failed.is_empty() {
                return Err(internal(format!(
                    "_bulk: {} failed, first: {}",
                    failed.len(),
                    failed[0]
                )));
            }
        }
        Ok(())
    }

    /// Hits `offset..offset + limit` of `query` sorted by `(_score desc, key asc)`:
    /// `from`/`size` inside the window, `search_after` walks past it.
    async fn ranked(
        &self,
        query: Value,
        highlight: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let limit = limit.max(1);
        let sort = json!([{"_score": "desc"}, {"key": "asc"}]);
        let mut body = json!({"query": query, "sort": sort, "track_total_hits": false});
        if highlight {
            body["highlight"] = json!({
                "encoder": "html",
                "pre_tags": ["<b>"],
                "post_tags": ["</b>"],
                "fields": {"text": {
                    "fragment_size": HIGHLIGHT_CHARS,
                    "number_of_fragments": 1,
                    "no_match_size": HIGHLIGHT_CHARS
                }}
            });
        }
        let path = format!("/{}/_search", self.inner.alias);
        if offset + limit <= self.inner.window {
            body["from"] = json!(offset);
            body["size"] = json!(limit);
            let answer = self.call(Method::POST, &path, Some(&body)).await?;
            return Ok(hits_of(&answer));
        }
        // Walk to `offset` with search_after, then read the page.
        let mut skipped = 0usize;
        let mut after: Option<Value> = None;
        let mut out = Vec::new();
        loop {
            let want = if skipped < offset {
                (offset - skipped).min(WALK_CHUNK)
            } else {
                (limit - out.len()).min(WALK_CHUNK)
            };
            let mut round = body.clone();
            round["size"] = json!(want);
            if let Some(a) = &after {
                round["search_after"] = a.clone();
            }
            if skipped < offset {
                // Skipped hits need only their sort values.
                round["_source"] = json!(false);
                if let Some(obj) = round.as_object_mut() {
                    obj.remove("highlight");
                }
            }
            let answer = self.call(Method::POST, &path, Some(&round)).await?;
            let hits = hits_of(&answer);
            let n = hits.len();
            if let Some(last) = hits.last() {
                let sort = last["sort"].as_array().cloned().unwrap_or_default();
                let mut sort = sort.into_iter();
                after = Some(json!([
                    sort.next().as_ref().map_or(Value::Null, exact_score),
                    sort.next().unwrap_or(Value::Null)
                ]));
            }
            if skipped < offset {
                skipped += n;
            } else {
                out.extend(hits);
                if out.len() >= limit {
                    break;
                }
            }
            if n < want {
                break;
            }
        }
        Ok(out)
    }

    async fn count_kind(&self, kind: &str) -> Result<u64> {
        let answer = self
            .call(
                Method::POST,
                &format!("/{}/_count", self.inner.alias),
                Some(&json!({"query": term("kind", kind)})),
            )
            .await?;
        answer["count"]
            .as_u64()
            .ok_or_else(|| internal(format!("_count answered {answer}")))
    }

    /// Rebuilds the index without downtime: a new index is created and named by the
    /// `<alias>.rebuilding` alias, `fill` writes every document into it (through the
    /// [`Rebuild`] handle) while the alias keeps serving the old one and every
    /// [`SearchEngine::apply`] meanwhile, in this process or another, goes to both; then
    /// one `_aliases` request moves the alias (and drops the second one) and the old
    /// indices are deleted. A failed fill deletes the new index and leaves the alias.
    /// Returns the new index's name.
    pub async fn rebuild<F, Fut>(&self, fill: F) -> Result<String>
    where
        F: FnOnce(Rebuild) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let rebuilding = self.rebuilding_alias();
        if !self.indices_of(&rebuilding).await?.is_empty() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "a search rebuild is already running",
            ));
        }
        let index = self.create_index().await?;
        self.call(
            Method::POST,
            "/_aliases",
            Some(&json!({"actions": [{"add": {"index": index, "alias": rebuilding}}]})),
        )
        .await?;
        let filled = fill(Rebuild {
            engine: self.clone(),
            index: index.clone(),
        })
        .await;
        let old = self.alias_indices().await?;
        let finish = match filled {
            Ok(()) => {
                let mut actions: Vec<Value> = old
                    .iter()
                    .map(|i| json!({"remove": {"index": i, "alias": self.inner.alias}}))
                    .collect();
                actions.push(json!({"remove": {"index": index, "alias": rebuilding}}));
                actions.push(json!({"add": {"index": index, "alias": self.inner.alias}}));
                self.call(
                    Method::POST,
                    "/_aliases",
                    Some(&json!({"actions": actions})),
                )
                .await
                .map(|_| ())
            }
            Err(e) => Err(e),
        };
        let doomed = if finish.is_ok() {
            old
        } else {
            vec![index.clone()]
        };
        for i in doomed {
            let (status, value) = self
                .call_raw(Method::DELETE, &format!("/{i}"), None)
                .await?;
            if !status.is_success() && status != StatusCode::NOT_FOUND {
                tracing::warn!(index = %i, %status, %value, "cannot delete a replaced search index");
            }
        }
        finish.map(|()| index)
    }
}

/// The index a rebuild fills.
#[derive(Debug, Clone)]
pub struct Rebuild {
    engine: OpenSearchEngine,
    index: String,
}

impl Rebuild {
    /// The new index's name.
    pub fn index(&self) -> &str {
        &self.index
    }

    /// Writes `changes` into the new index only.
    pub async fn apply(&self, changes: Vec<Change>) -> Result<()> {
        self.engine.apply_to(&self.index, &changes).await
    }
}

fn hits_of(answer: &Value) -> Vec<Value> {
    answer["hits"]["hits"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn source_of<T: serde::de::DeserializeOwned>(hit: &Value, field: &str) -> Result<T> {
    serde_json::from_value(hit["_source"][field].clone()).map_err(internal)
}

#[async_trait]
impl SearchEngine for OpenSearchEngine {
    async fn apply(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        // A rebuild (here or in another process) gets every write made while it runs.
        let building = self.indices_of(&self.rebuilding_alias()).await?;
        self.apply_to(&self.inner.alias, &changes).await?;
        for index in building {
            self.apply_to(&index, &changes).await?;
        }
        Ok(())
    }

    async fn posts(&self, query: PostQuery, offset: usize, limit: usize) -> Result<Vec<PostHit>> {
        let Some(q) = post_query(&query) else {
            return Ok(Vec::new());
        };
        let hits = self.ranked(q, true, offset, limit).await?;
        hits.iter()
            .map(|hit| {
                let p: PostDoc = source_of(hit, "post")?;
                let highlight = hit["highlight"]["text"][0]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        html_escape(&p.text.chars().take(HIGHLIGHT_CHARS).collect::<String>())
                    });
                Ok(PostHit {
                    id: p.id,
                    author_id: p.author_id,
                    highlight,
                    text: p.text,
                    hashtags: p.hashtags,
                    language: p.language,
                    created_at: p.created_at,
                    like_count: p.like_count,
                    repost_count: p.repost_count,
                    score: hit["_score"].as_f64().unwrap_or(0.0) as f32,
                })
            })
            .collect()
    }

    async fn users(&self, text: &str, offset: usize, limit: usize) -> Result<Vec<UserHit>> {
        let Some(q) = users_query(text) else {
            return Ok(Vec::new());
        };
        let hits = self.ranked(q, false, offset, limit).await?;
        hits.iter()
            .map(|hit| {
                let u: UserDoc = source_of(hit, "user")?;
                Ok(UserHit {
                    id: u.id,
                    username: u.username,
                    display_name: u.display_name,
                    bio: u.bio,
                    score: hit["_score"].as_f64().unwrap_or(0.0) as f32,
                })
            })
            .collect()
    }

    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<HashtagHit>> {
        let prefix = prefix.trim().trim_start_matches('#').to_lowercase();
        let mut filter = vec![term("kind", KIND_POST), term("open", true)];
        if !prefix.is_empty() {
            filter.push(json!({"prefix": {"tags": prefix}}));
        }
        let body = json!({
            "size": 0,
            "query": {"bool": {"filter": filter}},
            "aggs": {"tags": {"terms": {
                "field": "tags",
                "include": prefix_regex(&prefix),
                "size": MAX_TAG_CANDIDATES,
                "order": [{"_count": "desc"}, {"_key": "asc"}]
            }}}
        });
        let answer = self
            .call(
                Method::POST,
                &format!("/{}/_search", self.inner.alias),
                Some(&body),
            )
            .await?;
        let buckets = answer["aggregations"]["tags"]["buckets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut tags: Vec<HashtagHit> = buckets
            .iter()
            .filter_map(|b| {
                Some(HashtagHit {
                    name: b["key"].as_str()?.to_owned(),
                    usage_count: b["doc_count"].as_u64()?,
                })
            })
            .filter(|t| t.usage_count > 0)
            .collect();
        tags.sort_by(|a, b| b.usage_count.cmp(&a.usage_count).then(a.name.cmp(&b.name)));
        Ok(tags.into_iter().skip(offset).take(limit).collect())
    }

    async fn user(&self, id: UserId) -> Result<Option<UserDoc>> {
        let (status, value) = self
            .call_raw(
                Method::GET,
                &format!("/{}/_doc/{}", self.inner.alias, user_key(id)),
                None,
            )
            .await?;
        if status == StatusCode::NOT_FOUND || value["found"].as_bool() == Some(false) {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(internal(format!("GET _doc: {status} {value}")));
        }
        source_of(&value, "user").map(Some)
    }

    async fn user_ids(&self, usernames: &[String]) -> Result<Vec<UserId>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = usernames.iter().map(|n| n.to_lowercase()).collect();
        let body = json!({
            "size": names.len(),
            "query": {"bool": {"filter": [
                term("kind", KIND_USER),
                {"terms": {"username": names}}
            ]}}
        });
        let answer = self
            .call(
                Method::POST,
                &format!("/{}/_search", self.inner.alias),
                Some(&body),
            )
            .await?;
        let mut ids = Vec::new();
        for hit in hits_of(&answer) {
            let u: UserDoc = source_of(&hit, "user")?;
            if !ids.contains(&u.id) {
                ids.push(u.id);
            }
        }
        Ok(ids)
    }

    async fn counts(&self) -> Result<(u64, u64)> {
        Ok((
            self.count_kind(KIND_POST).await?,
            self.count_kind(KIND_USER).await?,
        ))
    }
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_goes_back_as_the_float_the_server_holds() {
        let printed = json!(0.072_835_304_f64);
        let back = exact_score(&printed).as_f64().unwrap_or_default();
        assert_eq!(back as f32, 0.072_835_304_f32);
        assert_eq!(back, f64::from(0.072_835_304_f32));
    }

    #[test]
    fn prefixes_are_literal_in_the_tag_regex() {
        assert_eq!(prefix_regex("rust"), "rust.*");
        assert_eq!(prefix_regex("a.b"), "a\\.b.*");
    }
}
