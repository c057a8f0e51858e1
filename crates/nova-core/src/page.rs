//! [`Page`]: one page of a cursor-paginated list, as every domain's API returns it.

use serde::{Deserialize, Serialize};

/// One page of a cursor-paginated list (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Opaque cursor after the last item (pass as `after` for the next page); `None` on an
    /// empty page.
    pub end_cursor: Option<String>,
    /// Whether more items follow.
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// An empty last page.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            end_cursor: None,
            has_next_page: false,
        }
    }
}
