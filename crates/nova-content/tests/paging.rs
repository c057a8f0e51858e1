//! Property: paging an author's timeline while new posts keep arriving — concurrently,
//! between and during page reads — never repeats a post and never skips one that existed
//! when paging started.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use nova_content::store::{SqlContentStore, TimelineKind};
use nova_content::{ContentApi, ContentService, NewPost, SocialAudience};
use nova_core::cursor::CursorCodec;
use nova_core::{PostId, SystemClock};
use nova_graph::{GraphService, SqlGraphStore};
use nova_social::SocialService;
use nova_social::store::SqlSocialStore;
use nova_user::UserService;
use nova_user::store::SqlUserStore;
use proptest::prelude::*;

fn run(initial: usize, page_size: u32, writers: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let backend = nova_testkit::sqlite().await;
        let db = backend.db().clone();
        let cursors = CursorCodec::new(b"test key, long enough for hmac!!");
        let graph = Arc::new(GraphService::new(
            Arc::new(SqlGraphStore::new(db.clone())),
            SystemClock::shared(),
            cursors.clone(),
        ));
        let users = Arc::new(UserService::new(Arc::new(SqlUserStore::new(db.clone()))));
        let social = Arc::new(SocialService::new(
            graph.clone(),
            users.clone(),
            Arc::new(SqlSocialStore::new(db.clone())),
        ));
        let content = Arc::new(ContentService::new(
            Arc::new(SqlContentStore::new(db.clone())),
            Arc::new(SocialAudience::new(social, graph, users)),
            cursors,
        ));
        let author = nova_identity::fixtures::account(&db, "pager")
            .await
            .unwrap();
        let mut existing = Vec::new();
        for i in 0..initial {
            existing.push(
                content
                    .create_post(
                        &author,
                        NewPost {
                            text: format!("p{i}"),
                            ..NewPost::default()
                        },
                    )
                    .await
                    .unwrap()
                    .id,
            );
        }
        existing.reverse();
        // Writers keep posting while the reader pages.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let (content, author, stop) = (content.clone(), author.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 50 {
                        content
                            .create_post(
                                &author,
                                NewPost {
                                    text: format!("w{w}-{n}"),
                                    ..NewPost::default()
                                },
                            )
                            .await
                            .unwrap();
                        n += 1;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let (mut seen, mut after): (Vec<PostId>, Option<String>) = (Vec::new(), None);
        loop {
            let page = content
                .author_timeline(
                    None,
                    author.user_id,
                    TimelineKind::Posts,
                    page_size,
                    after.as_deref(),
                )
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|p| p.id));
            if !page.has_next_page {
                break;
            }
            after = page.end_cursor;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "a post appeared twice");
        let older: Vec<PostId> = seen
            .iter()
            .copied()
            .filter(|id| existing.contains(id))
            .collect();
        assert_eq!(
            older, existing,
            "a post that existed was skipped or reordered"
        );
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn paging_while_posts_arrive_has_no_gaps_or_duplicates(initial in 0usize..40, page_size in 1u32..9, writers in 0usize..3) {
        run(initial, page_size, writers);
    }
}
