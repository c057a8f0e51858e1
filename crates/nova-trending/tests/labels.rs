//! Labels of trending entities, on SQLite and PostgreSQL: recorded from the domains'
//! events, first spelling wins, redelivery is harmless, lookups keep the caller's order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nova_db::Db;
use nova_events::{EventEnvelope, EventHandler};
use nova_proto::nova::content::v1 as content;
use nova_trending::EntityKey;
use nova_trending::labels::{LabelRecorder, TrendLabelStore};
use prost::Message;
use uuid::Uuid;

fn like(tags: &[&str]) -> EventEnvelope {
    let payload = content::LikeChanged {
        post_id: Uuid::now_v7().to_string(),
        post_author_id: Uuid::now_v7().to_string(),
        user_id: Uuid::now_v7().to_string(),
        hashtags: tags.iter().map(|t| (*t).to_owned()).collect(),
        language: "en".into(),
        visibility: "public".into(),
    };
    EventEnvelope::new(
        "like.created",
        payload.post_id.clone(),
        chrono::Utc::now(),
        payload.encode_to_vec(),
    )
}

mod suite {
    use super::*;

    pub async fn recorded_labels_answer_in_order(db: Db) {
        let recorder = LabelRecorder::new(TrendLabelStore::new(db.clone()));
        recorder.handle(&like(&["RustLang", "nova"])).await.unwrap();
        // Redelivery and another spelling of the same tag change nothing.
        recorder.handle(&like(&["RustLang", "nova"])).await.unwrap();
        recorder.handle(&like(&["rustlang"])).await.unwrap();
        // A fresh store (another replica) sees what the first one stored.
        let labels = TrendLabelStore::new(db);
        let found = labels
            .labels(&[
                EntityKey::hashtag("nova"),
                EntityKey::hashtag("unknown"),
                EntityKey::hashtag("rustlang"),
                EntityKey::post(Uuid::now_v7()),
            ])
            .await
            .unwrap();
        assert_eq!(
            found,
            vec![
                Some("nova".to_owned()),
                None,
                Some("RustLang".to_owned()),
                None
            ]
        );
        assert!(labels.labels(&[]).await.unwrap().is_empty());
        let too_many = vec![EntityKey::hashtag("x"); 501];
        assert!(labels.labels(&too_many).await.is_err());
    }

    pub async fn events_without_tags_and_other_events_store_nothing(db: Db) {
        let recorder = LabelRecorder::new(TrendLabelStore::new(db.clone()));
        recorder.handle(&like(&[])).await.unwrap();
        let other = EventEnvelope::new("user.registered", "x", chrono::Utc::now(), vec![]);
        recorder.handle(&other).await.unwrap();
        let garbage = EventEnvelope::new("like.created", "x", chrono::Utc::now(), vec![0xff; 3]);
        assert!(recorder.handle(&garbage).await.is_err());
        let found = TrendLabelStore::new(db)
            .labels(&[EntityKey::hashtag("")])
            .await
            .unwrap();
        assert_eq!(found, vec![None]);
    }
}

nova_testkit::db_conformance_suite!(
    suite: recorded_labels_answer_in_order,
    events_without_tags_and_other_events_store_nothing
);
