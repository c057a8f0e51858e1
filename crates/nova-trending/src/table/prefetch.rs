//! Software prefetch for the batch ingest pipeline, the one place that names the
//! `prefetch-index` crate (`_mm_prefetch` needs `unsafe`, which the workspace forbids).

/// Starts loading the cache line holding `data[index]` (no effect on results; out of
/// bounds is harmless: nothing is read).
#[inline(always)]
pub(crate) fn prefetch<T>(data: &[T], index: usize) {
    prefetch_index::prefetch_index(data, index);
}
