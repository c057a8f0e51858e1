//! The media store conformance suite, on SQLite and PostgreSQL.

use chrono::{TimeZone, Utc};
use nova_core::{Timestamp, UserId};
use nova_media::store::{Completed, MediaStore, SqlMediaStore};
use nova_media::{FocalPoint, Media, MediaId, MediaKind, MediaState, Variant};

fn at(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn pending(owner: UserId, created: Timestamp) -> Media {
    Media {
        id: MediaId::new(),
        owner_id: owner,
        kind: MediaKind::Image,
        mime: "image/png".into(),
        state: MediaState::Pending,
        failure: None,
        size_bytes: 1234,
        original_key: None,
        variants: Vec::new(),
        width: None,
        height: None,
        duration_ms: None,
        blurhash: None,
        phash: None,
        alt_text: String::new(),
        focus: None,
        created_at: created,
        updated_at: created,
        attached_to: None,
    }
}

fn done() -> Completed {
    Completed {
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        variants: vec![Variant {
            name: "small".into(),
            format: "webp".into(),
            width: 640,
            height: 480,
            size_bytes: 999,
            key: "v/x/small.webp".into(),
            url: Some("never stored".into()),
        }],
        blurhash: Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj".into()),
        phash: Some("0123456789abcdef".into()),
        original_key: None,
    }
}

async fn ready(store: &SqlMediaStore, owner: UserId, created: Timestamp) -> Media {
    let m = pending(owner, created);
    store.insert(&m).await.unwrap();
    assert!(
        store
            .transition(m.id, MediaState::Pending, MediaState::Processing, created)
            .await
            .unwrap()
    );
    assert!(store.complete(m.id, &done(), created).await.unwrap());
    store.get(m.id).await.unwrap().unwrap()
}

mod suite {
    use super::*;

    pub async fn round_trips_every_field(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let mut m = pending(UserId::new(), at(0));
        m.kind = MediaKind::Video;
        m.mime = "video/mp4".into();
        m.original_key = Some("o/abc".into());
        m.duration_ms = Some(12_345);
        m.alt_text = "a cat, «on a mat» 🐈".into();
        m.focus = Some(FocalPoint { x: -0.5, y: 0.25 });
        store.insert(&m).await.unwrap();
        assert_eq!(store.get(m.id).await.unwrap().unwrap(), m);
        assert_eq!(store.get(MediaId::new()).await.unwrap(), None);
    }

    pub async fn states_move_forward_only(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let m = pending(UserId::new(), at(0));
        store.insert(&m).await.unwrap();
        // Not processing yet: cannot complete.
        assert!(!store.complete(m.id, &done(), at(1)).await.unwrap());
        assert!(
            store
                .transition(m.id, MediaState::Pending, MediaState::Processing, at(1))
                .await
                .unwrap()
        );
        // Twice: the second finds it no longer pending.
        assert!(
            !store
                .transition(m.id, MediaState::Pending, MediaState::Processing, at(1))
                .await
                .unwrap()
        );
        assert!(store.complete(m.id, &done(), at(2)).await.unwrap());
        let got = store.get(m.id).await.unwrap().unwrap();
        assert_eq!(got.state, MediaState::Ready);
        assert_eq!((got.width, got.height), (Some(640), Some(480)));
        assert_eq!(got.variants.len(), 1);
        assert_eq!(
            got.variants[0].url, None,
            "URLs are minted per read, never stored"
        );
        assert_eq!(got.phash.as_deref(), Some("0123456789abcdef"));
        assert_eq!(got.updated_at, at(2));
        // Ready is final: it cannot fail any more.
        assert!(!store.fail(m.id, "late", at(3)).await.unwrap());
        assert!(
            store
                .transition(m.id, MediaState::Ready, MediaState::Processing, at(3))
                .await
                .is_err()
        );

        let f = pending(UserId::new(), at(0));
        store.insert(&f).await.unwrap();
        assert!(
            store
                .fail(f.id, "the decoder said no", at(4))
                .await
                .unwrap()
        );
        let got = store.get(f.id).await.unwrap().unwrap();
        assert_eq!(got.state, MediaState::Failed);
        assert_eq!(got.failure.as_deref(), Some("the decoder said no"));
    }

    pub async fn only_the_owner_describes_or_deletes(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let (owner, other) = (UserId::new(), UserId::new());
        let m = pending(owner, at(0));
        store.insert(&m).await.unwrap();
        assert_eq!(
            store
                .describe(m.id, other, Some("mine now"), None, at(1))
                .await
                .unwrap(),
            None
        );
        let got = store
            .describe(m.id, owner, Some("a harbour at dusk"), None, at(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.alt_text, "a harbour at dusk");
        assert_eq!(got.focus, None);
        // Only the focus: the alt text stays.
        let focus = FocalPoint { x: 0.1, y: -0.9 };
        let got = store
            .describe(m.id, owner, None, Some(focus), at(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.alt_text.as_str(), got.focus),
            ("a harbour at dusk", Some(focus))
        );

        assert_eq!(store.delete(m.id, other).await.unwrap(), None);
        assert!(store.get(m.id).await.unwrap().is_some());
        assert_eq!(store.delete(m.id, owner).await.unwrap().unwrap().id, m.id);
        assert_eq!(store.get(m.id).await.unwrap(), None);
        assert_eq!(store.delete(m.id, owner).await.unwrap(), None);
    }

    pub async fn get_many_leaves_out_the_missing(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let owner = UserId::new();
        let a = ready(&store, owner, at(0)).await;
        let b = ready(&store, owner, at(1)).await;
        let mut got: Vec<MediaId> = store
            .get_many(&[b.id, MediaId::new(), a.id])
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        got.sort();
        let mut want = vec![a.id, b.id];
        want.sort();
        assert_eq!(got, want);
        assert!(store.get_many(&[]).await.unwrap().is_empty());
    }

    pub async fn attach_is_all_or_nothing(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let (owner, other) = (UserId::new(), UserId::new());
        let a = ready(&store, owner, at(0)).await;
        let b = ready(&store, owner, at(0)).await;
        let theirs = ready(&store, other, at(0)).await;
        let not_ready = pending(owner, at(0));
        store.insert(&not_ready).await.unwrap();

        // Someone else's, or a pending one, spoils the whole batch.
        assert!(
            !store
                .attach(&[a.id, theirs.id], owner, "post:1", at(1))
                .await
                .unwrap()
        );
        assert!(
            !store
                .attach(&[a.id, not_ready.id], owner, "post:1", at(1))
                .await
                .unwrap()
        );
        assert_eq!(store.get(a.id).await.unwrap().unwrap().attached_to, None);

        assert!(
            store
                .attach(&[a.id, b.id, a.id], owner, "post:1", at(1))
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .get(b.id)
                .await
                .unwrap()
                .unwrap()
                .attached_to
                .as_deref(),
            Some("post:1")
        );
        // Already used: not again, except by the same target (a retry).
        assert!(!store.attach(&[a.id], owner, "post:2", at(2)).await.unwrap());
        assert!(store.attach(&[a.id], owner, "post:1", at(2)).await.unwrap());
    }

    pub async fn unattached_uploads_are_found_oldest_first(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let owner = UserId::new();
        let old = ready(&store, owner, at(0)).await;
        let older = ready(&store, owner, at(-10)).await;
        let used = ready(&store, owner, at(-20)).await;
        let fresh = ready(&store, owner, at(100)).await;
        assert!(
            store
                .attach(&[used.id], owner, "post:1", at(1))
                .await
                .unwrap()
        );

        let found: Vec<MediaId> = store
            .unattached_before(at(50), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(found, vec![older.id, old.id]);
        assert_eq!(store.unattached_before(at(50), 1).await.unwrap().len(), 1);

        assert!(store.remove_unattached(old.id).await.unwrap());
        assert!(
            !store.remove_unattached(used.id).await.unwrap(),
            "attached stays"
        );
        assert!(store.get(used.id).await.unwrap().is_some());
        assert!(store.get(fresh.id).await.unwrap().is_some());
    }

    pub async fn a_targets_or_an_owners_uploads_are_removed_together(db: nova_db::Db) {
        let store = SqlMediaStore::new(db);
        let (owner, other) = (UserId::new(), UserId::new());
        let a = ready(&store, owner, at(0)).await;
        let b = ready(&store, owner, at(0)).await;
        let elsewhere = ready(&store, owner, at(0)).await;
        let theirs = ready(&store, other, at(0)).await;
        assert!(
            store
                .attach(&[a.id, b.id], owner, "post:1", at(1))
                .await
                .unwrap()
        );
        assert!(
            store
                .attach(&[elsewhere.id], owner, "post:2", at(1))
                .await
                .unwrap()
        );

        let mut gone: Vec<MediaId> = store
            .remove_attached("post:1", &[])
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        gone.sort();
        let mut want = vec![a.id, b.id];
        want.sort();
        assert_eq!(gone, want);
        assert!(store.get(a.id).await.unwrap().is_none());
        assert!(
            store
                .remove_attached("post:1", &[])
                .await
                .unwrap()
                .is_empty(),
            "idempotent"
        );
        assert!(store.get(elsewhere.id).await.unwrap().is_some());
        assert_eq!(
            store.remove_attached("", &[]).await.unwrap_err().field(),
            Some("target")
        );

        // What a target held besides the uploads to keep (a replaced avatar).
        let old = ready(&store, owner, at(2)).await;
        let new = ready(&store, owner, at(3)).await;
        assert!(
            store
                .attach(&[old.id], owner, "avatar:1", at(3))
                .await
                .unwrap()
        );
        assert!(
            store
                .attach(&[new.id], owner, "avatar:1", at(4))
                .await
                .unwrap()
        );
        let replaced = store.remove_attached("avatar:1", &[new.id]).await.unwrap();
        assert_eq!(
            replaced.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![old.id]
        );
        assert!(store.get(new.id).await.unwrap().is_some());
        assert!(
            store
                .remove_attached("avatar:1", &[new.id])
                .await
                .unwrap()
                .is_empty()
        );

        // An owner's uploads go in batches; nobody else's.
        let c = ready(&store, owner, at(2)).await;
        assert_eq!(store.remove_owned_by(owner, 1).await.unwrap().len(), 1);
        let rest = store.remove_owned_by(owner, 10).await.unwrap();
        assert_eq!(
            rest.len(),
            2,
            "the other two of elsewhere, c and the new avatar"
        );
        assert!(store.get(elsewhere.id).await.unwrap().is_none());
        assert!(store.get(c.id).await.unwrap().is_none());
        assert!(store.remove_owned_by(owner, 10).await.unwrap().is_empty());
        assert!(store.get(theirs.id).await.unwrap().is_some());
    }
}

nova_testkit::db_conformance_suite!(
    suite: round_trips_every_field,
    states_move_forward_only,
    only_the_owner_describes_or_deletes,
    get_many_leaves_out_the_missing,
    attach_is_all_or_nothing,
    unattached_uploads_are_found_oldest_first,
    a_targets_or_an_owners_uploads_are_removed_together,
);
