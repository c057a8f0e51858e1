//! The embedded engine: one Tantivy index (on disk under `NOVA_DATA_DIR/search`, or in
//! memory) holding posts and users, with the [`ANALYZER`](crate::tokenizer::ANALYZER)
//! text analyzer; hashtags and their counts come from the posts' tag terms.
//!
//! Writes take the one `IndexWriter` and end with a commit and a reader reload, so a
//! batch is searchable when [`SearchEngine::apply`] returns. Index work runs on the
//! blocking pool, never on an async worker.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nova_core::{Error, Result, UserId};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score};
use tantivy::{SegmentReader, TantivyDocument, Term};

use super::{Change, PostQuery, SearchEngine, ViewerFilter};
use crate::model::{HashtagHit, PostDoc, PostHit, PostVisibility, UserDoc, UserHit};
use crate::tokenizer::{ANALYZER, analyzer, is_cjk, terms};

/// Memory for the index writer's buffer.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;
/// Hashtag autocomplete looks at most this many distinct tags per prefix.
const MAX_TAG_CANDIDATES: usize = 500;
/// Characters of a highlight.
const HIGHLIGHT_CHARS: usize = 200;

const KIND_POST: &str = "post";
const KIND_USER: &str = "user";
const YES: &str = "yes";

struct Fields {
    key: Field,
    kind: Field,
    doc: Field,
    text: Field,
    tags: Field,
    mentions: Field,
    mention_ids: Field,
    author: Field,
    lang: Field,
    visibility: Field,
    open: Field,
    media: Field,
    created: Field,
    engagement: Field,
    username: Field,
    names: Field,
    bio: Field,
    discoverable: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING),
        doc: b.add_text_field("doc", STORED),
        text: b.add_text_field("text", text.clone()),
        tags: b.add_text_field("tags", STRING),
        mentions: b.add_text_field("mentions", STRING),
        mention_ids: b.add_text_field("mention_ids", STRING),
        author: b.add_text_field("author", STRING),
        lang: b.add_text_field("lang", STRING),
        visibility: b.add_text_field("visibility", STRING),
        open: b.add_text_field("open", STRING),
        media: b.add_text_field("media", STRING),
        created: b.add_i64_field("created", INDEXED | FAST),
        engagement: b.add_u64_field("engagement", FAST),
        username: b.add_text_field("username", STRING),
        names: b.add_text_field("names", text.clone()),
        bio: b.add_text_field("bio", text),
        discoverable: b.add_text_field("discoverable", STRING),
    };
    (b.build(), fields)
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

/// The embedded Tantivy engine.
#[derive(Clone)]
pub struct TantivyEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TantivyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyEngine").finish_non_exhaustive()
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}

impl TantivyEngine {
    /// An index in memory (tests, benches).
    pub fn in_memory() -> Result<Self> {
        let (schema, f) = schema();
        Self::with_index(Index::create_in_ram(schema), f, 1)
    }

    /// The index in directory `dir` (created when missing).
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(internal)?;
        let (schema, f) = schema();
        let directory = MmapDirectory::open(dir).map_err(internal)?;
        let index = Index::open_or_create(directory, schema).map_err(internal)?;
        Self::with_index(index, f, 1)
    }

    /// An in-memory index whose writer uses `threads` indexing threads (benches).
    pub fn in_memory_with_threads(threads: usize) -> Result<Self> {
        let (schema, f) = schema();
        Self::with_index(Index::create_in_ram(schema), f, threads.max(1))
    }

    fn with_index(index: Index, f: Fields, threads: usize) -> Result<Self> {
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index
            .writer_with_num_threads(threads, WRITER_MEMORY * threads)
            .map_err(internal)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(internal)?;
        Ok(Self {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(writer),
                f,
            }),
        })
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(internal)?
    }
}

fn term(field: Field, value: &str) -> Term {
    Term::from_field_text(field, value)
}

fn must_term(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        Box::new(TermQuery::new(term(field, value), IndexRecordOption::Basic)),
    )
}

fn any_of(clauses: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Edit distance allowed for a query term: 1 from 4 characters (a transposition counts
/// as one edit, so "rsut" finds "rust"), 2 from 8; none for CJK.
pub fn typo_distance(word: &str) -> u8 {
    let chars = word.chars().count();
    if word.chars().any(is_cjk) {
        0
    } else if chars >= 8 {
        2
    } else if chars >= 4 {
        1
    } else {
        0
    }
}

/// Exact terms (BM25) with typo-tolerant alternatives, or an ordered phrase when the word
/// analyzes into several terms (CJK runs, `a-b`).
fn word_query(field: Field, analyzed: &[String], fuzzy: bool) -> Option<Box<dyn Query>> {
    match analyzed {
        [] => None,
        [one] => {
            let t = term(field, one);
            let exact: Box<dyn Query> = Box::new(TermQuery::new(
                t.clone(),
                IndexRecordOption::WithFreqsAndPositions,
            ));
            let distance = typo_distance(one);
            if !fuzzy || distance == 0 {
                return Some(exact);
            }
            let typo: Box<dyn Query> = Box::new(BoostQuery::new(
                Box::new(FuzzyTermQuery::new(t, distance, true)),
                0.5,
            ));
            Some(any_of(vec![exact, typo]))
        }
        many => Some(Box::new(PhraseQuery::new(
            many.iter().map(|w| term(field, w)).collect(),
        ))),
    }
}

fn doc_json<T: serde::de::DeserializeOwned>(inner: &Inner, doc: &TantivyDocument) -> Result<T> {
    let json = doc
        .get_first(inner.f.doc)
        .and_then(|v| v.as_str())
        .ok_or_else(|| internal("document without its source"))?;
    serde_json::from_str(json).map_err(internal)
}

fn add_post(inner: &Inner, writer: &IndexWriter, p: &PostDoc) -> Result<()> {
    let f = &inner.f;
    let key = format!("{KIND_POST}:{}", p.id);
    writer.delete_term(term(f.key, &key));
    let mut d = TantivyDocument::default();
    d.add_text(f.key, &key);
    d.add_text(f.kind, KIND_POST);
    d.add_text(f.doc, serde_json::to_string(p).map_err(internal)?);
    d.add_text(f.text, &p.text);
    for tag in &p.hashtags {
        d.add_text(f.tags, tag.to_lowercase());
    }
    for m in &p.mentions {
        d.add_text(f.mentions, m.to_lowercase());
    }
    for m in &p.mention_ids {
        d.add_text(f.mention_ids, m.to_string());
    }
    d.add_text(f.author, p.author_id.to_string());
    if let Some(lang) = &p.language {
        d.add_text(f.lang, lang.to_lowercase());
    }
    d.add_text(f.visibility, p.visibility.as_str());
    if p.visibility == PostVisibility::Public && !p.author_private {
        d.add_text(f.open, YES);
    }
    if p.has_media {
        d.add_text(f.media, YES);
    }
    d.add_i64(f.created, p.created_at.timestamp());
    let engagement = p.like_count.max(0) + p.repost_count.max(0);
    d.add_u64(f.engagement, u64::try_from(engagement).unwrap_or(0));
    writer.add_document(d).map_err(internal)?;
    Ok(())
}

fn add_user(inner: &Inner, writer: &IndexWriter, u: &UserDoc) -> Result<()> {
    let f = &inner.f;
    let key = format!("{KIND_USER}:{}", u.id);
    writer.delete_term(term(f.key, &key));
    let mut d = TantivyDocument::default();
    d.add_text(f.key, &key);
    d.add_text(f.kind, KIND_USER);
    d.add_text(f.doc, serde_json::to_string(u).map_err(internal)?);
    d.add_text(f.username, u.username.to_lowercase());
    d.add_text(f.names, format!("{} {}", u.username, u.display_name));
    d.add_text(f.bio, &u.bio);
    if u.discoverable {
        d.add_text(f.discoverable, YES);
    }
    writer.add_document(d).map_err(internal)?;
    Ok(())
}

impl Inner {
    fn apply(&self, changes: &[Change]) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| internal("writer lock poisoned"))?;
        let f = &self.f;
        for change in changes {
            match change {
                Change::UpsertPost(p) => add_post(self, &writer, p)?,
                Change::DeletePost(id) => {
                    writer.delete_term(term(f.key, &format!("{KIND_POST}:{id}")));
                }
                Change::DeleteAuthorPosts(author) => {
                    writer.delete_term(term(f.author, &author.to_string()));
                }
                Change::UpsertUser(u) => add_user(self, &writer, u)?,
                Change::DeleteUser(id) => {
                    writer.delete_term(term(f.key, &format!("{KIND_USER}:{id}")));
                }
            }
        }
        writer.commit().map_err(internal)?;
        drop(writer);
        self.reader.reload().map_err(internal)
    }

    fn analyzer(&self) -> TextAnalyzer {
        self.index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer)
    }

    fn post_query(&self, q: &PostQuery) -> Option<Box<dyn Query>> {
        let f = &self.f;
        let mut an = self.analyzer();
        let mut clauses = vec![must_term(f.kind, KIND_POST)];
        for word in &q.parsed.words {
            if let Some(query) = word_query(f.text, &terms(&mut an, word), true) {
                clauses.push((Occur::Must, query));
            }
        }
        for phrase in &q.parsed.phrases {
            if let Some(query) = word_query(f.text, &terms(&mut an, phrase), false) {
                clauses.push((Occur::Must, query));
            }
        }
        if !q.parsed.from.is_empty() {
            if q.authors.is_empty() {
                return None;
            }
            let authors = q
                .authors
                .iter()
                .map(|a| {
                    Box::new(TermQuery::new(
                        term(f.author, &a.to_string()),
                        IndexRecordOption::Basic,
                    )) as Box<dyn Query>
                })
                .collect();
            clauses.push((Occur::Must, any_of(authors)));
        }
        for tag in &q.parsed.hashtags {
            clauses.push(must_term(f.tags, tag));
        }
        for m in &q.parsed.mentions {
            clauses.push(must_term(f.mentions, m));
        }
        if let Some(lang) = &q.parsed.lang {
            clauses.push(must_term(f.lang, lang));
        }
        if q.parsed.has_media {
            clauses.push(must_term(f.media, YES));
        }
        if q.parsed.before.is_some() || q.parsed.after.is_some() {
            let lower = q.parsed.after.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.created, t.timestamp()))
            });
            let upper = q.parsed.before.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.created, t.timestamp()))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        let visible: Box<dyn Query> = match q.viewer {
            ViewerFilter::Anonymous => {
                Box::new(TermQuery::new(term(f.open, YES), IndexRecordOption::Basic))
            }
            ViewerFilter::User(viewer) => {
                let id = viewer.to_string();
                let basic = |field, value: &str| {
                    Box::new(TermQuery::new(term(field, value), IndexRecordOption::Basic))
                        as Box<dyn Query>
                };
                let mentioned = Box::new(BooleanQuery::new(vec![
                    must_term(f.visibility, PostVisibility::Mentioned.as_str()),
                    must_term(f.mention_ids, &id),
                ]));
                any_of(vec![
                    basic(f.visibility, PostVisibility::Public.as_str()),
                    basic(f.visibility, PostVisibility::Followers.as_str()),
                    mentioned,
                    basic(f.author, &id),
                ])
            }
        };
        // A filter: it decides what may match, not how well.
        clauses.push((Occur::Must, Box::new(BoostQuery::new(visible, 0.0))));
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn posts(&self, q: &PostQuery, offset: usize, limit: usize) -> Result<Vec<PostHit>> {
        let Some(query) = self.post_query(q) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let now = q.now.timestamp();
        let collector = TopDocs::with_limit(limit.max(1))
            .and_offset(offset)
            .tweak_score(move |segment: &SegmentReader| {
                let fast = segment.fast_fields();
                let created = fast
                    .i64("created")
                    .ok()
                    .map(|c| c.first_or_default_col(now));
                let engaged = fast
                    .u64("engagement")
                    .ok()
                    .map(|c| c.first_or_default_col(0));
                move |doc: DocId, score: Score| {
                    let at = created.as_ref().map_or(now, |c| c.get_val(doc));
                    let n = engaged.as_ref().map_or(0, |c| c.get_val(doc));
                    boosted(score, now - at, n)
                }
            });
        let top: Vec<(Score, DocAddress)> =
            searcher.search(&*query, &collector).map_err(internal)?;
        let snippets = SnippetGenerator::create(&searcher, &*query, self.f.text)
            .map(|mut s| {
                s.set_max_num_chars(HIGHLIGHT_CHARS);
                s
            })
            .map_err(internal)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(internal)?;
            let p: PostDoc = doc_json(self, &doc)?;
            let snippet = snippets.snippet(&p.text);
            let highlight = if snippet.is_empty() {
                html_escape(&p.text.chars().take(HIGHLIGHT_CHARS).collect::<String>())
            } else {
                snippet.to_html()
            };
            hits.push(PostHit {
                id: p.id,
                author_id: p.author_id,
                highlight,
                text: p.text,
                hashtags: p.hashtags,
                language: p.language,
                created_at: p.created_at,
                like_count: p.like_count,
                repost_count: p.repost_count,
                score,
            });
        }
        Ok(hits)
    }

    fn users(&self, text: &str, offset: usize, limit: usize) -> Result<Vec<UserHit>> {
        let f = &self.f;
        let mut an = self.analyzer();
        let mut clauses = vec![must_term(f.kind, KIND_USER), must_term(f.discoverable, YES)];
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        for (i, word) in words.iter().enumerate() {
            let last = i + 1 == words.len();
            let raw = word.trim_start_matches('@').to_lowercase();
            let mut any: Vec<Box<dyn Query>> = Vec::new();
            if !raw.is_empty() {
                any.push(Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(
                        term(f.username, &raw),
                        IndexRecordOption::Basic,
                    )),
                    4.0,
                )));
                if last {
                    any.push(Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(term(f.username, &raw), 0, true)),
                        2.0,
                    )));
                }
            }
            for t in terms(&mut an, word) {
                for field in [f.names, f.bio] {
                    if let Some(q) = word_query(field, std::slice::from_ref(&t), true) {
                        any.push(q);
                    }
                }
                if last && !t.chars().any(is_cjk) {
                    any.push(Box::new(FuzzyTermQuery::new_prefix(
                        term(f.names, &t),
                        0,
                        true,
                    )));
                }
            }
            if any.is_empty() {
                continue;
            }
            clauses.push((Occur::Must, any_of(any)));
        }
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(clauses);
        let top: Vec<(Score, DocAddress)> = searcher
            .search(
                &query,
                &TopDocs::with_limit(limit.max(1))
                    .and_offset(offset)
                    .order_by_score(),
            )
            .map_err(internal)?;
        top.into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address).map_err(internal)?;
                let u: UserDoc = doc_json(self, &doc)?;
                Ok(UserHit {
                    id: u.id,
                    username: u.username,
                    display_name: u.display_name,
                    bio: u.bio,
                    score,
                })
            })
            .collect()
    }

    fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<HashtagHit>> {
        let f = &self.f;
        let prefix = prefix.trim().trim_start_matches('#').to_lowercase();
        let searcher = self.reader.searcher();
        let mut candidates = BTreeSet::new();
        let mut upper = prefix.clone().into_bytes();
        upper.push(0xFF);
        for segment in searcher.segment_readers() {
            let index = segment.inverted_index(f.tags).map_err(internal)?;
            let mut stream = index
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .lt(&upper)
                .into_stream()
                .map_err(internal)?;
            while let Some((key, _)) = stream.next() {
                if let Ok(tag) = std::str::from_utf8(key) {
                    candidates.insert(tag.to_owned());
                }
                if candidates.len() >= MAX_TAG_CANDIDATES {
                    break;
                }
            }
        }
        let mut counted = Vec::new();
        for tag in candidates {
            let query = BooleanQuery::new(vec![must_term(f.tags, &tag), must_term(f.open, YES)]);
            let n = searcher.search(&query, &Count).map_err(internal)?;
            if n > 0 {
                counted.push(HashtagHit {
                    name: tag,
                    usage_count: n as u64,
                });
            }
        }
        counted.sort_by(|a, b| b.usage_count.cmp(&a.usage_count).then(a.name.cmp(&b.name)));
        Ok(counted.into_iter().skip(offset).take(limit).collect())
    }

    fn find_users(&self, field: Field, values: &[String], limit: usize) -> Result<Vec<UserDoc>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let any = any_of(
            values
                .iter()
                .map(|v| {
                    Box::new(TermQuery::new(term(field, v), IndexRecordOption::Basic))
                        as Box<dyn Query>
                })
                .collect(),
        );
        let query = BooleanQuery::new(vec![must_term(self.f.kind, KIND_USER), (Occur::Must, any)]);
        let top: Vec<(Score, DocAddress)> = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(internal)?;
        top.into_iter()
            .map(|(_, address)| {
                let doc: TantivyDocument = searcher.doc(address).map_err(internal)?;
                doc_json(self, &doc)
            })
            .collect()
    }

    fn count(&self, kind: &str) -> Result<u64> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(term(self.f.kind, kind), IndexRecordOption::Basic);
        Ok(searcher.search(&query, &Count).map_err(internal)? as u64)
    }
}

/// BM25 times an engagement boost (log of likes and reposts) times a recency factor that
/// halves the weight of a week-old post and keeps at least a third for old ones.
pub fn boosted(score: Score, age_seconds: i64, engagement: u64) -> Score {
    let age_days = (age_seconds.max(0) as f32) / 86_400.0;
    let recency = 1.0 / 3.0 + (2.0 / 3.0) / (1.0 + age_days / 7.0);
    let engagement = 1.0 + 0.3 * (1.0 + engagement as f32).ln();
    score * recency * engagement
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

#[async_trait]
impl SearchEngine for TantivyEngine {
    async fn apply(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        self.blocking(move |inner| inner.apply(&changes)).await
    }

    async fn posts(&self, query: PostQuery, offset: usize, limit: usize) -> Result<Vec<PostHit>> {
        self.blocking(move |inner| inner.posts(&query, offset, limit))
            .await
    }

    async fn users(&self, text: &str, offset: usize, limit: usize) -> Result<Vec<UserHit>> {
        let text = text.to_owned();
        self.blocking(move |inner| inner.users(&text, offset, limit))
            .await
    }

    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<HashtagHit>> {
        let prefix = prefix.to_owned();
        self.blocking(move |inner| inner.hashtags(&prefix, offset, limit))
            .await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserDoc>> {
        self.blocking(move |inner| {
            let key = format!("{KIND_USER}:{id}");
            Ok(inner.find_users(inner.f.key, &[key], 1)?.pop())
        })
        .await
    }

    async fn user_ids(&self, usernames: &[String]) -> Result<Vec<UserId>> {
        let names: Vec<String> = usernames.iter().map(|n| n.to_lowercase()).collect();
        self.blocking(move |inner| {
            let n = names.len();
            Ok(inner
                .find_users(inner.f.username, &names, n)?
                .into_iter()
                .map(|u| u.id)
                .collect())
        })
        .await
    }

    async fn counts(&self) -> Result<(u64, u64)> {
        self.blocking(|inner| Ok((inner.count(KIND_POST)?, inner.count(KIND_USER)?)))
            .await
    }
}
