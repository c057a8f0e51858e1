//! `search`: users, posts and hashtags from the search domain, the posts and users then
//! loaded through the request's loaders (the domains re-check the viewer once more).

use async_graphql::{Context, Enum, SimpleObject};
use nova_core::{Error, PostId, UserId};
use nova_search::{SearchHit, SearchKind, SearchRequest};

use super::{Post, User, load_users};
use crate::context::{caller, loaders};
use crate::error::{GqlResult, IntoGql};
use crate::paging::{MAX_FIRST, PageInfo};

/// What a search looks for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub(crate) enum SearchType {
    /// Posts: free words (typo-tolerant), "phrases", `from:user`, `#tag`, `@mention`,
    /// `lang:xx`, `before:`/`after:YYYY-MM-DD`, `has:media`.
    #[default]
    Posts,
    /// Accounts by username, display name or bio; the last word is a prefix.
    Users,
    /// Hashtags by prefix, most used first.
    Hashtags,
}

impl From<SearchType> for SearchKind {
    fn from(t: SearchType) -> Self {
        match t {
            SearchType::Posts => Self::Posts,
            SearchType::Users => Self::Users,
            SearchType::Hashtags => Self::Hashtags,
        }
    }
}

/// A hashtag and how many public posts use it.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct Hashtag {
    /// The tag, lowercased, without `#`.
    pub name: String,
    /// Public posts of public accounts using it.
    pub usage_count: i64,
}

/// Where a post matched.
#[derive(SimpleObject, Clone, Debug)]
pub(crate) struct SearchHighlight {
    /// The post.
    pub post_id: async_graphql::ID,
    /// The matched words in context, `<b>`-marked, HTML-escaped.
    pub html: String,
}

/// One page of search results (only the list of the searched type is filled).
#[derive(SimpleObject)]
pub(crate) struct SearchResults {
    /// Accounts, best first.
    pub users: Vec<User>,
    /// Posts, best first.
    pub posts: Vec<Post>,
    /// Highlights of `posts`.
    pub highlights: Vec<SearchHighlight>,
    /// Hashtags, most used first.
    pub hashtags: Vec<Hashtag>,
    /// Paging.
    pub page_info: PageInfo,
}

/// Runs a search for the caller.
pub(crate) async fn search(
    ctx: &Context<'_>,
    query: String,
    kind: SearchType,
    first: Option<i32>,
    after: Option<String>,
) -> GqlResult<SearchResults> {
    let first = match first {
        None => 0,
        Some(n) if (1..=MAX_FIRST as i32).contains(&n) => n as u32,
        Some(_) => return Err(Error::invalid("first", format!("must be 1–{MAX_FIRST}"))).gql(),
    };
    let call = caller(ctx)?;
    let search = call
        .domains
        .search
        .clone()
        .ok_or_else(|| Error::unavailable("search is not configured"))
        .gql()?;
    let request = SearchRequest {
        query,
        kind: kind.into(),
        first,
        after,
    };
    let page = search
        .search(call.principal.as_ref(), request)
        .await
        .gql()?;
    let (mut post_ids, mut user_ids, mut hashtags, mut highlights) = (
        Vec::<PostId>::new(),
        Vec::<UserId>::new(),
        Vec::new(),
        Vec::new(),
    );
    for hit in page.items {
        match hit {
            SearchHit::Post(p) => {
                post_ids.push(p.id);
                highlights.push((p.id, p.highlight));
            }
            SearchHit::User(u) => user_ids.push(u.id),
            SearchHit::Hashtag(h) => hashtags.push(Hashtag {
                name: h.name,
                usage_count: i64::try_from(h.usage_count).unwrap_or(i64::MAX),
            }),
        }
    }
    let mut found = loaders(ctx)?
        .posts
        .load_many(post_ids.iter().copied())
        .await?;
    let posts: Vec<Post> = post_ids
        .iter()
        .filter_map(|id| found.remove(id))
        .map(Post)
        .collect();
    let shown: Vec<PostId> = posts.iter().map(|p| p.0.id).collect();
    Ok(SearchResults {
        users: load_users(ctx, &user_ids).await?,
        highlights: highlights
            .into_iter()
            .filter(|(id, _)| shown.contains(id))
            .map(|(id, html)| SearchHighlight {
                post_id: id.to_string().into(),
                html,
            })
            .collect(),
        posts,
        hashtags,
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            end_cursor: page.end_cursor,
        },
    })
}
