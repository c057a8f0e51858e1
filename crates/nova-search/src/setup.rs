//! Builds the embedded search domain: the Tantivy index under `NOVA_DATA_DIR/search`, the
//! service over it and the consumer that keeps it current.

use std::sync::Arc;

use nova_core::config::NovaConfig;
use nova_core::cursor::CursorCodec;
use nova_events::EventHandler;

use crate::api::SearchApi;
use crate::consumer::IndexConsumer;
use crate::engine::{SearchEngine, TantivyEngine};
use crate::ports::{Access, Corpus};
use crate::service::SearchService;

pub use crate::consumer::CONSUMER;

/// The embedded search domain.
pub struct Embedded {
    /// The API.
    pub api: Arc<dyn SearchApi>,
    /// The index consumer (register under [`CONSUMER`]).
    pub consumer: Arc<dyn EventHandler>,
    /// The engine both use.
    pub engine: Arc<dyn SearchEngine>,
}

/// Over `engine`.
pub fn over(
    engine: Arc<dyn SearchEngine>,
    access: Arc<dyn Access>,
    corpus: Arc<dyn Corpus>,
    cursors: CursorCodec,
) -> Embedded {
    Embedded {
        api: Arc::new(SearchService::new(engine.clone(), access, cursors)),
        consumer: Arc::new(IndexConsumer::new(engine.clone(), corpus)),
        engine,
    }
}

/// On the index under `NOVA_DATA_DIR/search`.
pub fn embedded(
    config: &NovaConfig,
    access: Arc<dyn Access>,
    corpus: Arc<dyn Corpus>,
    cursors: CursorCodec,
) -> Result<Embedded, String> {
    let dir = config.data_dir.join("search");
    let engine =
        TantivyEngine::open(&dir).map_err(|e| format!("search index at {}: {e}", dir.display()))?;
    Ok(over(Arc::new(engine), access, corpus, cursors))
}
