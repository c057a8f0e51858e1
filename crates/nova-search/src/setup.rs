//! Builds the search domain: the engine `SEARCH_BACKEND` names (`tantivy`, the default:
//! the index under `NOVA_DATA_DIR/search`; `opensearch`: the OpenSearch/Elasticsearch
//! cluster at `ELASTICSEARCH_URL`, alias `SEARCH_INDEX`), the service over it and the
//! consumer that keeps it current.

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

/// The engine configured by `SEARCH_BACKEND`: Tantivy under `NOVA_DATA_DIR/search`
/// (default), or OpenSearch/Elasticsearch at `ELASTICSEARCH_URL` (with
/// `ELASTICSEARCH_USERNAME`/`ELASTICSEARCH_PASSWORD` when set) behind the alias
/// `SEARCH_INDEX`. A bad value is an error naming the variable.
pub async fn engine(config: &NovaConfig) -> Result<Arc<dyn SearchEngine>, String> {
    if opensearch_selected(config)? {
        return opensearch_engine(config).await;
    }
    let dir = config.data_dir.join("search");
    let engine =
        TantivyEngine::open(&dir).map_err(|e| format!("search index at {}: {e}", dir.display()))?;
    Ok(Arc::new(engine))
}

/// Whether `SEARCH_BACKEND` names OpenSearch (`opensearch` or `elasticsearch`) rather
/// than Tantivy (`tantivy` or unset).
fn opensearch_selected(config: &NovaConfig) -> Result<bool, String> {
    match config.source.raw("SEARCH_BACKEND").map(|(v, _)| v.trim()) {
        None | Some("" | "tantivy") => Ok(false),
        Some("opensearch" | "elasticsearch") => Ok(true),
        Some(other) => Err(format!(
            "invalid SEARCH_BACKEND={other:?}: expected tantivy or opensearch"
        )),
    }
}

/// Rebuilds the configured engine's index from `corpus` (`nova search reindex`):
/// OpenSearch by a new index and an alias swap while serving goes on, Tantivy by a new
/// index directory swapped in (the server must be stopped). `progress` gets the running
/// totals.
pub async fn reindex(
    config: &NovaConfig,
    corpus: &dyn Corpus,
    progress: impl FnMut(crate::reindex::Progress),
) -> Result<crate::reindex::Progress, String> {
    if opensearch_selected(config)? {
        return reindex_opensearch(config, corpus, progress).await;
    }
    let dir = config.data_dir.join("search");
    crate::reindex::tantivy(&dir, corpus, progress)
        .await
        .map_err(|e| format!("search reindex into {}: {e}", dir.display()))
}

#[cfg(feature = "opensearch")]
async fn reindex_opensearch(
    config: &NovaConfig,
    corpus: &dyn Corpus,
    progress: impl FnMut(crate::reindex::Progress),
) -> Result<crate::reindex::Progress, String> {
    let engine = opensearch(config).await?;
    let mut done = None;
    let slot = &mut done;
    engine
        .rebuild(|rebuild| async move {
            let filled = crate::reindex::fill(
                corpus,
                |batch| {
                    let rebuild = rebuild.clone();
                    async move { rebuild.apply(batch).await }
                },
                progress,
            )
            .await?;
            *slot = Some(filled);
            Ok(())
        })
        .await
        .map_err(|e| format!("search reindex on {}: {e}", engine.alias()))?;
    Ok(done.unwrap_or_default())
}

#[cfg(not(feature = "opensearch"))]
async fn reindex_opensearch(
    _: &NovaConfig,
    _: &dyn Corpus,
    _: impl FnMut(crate::reindex::Progress),
) -> Result<crate::reindex::Progress, String> {
    Err("SEARCH_BACKEND=opensearch but this binary was built without OpenSearch support".to_owned())
}

#[cfg(feature = "opensearch")]
async fn opensearch(config: &NovaConfig) -> Result<crate::engine::OpenSearchEngine, String> {
    use crate::engine::{OpenSearchConfig, OpenSearchEngine};
    let raw = |name: &str| config.source.raw(name).map(|(v, _)| v.to_owned());
    let url = raw("ELASTICSEARCH_URL")
        .filter(|u| !u.trim().is_empty())
        .ok_or("SEARCH_BACKEND=opensearch needs ELASTICSEARCH_URL")?;
    let credentials = raw("ELASTICSEARCH_USERNAME")
        .filter(|u| !u.is_empty())
        .map(|user| (user, raw("ELASTICSEARCH_PASSWORD").unwrap_or_default()));
    if let Some((_, password)) = &credentials
        && config.is_production()
        && nova_core::config::is_placeholder(password)
    {
        return Err(
            "ELASTICSEARCH_PASSWORD is still the deploy/.env.example placeholder; set the real one when NOVA_ENV=production"
                .to_owned(),
        );
    }
    let alias = raw("SEARCH_INDEX")
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.to_owned());
    let engine = OpenSearchEngine::connect(OpenSearchConfig {
        url: url.clone(),
        credentials,
        alias,
    })
    .await
    .map_err(|e| format!("cannot use the search cluster at ELASTICSEARCH_URL={url}: {e}"))?;
    Ok(engine)
}

#[cfg(feature = "opensearch")]
async fn opensearch_engine(config: &NovaConfig) -> Result<Arc<dyn SearchEngine>, String> {
    Ok(Arc::new(opensearch(config).await?))
}

#[cfg(not(feature = "opensearch"))]
async fn opensearch_engine(_: &NovaConfig) -> Result<Arc<dyn SearchEngine>, String> {
    Err("SEARCH_BACKEND=opensearch but this binary was built without OpenSearch support".to_owned())
}

/// The alias name when `SEARCH_INDEX` is unset.
pub const DEFAULT_INDEX: &str = "nova-search";

/// On the engine `SEARCH_BACKEND` names (see [`engine`]).
pub async fn configured(
    config: &NovaConfig,
    access: Arc<dyn Access>,
    corpus: Arc<dyn Corpus>,
    cursors: CursorCodec,
) -> Result<Embedded, String> {
    Ok(over(engine(config).await?, access, corpus, cursors))
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

#[cfg(test)]
mod tests {
    use nova_core::config::{ConfigSource, NovaConfig};

    fn config(pairs: &[(&str, &str)]) -> NovaConfig {
        NovaConfig::from_source(&ConfigSource::from_pairs(pairs.iter().copied())).unwrap()
    }

    #[tokio::test]
    async fn a_bad_backend_or_a_missing_url_is_an_error_naming_the_variable() {
        let err = super::engine(&config(&[("SEARCH_BACKEND", "solr")]))
            .await
            .err()
            .unwrap();
        assert!(err.contains("SEARCH_BACKEND"), "{err}");
        let err = super::engine(&config(&[("SEARCH_BACKEND", "opensearch")]))
            .await
            .err()
            .unwrap();
        let named = if cfg!(feature = "opensearch") {
            "ELASTICSEARCH_URL"
        } else {
            "without OpenSearch support"
        };
        assert!(err.contains(named), "{err}");
    }
}
