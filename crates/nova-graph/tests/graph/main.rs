//! The graph conformance suite: the same cases on SQLite, PostgreSQL, through gRPC (on
//! SQLite), through the in-process read cache (on SQLite), on FalkorDB (feature `cypher`; `NOVA_TEST_FALKORDB_URL`, started by
//! `cargo xtask test`) and on Neo4j (feature `neo4j`) when `NOVA_TEST_NEO4J_URI` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod cases;
mod harness;
mod sql_only;

macro_rules! graph_suite {
    ($($case:ident),+ $(,)?) => {
        mod sql_suite {
            $(
                pub async fn $case(db: nova_db::Db) {
                    crate::cases::$case(crate::harness::sql(db)).await;
                }
            )+
        }
        nova_testkit::db_conformance_suite!(sql_suite: $($case),+);

        /// The same cases through the gRPC server and client, on SQLite.
        mod grpc {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = nova_testkit::sqlite().await;
                    let harness = crate::harness::grpc(backend.db().clone()).await;
                    crate::cases::$case(harness).await;
                }
            )+
        }

        /// The same cases through the in-process read cache, on SQLite (the `nova`
        /// all-in-one's store): a cached answer must never differ from the store's.
        mod cached {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = nova_testkit::sqlite().await;
                    crate::cases::$case(crate::harness::cached(backend.db().clone())).await;
                }
            )+
        }

        #[cfg(feature = "cypher")]
        mod falkordb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(harness) = crate::harness::falkordb().await else { return };
                    crate::cases::$case(harness).await;
                }
            )+
        }

        #[cfg(feature = "neo4j")]
        mod neo4j {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(harness) = crate::harness::neo4j().await else { return };
                    crate::cases::$case(harness).await;
                }
            )+
        }
    };
}

graph_suite!(
    follow_and_unfollow_keep_counts_and_emit_events,
    block_removes_follows_both_ways_and_forbids_following,
    mutes_expire_and_may_cover_reposts_only,
    batch_lookups_answer_in_order,
    lists_page_newest_first_with_cursors,
    suggestions_rank_friends_of_friends,
    concurrent_writes_keep_counts_exact,
    follows_racing_blocks_never_cross_a_block,
);
