//! The engine conformance suite: relevance (typos, phrases, operators, CJK text, boosts,
//! highlights), users and hashtags by prefix, the in-engine viewer filter and idempotent
//! writes, run on every engine: `tantivy::*` on the embedded index, `opensearch::*` on
//! the server of `NOVA_TEST_OPENSEARCH_URL` (osmem-server under `cargo xtask test`;
//! feature `opensearch`). Each OpenSearch test works in its own alias and deletes it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use nova_core::{PostId, Timestamp, UserId};
use nova_search::engine::{PostQuery, ViewerFilter};
use nova_search::{Change, PostDoc, PostVisibility, SearchEngine, TantivyEngine, UserDoc};

/// Runs each suite function on every engine.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod tantivy {
            $(
                #[tokio::test]
                async fn $name() {
                    let engine = nova_search::TantivyEngine::in_memory().unwrap();
                    super::suite::$name(&engine).await;
                }
            )*
        }
        #[cfg(feature = "opensearch")]
        mod opensearch {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(engine) = super::opensearch_engine().await else {
                        return;
                    };
                    super::suite::$name(&engine).await;
                    engine.delete_indices().await.unwrap();
                }
            )*
        }
    };
}

conformance!(
    typos_find_the_words_meant,
    quoted_phrases_match_in_order_only,
    operators_filter_by_author_tag_mention_language_date_and_media,
    chinese_and_japanese_text_is_findable_without_spaces,
    a_popular_recent_post_outranks_an_old_one_for_the_same_match,
    highlights_mark_the_matched_words,
    the_engine_filter_keeps_non_public_posts_from_anonymous_viewers,
    users_by_prefix_and_typo_and_not_findable_ones_never,
    hashtags_by_prefix_count_only_public_posts_of_public_accounts,
    upserts_replace_deletes_remove_and_replays_change_nothing,
    pages_follow_each_other_without_gaps_or_repeats,
);

/// An engine on the test OpenSearch server, in an alias of its own.
#[cfg(feature = "opensearch")]
async fn opensearch_engine() -> Option<nova_search::engine::OpenSearchEngine> {
    let url = nova_testkit::opensearch_url()?;
    let alias = format!("nova-test-{}", uuid::Uuid::new_v4().simple());
    let config = nova_search::engine::OpenSearchConfig {
        url,
        credentials: None,
        alias,
    };
    Some(
        nova_search::engine::OpenSearchEngine::connect(config)
            .await
            .expect("the OpenSearch server of NOVA_TEST_OPENSEARCH_URL answers"),
    )
}

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn post(author: UserId, text: &str) -> PostDoc {
    PostDoc {
        id: PostId::new(),
        author_id: author,
        text: text.into(),
        hashtags: text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix('#'))
            .map(str::to_lowercase)
            .collect(),
        mentions: text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix('@'))
            .map(str::to_lowercase)
            .collect(),
        mention_ids: vec![],
        language: Some("en".into()),
        visibility: PostVisibility::Public,
        author_private: false,
        has_media: false,
        created_at: now() - Duration::hours(1),
        like_count: 0,
        repost_count: 0,
    }
}

fn user(name: &str, display: &str, bio: &str) -> UserDoc {
    UserDoc {
        id: UserId::new(),
        username: name.into(),
        display_name: display.into(),
        bio: bio.into(),
        private_account: false,
        discoverable: true,
    }
}

async fn find(engine: &dyn SearchEngine, q: &str) -> Vec<PostId> {
    find_as(engine, q, ViewerFilter::Anonymous).await
}

async fn find_as(engine: &dyn SearchEngine, q: &str, viewer: ViewerFilter) -> Vec<PostId> {
    let parsed = nova_search::query::parse(q).unwrap();
    let authors = engine.user_ids(&parsed.from).await.unwrap();
    let query = PostQuery {
        parsed,
        authors,
        viewer,
        now: now(),
    };
    engine
        .posts(query, 0, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

mod suite {
    use super::*;

    pub async fn typos_find_the_words_meant(engine: &dyn SearchEngine) {
        let a = UserId::new();
        let rust = post(a, "Rust async is great for network services");
        let python = post(a, "Python asyncio event loops");
        engine
            .apply(vec![
                Change::UpsertPost(rust.clone()),
                Change::UpsertPost(python.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(find(engine, "rsut async").await, vec![rust.id]);
        // Two edits on a long word.
        assert_eq!(find(engine, "netwrok servics").await, vec![rust.id]);
        // Short words get no typo tolerance: "rsu" is not "rust".
        assert!(find(engine, "rsu").await.is_empty());
        // Every word must match.
        assert!(find(engine, "rust asyncio").await.is_empty());
    }

    pub async fn quoted_phrases_match_in_order_only(engine: &dyn SearchEngine) {
        let a = UserId::new();
        let ordered = post(a, "the quick brown fox");
        let shuffled = post(a, "brown quick foxes everywhere");
        engine
            .apply(vec![
                Change::UpsertPost(ordered.clone()),
                Change::UpsertPost(shuffled.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(find(engine, "\"quick brown\"").await, vec![ordered.id]);
        let both = find(engine, "quick brown").await;
        assert_eq!(both.len(), 2);
    }

    pub async fn operators_filter_by_author_tag_mention_language_date_and_media(
        engine: &dyn SearchEngine,
    ) {
        let ada = user("ada", "Ada Lovelace", "first programmer");
        let grace = user("grace", "Grace Hopper", "compilers");
        let mut tagged = post(ada.id, "Shipping #RustLang today with @grace");
        tagged.created_at = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let mut french = post(grace.id, "Bonjour #rustlang");
        french.language = Some("fr".into());
        french.has_media = true;
        french.created_at = Utc.with_ymd_and_hms(2026, 4, 10, 9, 0, 0).unwrap();
        engine
            .apply(vec![
                Change::UpsertUser(ada.clone()),
                Change::UpsertUser(grace.clone()),
                Change::UpsertPost(tagged.clone()),
                Change::UpsertPost(french.clone()),
            ])
            .await
            .unwrap();
        let mut both = find(engine, "#rustlang").await;
        both.sort();
        let mut expected = vec![tagged.id, french.id];
        expected.sort();
        assert_eq!(both, expected);
        assert_eq!(find(engine, "#rustlang from:Ada").await, vec![tagged.id]);
        assert_eq!(find(engine, "from:@grace").await, vec![french.id]);
        assert!(find(engine, "from:nobody").await.is_empty());
        assert_eq!(find(engine, "@grace").await, vec![tagged.id]);
        assert_eq!(find(engine, "#rustlang lang:fr").await, vec![french.id]);
        assert_eq!(
            find(engine, "#rustlang before:2026-04-01").await,
            vec![tagged.id]
        );
        assert_eq!(
            find(engine, "#rustlang after:2026-04-01").await,
            vec![french.id]
        );
        assert_eq!(find(engine, "#rustlang has:media").await, vec![french.id]);
    }

    pub async fn chinese_and_japanese_text_is_findable_without_spaces(engine: &dyn SearchEngine) {
        let a = UserId::new();
        let zh = post(a, "我们今天在北京学习Rust编程语言");
        let ja = post(a, "東京タワーの夜景がきれいです");
        engine
            .apply(vec![
                Change::UpsertPost(zh.clone()),
                Change::UpsertPost(ja.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(find(engine, "北京").await, vec![zh.id]);
        assert_eq!(find(engine, "编程语言").await, vec![zh.id]);
        assert_eq!(find(engine, "東京タワー").await, vec![ja.id]);
        assert_eq!(find(engine, "夜景").await, vec![ja.id]);
        assert!(find(engine, "上海").await.is_empty());
    }

    pub async fn a_popular_recent_post_outranks_an_old_one_for_the_same_match(
        engine: &dyn SearchEngine,
    ) {
        let a = UserId::new();
        let mut old = post(a, "Kubernetes operators in Rust");
        old.created_at = now() - Duration::days(400);
        let mut fresh = post(a, "Kubernetes operators in Rust");
        fresh.created_at = now() - Duration::hours(2);
        fresh.like_count = 120;
        fresh.repost_count = 30;
        let mut fresh_quiet = post(a, "Kubernetes operators in Rust");
        fresh_quiet.created_at = now() - Duration::hours(2);
        engine
            .apply(vec![
                Change::UpsertPost(old.clone()),
                Change::UpsertPost(fresh.clone()),
                Change::UpsertPost(fresh_quiet.clone()),
            ])
            .await
            .unwrap();
        assert_eq!(
            find(engine, "kubernetes operators").await,
            vec![fresh.id, fresh_quiet.id, old.id]
        );
    }

    pub async fn highlights_mark_the_matched_words(engine: &dyn SearchEngine) {
        let a = UserId::new();
        let p = post(a, "Notes on <script> and async Rust");
        engine
            .apply(vec![Change::UpsertPost(p.clone())])
            .await
            .unwrap();
        let query = PostQuery {
            parsed: nova_search::query::parse("async").unwrap(),
            authors: vec![],
            viewer: ViewerFilter::Anonymous,
            now: now(),
        };
        let hits = engine.posts(query, 0, 10).await.unwrap();
        assert!(
            hits[0].highlight.contains("<b>async</b>"),
            "{}",
            hits[0].highlight
        );
        assert!(
            hits[0].highlight.contains("&lt;script&gt;"),
            "{}",
            hits[0].highlight
        );
    }

    pub async fn the_engine_filter_keeps_non_public_posts_from_anonymous_viewers(
        engine: &dyn SearchEngine,
    ) {
        let (author, reader, mentioned) = (UserId::new(), UserId::new(), UserId::new());
        let public = post(author, "release notes");
        let mut followers = post(author, "release notes for followers");
        followers.visibility = PostVisibility::Followers;
        let mut direct = post(author, "release notes for one");
        direct.visibility = PostVisibility::Mentioned;
        direct.mention_ids = vec![mentioned];
        let mut private_author = post(UserId::new(), "release notes locked");
        private_author.author_private = true;
        engine
            .apply(
                [&public, &followers, &direct, &private_author]
                    .into_iter()
                    .map(|p| Change::UpsertPost(p.clone()))
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(find(engine, "release").await, vec![public.id]);
        let as_reader = find_as(engine, "release", ViewerFilter::User(reader)).await;
        assert!(!as_reader.contains(&direct.id));
        assert!(as_reader.contains(&followers.id));
        let as_mentioned = find_as(engine, "release", ViewerFilter::User(mentioned)).await;
        assert!(as_mentioned.contains(&direct.id));
        let as_author = find_as(engine, "release", ViewerFilter::User(author)).await;
        assert!(as_author.contains(&direct.id));
    }

    pub async fn users_by_prefix_and_typo_and_not_findable_ones_never(engine: &dyn SearchEngine) {
        let ada = user("ada_lovelace", "Ada Lovelace", "Analytical engine notes");
        let adam = user("adam", "Adam Smith", "economics");
        let mut hidden = user("adalbert", "Adalbert", "prefers not to be found");
        hidden.discoverable = false;
        engine
            .apply(vec![
                Change::UpsertUser(ada.clone()),
                Change::UpsertUser(adam.clone()),
                Change::UpsertUser(hidden.clone()),
            ])
            .await
            .unwrap();
        let ids =
            |hits: Vec<nova_search::UserHit>| hits.into_iter().map(|h| h.id).collect::<Vec<_>>();
        let mut prefix = ids(engine.users("ada", 0, 10).await.unwrap());
        prefix.sort();
        let mut expected = vec![ada.id, adam.id];
        expected.sort();
        assert_eq!(prefix, expected);
        assert_eq!(
            ids(engine.users("lovel", 0, 10).await.unwrap()),
            vec![ada.id]
        );
        assert_eq!(
            ids(engine.users("lovleace", 0, 10).await.unwrap()),
            vec![ada.id]
        );
        assert_eq!(ids(engine.users("@adam", 0, 10).await.unwrap())[0], adam.id);
        assert!(ids(engine.users("adalb", 0, 10).await.unwrap()).is_empty());
        // `from:` still resolves an account that is not findable.
        assert_eq!(
            engine.user_ids(&["ADALBERT".into()]).await.unwrap(),
            vec![hidden.id]
        );
    }

    pub async fn hashtags_by_prefix_count_only_public_posts_of_public_accounts(
        engine: &dyn SearchEngine,
    ) {
        let a = UserId::new();
        let mut posts = vec![
            post(a, "#rustlang one"),
            post(a, "#rustlang two"),
            post(a, "#rustconf"),
            post(a, "#python"),
        ];
        let mut followers = post(a, "#rustsecret");
        followers.visibility = PostVisibility::Followers;
        let mut locked = post(a, "#rustlocked #rustlang");
        locked.author_private = true;
        posts.push(followers);
        posts.push(locked);
        engine
            .apply(posts.iter().cloned().map(Change::UpsertPost).collect())
            .await
            .unwrap();
        let tags = engine.hashtags("#Rust", 0, 10).await.unwrap();
        let got: Vec<(String, u64)> = tags.into_iter().map(|t| (t.name, t.usage_count)).collect();
        assert_eq!(got, vec![("rustlang".into(), 2), ("rustconf".into(), 1)]);
        // A deleted post no longer counts.
        engine
            .apply(vec![Change::DeletePost(posts[0].id)])
            .await
            .unwrap();
        let tags = engine.hashtags("rustl", 0, 10).await.unwrap();
        assert_eq!(tags[0].usage_count, 1);
    }

    pub async fn upserts_replace_deletes_remove_and_replays_change_nothing(
        engine: &dyn SearchEngine,
    ) {
        let a = UserId::new();
        let mut p = post(a, "first draft about tantivy");
        let other = post(a, "another tantivy post");
        let batch = vec![
            Change::UpsertPost(p.clone()),
            Change::UpsertPost(other.clone()),
        ];
        engine.apply(batch.clone()).await.unwrap();
        engine.apply(batch).await.unwrap();
        assert_eq!(engine.counts().await.unwrap().0, 2);
        p.text = "second version about lucene".into();
        engine
            .apply(vec![Change::UpsertPost(p.clone())])
            .await
            .unwrap();
        assert_eq!(find(engine, "tantivy").await, vec![other.id]);
        assert_eq!(find(engine, "lucene").await, vec![p.id]);
        engine
            .apply(vec![Change::DeleteAuthorPosts(a)])
            .await
            .unwrap();
        assert!(find(engine, "lucene").await.is_empty());
        assert_eq!(engine.counts().await.unwrap().0, 0);
    }

    pub async fn pages_follow_each_other_without_gaps_or_repeats(engine: &dyn SearchEngine) {
        let a = UserId::new();
        // Distinct engagement: distinct scores, one true order.
        let posts: Vec<PostDoc> = (0..7)
            .map(|i| {
                let mut p = post(a, "paging through search results");
                p.like_count = i * 10;
                p
            })
            .collect();
        engine
            .apply(posts.iter().cloned().map(Change::UpsertPost).collect())
            .await
            .unwrap();
        let query = || PostQuery {
            parsed: nova_search::query::parse("paging").unwrap(),
            authors: vec![],
            viewer: ViewerFilter::Anonymous,
            now: now(),
        };
        let mut paged = Vec::new();
        for offset in (0..8).step_by(3) {
            let page = engine.posts(query(), offset, 3).await.unwrap();
            paged.extend(page.into_iter().map(|h| h.id));
        }
        let expected: Vec<PostId> = posts.iter().rev().map(|p| p.id).collect();
        assert_eq!(paged, expected);
        assert!(engine.posts(query(), 7, 3).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_index_on_disk_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = post(UserId::new(), "persistent words");
    {
        let engine = TantivyEngine::open(dir.path()).unwrap();
        engine
            .apply(vec![Change::UpsertPost(p.clone())])
            .await
            .unwrap();
    }
    let engine = TantivyEngine::open(dir.path()).unwrap();
    assert_eq!(find(&engine, "persistent").await, vec![p.id]);
}
