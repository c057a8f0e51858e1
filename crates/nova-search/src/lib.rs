//! # nova-search
//!
//! Finding people, posts and hashtags, with nothing the viewer may not see.
//!
//! - **Engine port** ([`SearchEngine`]): batches of upserts and deletes by id, post,
//!   user and hashtag queries. The embedded default is [`TantivyEngine`], an index under
//!   `NOVA_DATA_DIR/search` (or in memory) with no server; the scale-out engine is
//!   `engine::OpenSearchEngine` (feature `opensearch`: OpenSearch or Elasticsearch over
//!   REST, alias-swapped rebuilds). `SEARCH_BACKEND` picks one ([`setup::engine`]); both
//!   pass one conformance suite (`tests/relevance.rs`).
//! - **Full rebuild** ([`reindex`]): every active account and its posts from the
//!   [`Corpus`] into a fresh index swapped in (`nova search reindex`).
//! - **Queries** ([`query`]): free words with BM25 times recency and engagement boosts,
//!   typo tolerance (edit distance 1 from 4 characters, 2 from 8; a transposition is
//!   one edit), `"phrases"`, `from:user`, `#tag`, `@mention`, `lang:xx`,
//!   `before:`/`after:` dates, `has:media`; users by name with the last word as a
//!   prefix (autocomplete); hashtags by prefix with public usage counts; highlights.
//!   Text is analyzed by [`tokenizer`]: English stemming and CJK bigrams.
//! - **Visibility**: anonymous viewers are filtered to public posts of public accounts
//!   inside the engine query; every page is then re-checked against the [`Access`]
//!   authority (content's visibility, social's blocks, privacy and follows) and filled
//!   until full, so a page never holds an invisible item nor comes back short while
//!   more exist without a cursor. Accounts that are not discoverable are not found.
//! - **Kept current** by [`IndexConsumer`] from the event log, reading documents back
//!   from the owning domains through the [`Corpus`] port.
//!
//! ```
//! use nova_search::{Change, PostDoc, PostVisibility, SearchEngine, TantivyEngine};
//! use nova_search::engine::{PostQuery, ViewerFilter};
//! use nova_core::{PostId, UserId};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let engine = TantivyEngine::in_memory()?;
//! let post = PostDoc {
//!     id: PostId::new(),
//!     author_id: UserId::new(),
//!     text: "Rust async runtimes compared".into(),
//!     hashtags: vec!["rustlang".into()],
//!     mentions: vec![],
//!     mention_ids: vec![],
//!     language: Some("en".into()),
//!     visibility: PostVisibility::Public,
//!     author_private: false,
//!     has_media: false,
//!     created_at: chrono::Utc::now(),
//!     like_count: 3,
//!     repost_count: 0,
//! };
//! engine.apply(vec![Change::UpsertPost(post.clone())]).await?;
//! // A typo, an operator, anonymous viewer.
//! let query = PostQuery {
//!     parsed: nova_search::query::parse("rsut #RustLang")?,
//!     authors: vec![],
//!     viewer: ViewerFilter::Anonymous,
//!     now: chrono::Utc::now(),
//! };
//! let hits = engine.posts(query, 0, 10).await?;
//! assert_eq!(hits[0].id, post.id);
//! assert!(hits[0].highlight.contains("async"));
//! # Ok::<(), nova_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
pub mod consumer;
pub mod engine;
pub mod grpc;
pub mod http;
pub mod model;
pub mod ports;
pub mod query;
pub mod reindex;
pub mod service;
pub mod setup;
pub mod tokenizer;

pub use api::SearchApi;
pub use consumer::IndexConsumer;
pub use engine::{Change, SearchEngine, TantivyEngine};
pub use model::{
    HashtagHit, PostDoc, PostHit, PostVisibility, SearchHit, SearchKind, SearchRequest, UserDoc,
    UserHit,
};
pub use ports::{Access, Corpus};
pub use service::SearchService;
