//! Every migration applies to an empty database of each engine, and applying them again
//! (another replica starting) is a no-op.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod suite {
    use nova_db::Db;

    pub async fn all_migrations_apply_and_are_idempotent(db: Db) {
        // nova-testkit already migrated `db`; a second run must change nothing.
        db.migrate().await.unwrap();
        assert!(!db.migrations().is_empty());
        let applied: i64 = match &db {
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(pool)
                    .await
                    .unwrap()
            }
            Db::Sqlite(s) => {
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&s.reader)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(applied as usize, db.migrations().len());
    }

    pub async fn concurrent_migrations_are_serialized(db: Db) {
        // Replicas starting together: the advisory lock (PostgreSQL) / single writer
        // (SQLite) makes concurrent runs safe.
        let runs = (0..4).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.migrate().await })
        });
        for run in runs {
            run.await.unwrap().unwrap();
        }
    }
}

nova_testkit::db_conformance_suite!(suite: all_migrations_apply_and_are_idempotent, concurrent_migrations_are_serialized);

#[tokio::test]
async fn migrations_apply_to_a_private_in_memory_sqlite() {
    let db = nova_db::Db::connect("sqlite::memory:", &nova_db::DbOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
}
