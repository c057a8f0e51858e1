//! The full rebuild (`nova search reindex`): every active account and every post of it,
//! read from the owning domains through the [`Corpus`] port, written in batches into a
//! fresh index that then replaces the live one — on OpenSearch by moving the alias
//! ([`OpenSearchEngine::rebuild`](crate::engine::OpenSearchEngine::rebuild)), on Tantivy
//! by swapping the index directory (the serving process must be stopped: Tantivy
//! allows one writer per index).

use std::path::Path;

use nova_core::{Result, UserId};

use crate::engine::Change;
use crate::ports::Corpus;

/// Documents written per batch.
pub const BATCH: usize = 500;

/// How far a rebuild got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Accounts indexed.
    pub users: u64,
    /// Posts indexed.
    pub posts: u64,
}

/// Walks every active account of `corpus` and its posts, handing `write` batches of
/// upserts (at most [`BATCH`] documents each) and `progress` the running totals after
/// each batch.
pub async fn fill<W, Fut>(
    corpus: &dyn Corpus,
    mut write: W,
    mut progress: impl FnMut(Progress),
) -> Result<Progress>
where
    W: FnMut(Vec<Change>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut done = Progress::default();
    let mut batch = Vec::new();
    let mut after: Option<UserId> = None;
    loop {
        let ids = corpus.user_ids(after).await?;
        let Some(last) = ids.last() else {
            break;
        };
        after = Some(*last);
        for id in ids {
            let Some(user) = corpus.user(id).await? else {
                // Deactivated or deleted since it was listed.
                continue;
            };
            batch.push(Change::UpsertUser(user));
            done.users += 1;
            let mut cursor = None;
            loop {
                let (posts, next) = corpus.author_posts(id, cursor).await?;
                done.posts += posts.len() as u64;
                batch.extend(posts.into_iter().map(Change::UpsertPost));
                if batch.len() >= BATCH {
                    write(std::mem::take(&mut batch)).await?;
                    progress(done);
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    if !batch.is_empty() {
        write(batch).await?;
    }
    progress(done);
    Ok(done)
}

/// Rebuilds the Tantivy index in `dir` from `corpus`: fills a fresh index beside it, then
/// swaps the directories. Refused (nothing changed) while another process holds the
/// live index open for writing.
pub async fn tantivy(
    dir: &Path,
    corpus: &dyn Corpus,
    progress: impl FnMut(Progress),
) -> Result<Progress> {
    use crate::engine::{SearchEngine, TantivyEngine};
    let busy = |e: nova_core::Error| {
        nova_core::Error::new(
            nova_core::ErrorKind::Conflict,
            format!(
                "the search index at {} is in use ({e}); stop the server first, or use SEARCH_BACKEND=opensearch to reindex while serving",
                dir.display()
            ),
        )
    };
    // Fails now, before any work, if a server holds the live index.
    drop(TantivyEngine::open(dir).map_err(busy)?);
    let name = dir
        .file_name()
        .map_or_else(|| "search".into(), |n| n.to_string_lossy().into_owned());
    let fresh = dir.with_file_name(format!("{name}.rebuild"));
    let old = dir.with_file_name(format!("{name}.old"));
    for stale in [&fresh, &old] {
        if stale.exists() {
            std::fs::remove_dir_all(stale).map_err(nova_core::Error::internal)?;
        }
    }
    let done = {
        let engine = TantivyEngine::open(&fresh)?;
        fill(corpus, |batch| engine.apply(batch), progress).await?
    };
    // The writer is gone with the engine; take the live one's lock again for the swap.
    let live = TantivyEngine::open(dir).map_err(busy)?;
    std::fs::rename(dir, &old).map_err(nova_core::Error::internal)?;
    std::fs::rename(&fresh, dir).map_err(nova_core::Error::internal)?;
    drop(live);
    std::fs::remove_dir_all(&old).map_err(nova_core::Error::internal)?;
    Ok(done)
}
