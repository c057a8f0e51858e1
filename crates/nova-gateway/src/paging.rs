//! Relay connections over the domains' pages.
//!
//! Domains hand out one opaque cursor per page (its end). Relay wants one per edge, so an
//! edge cursor names "the domain page that started at `after`, minus the first `skip`
//! items": base64url of `{"a": after, "s": skip}`. The domain cursor inside stays as the
//! domain signed it (a tampered one is the domain's `InvalidArgument`), and `skip` is
//! bounded by the page size, so a cursor never costs more than one page.

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nova_core::Error;
use serde::{Deserialize, Serialize};

use crate::error::{GqlResult, IntoGql};

/// The largest page a client may ask for (the domains' `MAX_PAGE`).
pub(crate) const MAX_FIRST: u32 = 100;
/// The page size when `first` is not given.
pub(crate) const DEFAULT_FIRST: u32 = 20;

#[derive(Serialize, Deserialize)]
struct EdgeCursor {
    #[serde(rename = "a", skip_serializing_if = "Option::is_none", default)]
    after: Option<String>,
    #[serde(rename = "s", default)]
    skip: u32,
}

/// What to ask the domain for.
#[derive(Debug, Clone)]
pub(crate) struct PageRequest {
    /// The domain's cursor.
    pub after: Option<String>,
    /// Items of the domain page to drop (already seen).
    pub skip: u32,
    /// Items the client wants.
    pub first: u32,
}

impl PageRequest {
    /// From the client's `first` / `after`.
    pub fn new(first: Option<i32>, after: Option<&str>) -> GqlResult<Self> {
        let first = match first {
            None => DEFAULT_FIRST,
            Some(n) if n >= 1 && n as u32 <= MAX_FIRST => n as u32,
            Some(_) => {
                return Err(Error::invalid("first", format!("must be 1–{MAX_FIRST}"))).gql();
            }
        };
        let Some(after) = after else {
            return Ok(Self {
                after: None,
                skip: 0,
                first,
            });
        };
        let bad = || Error::invalid("after", "not a cursor of this list");
        let bytes = URL_SAFE_NO_PAD.decode(after).map_err(|_| bad()).gql()?;
        let cursor: EdgeCursor = serde_json::from_slice(&bytes).map_err(|_| bad()).gql()?;
        if cursor.skip > MAX_FIRST {
            return Err(bad()).gql();
        }
        Ok(Self {
            after: cursor.after,
            skip: cursor.skip,
            first,
        })
    }

    /// How many items to ask the domain for.
    pub fn fetch(&self) -> u32 {
        (self.skip + self.first).min(MAX_FIRST)
    }

    fn cursor(after: Option<&str>, skip: u32) -> String {
        let json = serde_json::to_vec(&EdgeCursor {
            after: after.map(str::to_owned),
            skip,
        })
        .unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Cuts a domain page (asked with [`fetch`](Self::fetch)) into this request's edges.
    pub fn window<T>(
        &self,
        items: Vec<T>,
        domain_end: Option<String>,
        domain_has_next: bool,
    ) -> Window<T> {
        let len = items.len();
        let skip = self.skip as usize;
        let take = self.first as usize;
        let mut edges = Vec::with_capacity(take.min(len));
        for (index, item) in items.into_iter().enumerate().skip(skip).take(take) {
            let cursor = match &domain_end {
                Some(end) if index + 1 == len => Self::cursor(Some(end), 0),
                _ => Self::cursor(self.after.as_deref(), index as u32 + 1),
            };
            edges.push((cursor, item));
        }
        let returned_to = skip + edges.len();
        let has_next = returned_to < len || (domain_has_next && domain_end.is_some());
        Window {
            page_info: PageInfo {
                has_next_page: has_next,
                end_cursor: edges.last().map(|(c, _)| c.clone()),
            },
            edges,
        }
    }
}

/// One window of a list: `(cursor, item)` pairs and the page info.
pub(crate) struct Window<T> {
    pub edges: Vec<(String, T)>,
    pub page_info: PageInfo,
}

/// Relay page info.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct PageInfo {
    /// Whether `after: endCursor` has more.
    pub has_next_page: bool,
    /// The last edge's cursor.
    pub end_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_cursors_resume_inside_and_after_a_domain_page() {
        let first = PageRequest::new(Some(2), None).unwrap();
        assert_eq!(first.fetch(), 2);
        // The domain returned 3 items (it may return more than asked) and has more.
        let w = first.window(vec![1, 2, 3], Some("end".into()), true);
        assert_eq!(w.edges.iter().map(|e| e.1).collect::<Vec<_>>(), [1, 2]);
        assert!(w.page_info.has_next_page);
        let next = PageRequest::new(Some(5), w.page_info.end_cursor.as_deref()).unwrap();
        assert_eq!((next.after.as_deref(), next.skip), (None, 2));
        let w = next.window(vec![1, 2, 3], Some("end".into()), true);
        assert_eq!(w.edges.iter().map(|e| e.1).collect::<Vec<_>>(), [3]);
        let last = PageRequest::new(None, w.page_info.end_cursor.as_deref()).unwrap();
        assert_eq!((last.after.as_deref(), last.skip), (Some("end"), 0));
        let w = last.window(Vec::<i32>::new(), None, false);
        assert!(!w.page_info.has_next_page && w.page_info.end_cursor.is_none());
    }

    #[test]
    fn bad_cursors_and_sizes_are_bad_input() {
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert!(PageRequest::new(None, Some("not base64 !")).is_err());
        let huge = URL_SAFE_NO_PAD.encode(br#"{"s":100000}"#);
        assert!(PageRequest::new(None, Some(&huge)).is_err());
    }
}
