//! What only the OpenSearch engine does, against the server of `NOVA_TEST_OPENSEARCH_URL`
//! (osmem-server under `cargo xtask test`): explicit mappings, deep pages through
//! `search_after`, and the alias-swapped rebuild with writes arriving while it runs.

#![cfg(feature = "opensearch")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use nova_core::{PostId, UserId};
use nova_search::engine::{OpenSearchConfig, OpenSearchEngine, PostQuery, ViewerFilter};
use nova_search::{Change, PostDoc, PostVisibility, SearchEngine};
use serde_json::Value;

async fn engine() -> Option<OpenSearchEngine> {
    let url = nova_testkit::opensearch_url()?;
    Some(
        connect(
            &url,
            &format!("nova-test-{}", uuid::Uuid::new_v4().simple()),
        )
        .await,
    )
}

async fn connect(url: &str, alias: &str) -> OpenSearchEngine {
    let config = OpenSearchConfig {
        url: url.to_owned(),
        credentials: None,
        alias: alias.to_owned(),
    };
    OpenSearchEngine::connect(config).await.unwrap()
}

fn post(text: &str, likes: i64) -> PostDoc {
    PostDoc {
        id: PostId::new(),
        author_id: UserId::new(),
        text: text.into(),
        hashtags: vec![],
        mentions: vec![],
        mention_ids: vec![],
        language: Some("en".into()),
        visibility: PostVisibility::Public,
        author_private: false,
        has_media: false,
        created_at: Utc::now() - Duration::hours(1),
        like_count: likes,
        repost_count: 0,
    }
}

async fn ids(engine: &dyn SearchEngine, q: &str, offset: usize, limit: usize) -> Vec<PostId> {
    let query = PostQuery {
        parsed: nova_search::query::parse(q).unwrap(),
        authors: vec![],
        viewer: ViewerFilter::Anonymous,
        now: Utc::now(),
    };
    engine
        .posts(query, offset, limit)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_index_has_explicit_strict_mappings_and_the_text_analyzer() {
    let Some(engine) = engine().await else {
        return;
    };
    let url = nova_testkit::opensearch_url().unwrap();
    let index = engine.alias_indices().await.unwrap().pop().unwrap();
    assert!(index.starts_with(&format!("{}-", engine.alias())));
    let mapping = get(&format!("{url}/{index}/_mapping")).await;
    let props = &mapping[&index]["mappings"];
    assert_eq!(props["dynamic"], "strict", "{mapping}");
    assert_eq!(props["properties"]["text"]["analyzer"], "nova_text");
    assert_eq!(props["properties"]["tags"]["type"], "keyword");
    // A document with a field the mapping lacks is refused, not silently mapped.
    let client = reqwest::Client::new();
    let refused = client
        .put(format!("{url}/{index}/_doc/x"))
        .json(&serde_json::json!({"surprise": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    engine.delete_indices().await.unwrap();
}

#[tokio::test]
async fn deep_pages_are_walked_with_search_after() {
    let Some(engine) = engine().await else {
        return;
    };
    // Ranks past 2 are read with search_after (the default window is 10,000).
    let walking = engine.clone().with_window(2);
    let posts: Vec<PostDoc> = (0..9).map(|i| post("deep paging words", i * 7)).collect();
    engine
        .apply(posts.iter().cloned().map(Change::UpsertPost).collect())
        .await
        .unwrap();
    let expected: Vec<PostId> = posts.iter().rev().map(|p| p.id).collect();
    let mut paged = Vec::new();
    for offset in (0..9).step_by(2) {
        paged.extend(ids(&walking, "deep paging", offset, 2).await);
    }
    assert_eq!(paged, expected);
    assert_eq!(ids(&walking, "paging", 4, 10).await, expected[4..].to_vec());
    assert!(ids(&walking, "paging", 9, 3).await.is_empty());
    engine.delete_indices().await.unwrap();
}

#[tokio::test]
async fn a_rebuild_swaps_the_alias_and_keeps_writes_made_meanwhile() {
    let Some(engine) = engine().await else {
        return;
    };
    let stale = post("stale rebuild words", 0);
    let kept = post("kept rebuild words", 0);
    engine
        .apply(vec![
            Change::UpsertPost(stale.clone()),
            Change::UpsertPost(kept.clone()),
        ])
        .await
        .unwrap();
    let before = engine.alias_indices().await.unwrap();
    // The serving process: another engine on the same alias, as a running server has.
    let url = nova_testkit::opensearch_url().unwrap();
    let server = connect(&url, engine.alias()).await;
    let concurrent = post("concurrent rebuild words", 0);
    let source_kept = kept.clone();
    let new_index = engine
        .rebuild(|rebuild| {
            let engine = server.clone();
            let concurrent = concurrent.clone();
            let kept = source_kept.clone();
            async move {
                // The source of truth holds `kept` (edited) but no longer `stale`.
                let mut edited = kept.clone();
                edited.text = "kept rebuild words edited".into();
                rebuild.apply(vec![Change::UpsertPost(edited)]).await?;
                // Searches still see the old index while the new one fills.
                assert_eq!(ids(&engine, "stale", 0, 10).await.len(), 1);
                // A write the server makes now reaches both indices.
                engine.apply(vec![Change::UpsertPost(concurrent)]).await?;
                Ok(())
            }
        })
        .await
        .unwrap();
    let after = engine.alias_indices().await.unwrap();
    assert_eq!(after, vec![new_index.clone()]);
    assert!(!before.contains(&new_index));
    // The old index is gone, the new one holds exactly the rebuilt documents.
    let old = reqwest::get(format!("{url}/{}", before[0])).await.unwrap();
    assert_eq!(old.status().as_u16(), 404);
    assert!(ids(&engine, "stale", 0, 10).await.is_empty());
    assert_eq!(ids(&engine, "edited", 0, 10).await, vec![kept.id]);
    assert_eq!(ids(&engine, "concurrent", 0, 10).await, vec![concurrent.id]);
    assert_eq!(ids(&server, "concurrent", 0, 10).await, vec![concurrent.id]);
    assert_eq!(engine.counts().await.unwrap(), (2, 0));
    // A failed fill leaves the alias where it was and removes the half-built index.
    let failed = engine
        .rebuild(|_| async { Err(nova_core::Error::internal("source unreachable")) })
        .await;
    assert!(failed.is_err());
    assert_eq!(engine.alias_indices().await.unwrap(), vec![new_index]);
    assert_eq!(engine.counts().await.unwrap(), (2, 0));
    engine.delete_indices().await.unwrap();
}
