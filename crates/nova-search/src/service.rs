//! [`SearchService`]: the engine queried with the viewer's filter, every candidate
//! re-checked against the [`Access`] authority, pages filled until full.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use nova_core::clock::SharedClock;
use nova_core::cursor::CursorCodec;
use nova_core::{Error, Page, Principal, Result, SystemClock};
use serde::{Deserialize, Serialize};

use crate::api::SearchApi;
use crate::engine::{PostQuery, SearchEngine, ViewerFilter};
use crate::model::{SearchHit, SearchKind, SearchRequest};
use crate::ports::Access;
use crate::query;

/// Default page size.
pub const DEFAULT_FIRST: u32 = 20;
/// Largest page.
pub const MAX_FIRST: u32 = 100;
/// Longest query text, in bytes.
pub const MAX_QUERY_BYTES: usize = 512;
/// Candidates one request examines at most; past it the page may be short, with a cursor.
pub const MAX_SCAN: usize = 2_000;

/// Where the next page starts in the engine's ranking.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    /// Kind (a cursor of one kind is refused for another).
    k: SearchKind,
    /// Rank offset of the next candidate.
    o: usize,
}

/// The search domain's service.
pub struct SearchService {
    engine: Arc<dyn SearchEngine>,
    access: Arc<dyn Access>,
    cursors: CursorCodec,
    clock: SharedClock,
}

impl SearchService {
    /// Searches `engine`, re-checking hits with `access`.
    pub fn new(
        engine: Arc<dyn SearchEngine>,
        access: Arc<dyn Access>,
        cursors: CursorCodec,
    ) -> Self {
        Self {
            engine,
            access,
            cursors,
            clock: SystemClock::shared(),
        }
    }

    /// Uses `clock` for the recency boost.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The engine (the consumer writes to the same one).
    pub fn engine(&self) -> &Arc<dyn SearchEngine> {
        &self.engine
    }

    fn page(
        &self,
        kind: SearchKind,
        items: Vec<SearchHit>,
        next: Option<usize>,
    ) -> Result<Page<SearchHit>> {
        let end_cursor = match next {
            Some(o) => Some(self.cursors.encode(&Position { k: kind, o })?),
            None => None,
        };
        Ok(Page {
            has_next_page: end_cursor.is_some(),
            items,
            end_cursor,
        })
    }
}

/// Candidates fetched per engine round for a page of `first`.
fn batch(first: usize) -> usize {
    (first * 2).clamp(20, 200)
}

#[async_trait]
impl SearchApi for SearchService {
    async fn search(
        &self,
        viewer: Option<&Principal>,
        request: SearchRequest,
    ) -> Result<Page<SearchHit>> {
        if request.query.len() > MAX_QUERY_BYTES {
            return Err(Error::invalid(
                "q",
                format!("at most {MAX_QUERY_BYTES} bytes"),
            ));
        }
        let first = match request.first {
            0 => DEFAULT_FIRST,
            n if n > MAX_FIRST => {
                return Err(Error::invalid("first", format!("at most {MAX_FIRST}")));
            }
            n => n,
        } as usize;
        let kind = request.kind;
        let start = match self
            .cursors
            .decode_opt::<Position>(request.after.as_deref())?
        {
            Some(p) if p.k != kind => {
                return Err(Error::invalid("after", "a cursor of another search type"));
            }
            Some(p) => p.o,
            None => 0,
        };
        let viewer_id = viewer.filter(|p| p.is_user()).map(|p| p.user_id);
        match kind {
            SearchKind::Hashtags => {
                let mut tags = self
                    .engine
                    .hashtags(&request.query, start, first + 1)
                    .await?;
                let more = tags.len() > first;
                tags.truncate(first);
                let next = more.then_some(start + first);
                let items = tags.into_iter().map(SearchHit::Hashtag).collect();
                self.page(kind, items, next)
            }
            SearchKind::Posts => {
                let parsed = query::parse(&request.query)?;
                if parsed.is_empty() {
                    return Ok(Page::empty());
                }
                let authors = self.engine.user_ids(&parsed.from).await?;
                let q = PostQuery {
                    parsed,
                    authors,
                    viewer: viewer_id.map_or(ViewerFilter::Anonymous, ViewerFilter::User),
                    now: self.clock.now(),
                };
                let mut out = Vec::new();
                let fill = fill(
                    first,
                    start,
                    |offset, limit| {
                        let q = q.clone();
                        async move {
                            let hits = self.engine.posts(q, offset, limit).await?;
                            let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
                            let visible: HashSet<_> = self
                                .access
                                .visible_posts(viewer, &ids)
                                .await?
                                .into_iter()
                                .collect();
                            Ok(hits
                                .into_iter()
                                .map(|h| (visible.contains(&h.id), SearchHit::Post(h)))
                                .collect())
                        }
                    },
                    &mut out,
                )
                .await?;
                self.page(kind, out, fill)
            }
            SearchKind::Users => {
                let text = request.query.trim();
                if text.is_empty() {
                    return Ok(Page::empty());
                }
                let mut out = Vec::new();
                let fill = fill(
                    first,
                    start,
                    |offset, limit| async move {
                        let hits = self.engine.users(text, offset, limit).await?;
                        let ids: Vec<_> = hits.iter().map(|h| h.id).collect();
                        let visible: HashSet<_> = self
                            .access
                            .visible_users(viewer, &ids)
                            .await?
                            .into_iter()
                            .collect();
                        Ok(hits
                            .into_iter()
                            .map(|h| (visible.contains(&h.id), SearchHit::User(h)))
                            .collect())
                    },
                    &mut out,
                )
                .await?;
                self.page(kind, out, fill)
            }
        }
    }
}

/// Fills `out` with up to `first` visible candidates from rank `start` on, fetching
/// rounds of candidates `(visible, hit)`; the next start when more may follow.
async fn fill<F, Fut>(
    first: usize,
    start: usize,
    mut round: F,
    out: &mut Vec<SearchHit>,
) -> Result<Option<usize>>
where
    F: FnMut(usize, usize) -> Fut,
    Fut: Future<Output = Result<Vec<(bool, SearchHit)>>>,
{
    let size = batch(first);
    let mut offset = start;
    let mut after_last = start;
    loop {
        let candidates = round(offset, size).await?;
        let n = candidates.len();
        for (i, (visible, hit)) in candidates.into_iter().enumerate() {
            if !visible {
                continue;
            }
            if out.len() == first {
                // One more visible result exists: the page is full and has a next one.
                return Ok(Some(after_last));
            }
            out.push(hit);
            after_last = offset + i + 1;
        }
        offset += n;
        if n < size {
            return Ok(None);
        }
        if offset - start >= MAX_SCAN {
            // Bounded work per request: continue from where the scan stopped.
            return Ok(Some(if out.len() == first {
                after_last
            } else {
                offset
            }));
        }
    }
}
