//! The search API.

use async_trait::async_trait;
use nova_core::{Page, Principal, Result};

use crate::model::{SearchHit, SearchRequest};

/// Finds posts, accounts and hashtags for a viewer.
///
/// Nothing the viewer may not see comes back: private authors they don't follow,
/// followers-only and mentioned-only posts not for them, blocks either way,
/// deactivated or deleted accounts and deleted posts. A page is short only at the end
/// of the results (or after a bounded scan, then with a cursor to continue).
#[async_trait]
pub trait SearchApi: Send + Sync {
    /// One page of results.
    async fn search(
        &self,
        viewer: Option<&Principal>,
        request: SearchRequest,
    ) -> Result<Page<SearchHit>>;
}
