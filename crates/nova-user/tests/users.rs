//! nova-user on SQLite and PostgreSQL: profiles, settings, usernames, lifecycle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use nova_core::{ErrorKind, ManualClock, MediaId, Principal, SessionId, UserId};
use nova_db::{Db, DbKind};
use nova_events::outbox;
use nova_identity::store::{
    AccountRecord, IdentityStore, OneTimeToken, SqlIdentityStore, TokenPurpose,
};
use nova_user::store::{CachedUserStore, SqlUserStore, UserStore};
use nova_user::{
    MessagePolicy, ProfileMedia, ProfileSlot, ProfileUpdate, Settings, UserApi, UserService,
};

/// A media domain in miniature: who uploaded what, and the claims made.
#[derive(Default)]
struct Pictures {
    owners: std::sync::Mutex<std::collections::HashMap<MediaId, UserId>>,
    claims: std::sync::Mutex<Vec<(MediaId, ProfileSlot)>>,
}

impl Pictures {
    fn upload(&self, owner: UserId) -> MediaId {
        let id = MediaId::new();
        self.owners.lock().unwrap().insert(id, owner);
        id
    }
    fn claims(&self) -> Vec<(MediaId, ProfileSlot)> {
        self.claims.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl ProfileMedia for Pictures {
    async fn claim(
        &self,
        owner: UserId,
        media: MediaId,
        slot: ProfileSlot,
    ) -> nova_core::Result<()> {
        if self.owners.lock().unwrap().get(&media) != Some(&owner) {
            return Err(nova_core::Error::invalid("media_ids", "not the owner's"));
        }
        self.claims.lock().unwrap().push((media, slot));
        Ok(())
    }
}

struct World {
    users: UserService,
    identity: SqlIdentityStore,
    clock: ManualClock,
}

/// On SQLite the store runs as in the embedded `nova`, behind its in-process read cache;
/// on PostgreSQL without (as replicated services do): every case then checks that a
/// write is visible to the very next read through the cache.
fn world(db: Db) -> World {
    let clock = ManualClock::new(Utc::now().trunc_subsecs(6));
    let mut store: Arc<dyn UserStore> = Arc::new(SqlUserStore::new(db.clone()));
    if db.kind() == DbKind::Sqlite {
        store = Arc::new(CachedUserStore::new(store, 10_000));
    }
    World {
        users: UserService::new(store).with_clock(clock.shared()),
        identity: SqlIdentityStore::new(db),
        clock,
    }
}

impl World {
    async fn account(&self, username: &str) -> nova_core::Result<Principal> {
        self.account_with_email(username, &format!("{username}@example.com"))
            .await
    }

    async fn account_with_email(
        &self,
        username: &str,
        email: &str,
    ) -> nova_core::Result<Principal> {
        let id = UserId::new();
        let now = nova_core::Clock::now(&self.clock);
        let account = AccountRecord {
            id,
            email: email.into(),
            email_verified_at: None,
            username: username.into(),
            password_hash: None,
            totp_secret_enc: None,
            totp_enabled_at: None,
            totp_last_step: None,
            created_at: now,
        };
        let token = OneTimeToken {
            token_hash: id.as_uuid().as_bytes().to_vec(),
            user_id: id,
            purpose: TokenPurpose::VerifyEmail,
            created_at: now,
            expires_at: now + Duration::hours(1),
        };
        self.identity.create_account(&account, &token, &[]).await?;
        Ok(Principal::user(id, SessionId::new()))
    }
}

mod suite {
    use super::*;

    pub async fn profiles_update_with_grapheme_limits_and_bad_input_changes_nothing(db: Db) {
        let w = world(db.clone());
        let alice = w.account("alice").await.unwrap();
        let p = w.users.profile(alice.user_id).await.unwrap();
        assert_eq!(
            (
                p.username.as_str(),
                p.display_name.as_str(),
                p.private_account
            ),
            ("alice", "", false)
        );
        let avatar = MediaId::new();
        let name = "👩‍💻".repeat(50);
        let updated = w
            .users
            .update_profile(
                &alice,
                ProfileUpdate {
                    display_name: Some(name.clone()),
                    bio: Some("  builds things  ".into()),
                    avatar: Some(Some(avatar)),
                    links: Some(vec!["https://alice.dev".into()]),
                    ..ProfileUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.display_name, name);
        assert_eq!(updated.bio, "builds things");
        assert_eq!(updated.avatar, Some(avatar));
        assert_eq!(updated.links, vec!["https://alice.dev".to_string()]);
        let events_before = outbox::store(&db)
            .fetch_unpublished(100)
            .await
            .unwrap()
            .len();
        for (update, field) in [
            (
                ProfileUpdate {
                    display_name: Some(format!("{name}!")),
                    ..Default::default()
                },
                "display_name",
            ),
            (
                ProfileUpdate {
                    bio: Some("x".repeat(501)),
                    ..Default::default()
                },
                "bio",
            ),
            (
                ProfileUpdate {
                    pronouns: Some("p".repeat(41)),
                    ..Default::default()
                },
                "pronouns",
            ),
            (
                ProfileUpdate {
                    links: Some(vec!["javascript:alert(1)".into()]),
                    ..Default::default()
                },
                "links",
            ),
        ] {
            assert_eq!(
                w.users
                    .update_profile(&alice, update)
                    .await
                    .unwrap_err()
                    .field(),
                Some(field)
            );
        }
        assert_eq!(
            w.users.profile(alice.user_id).await.unwrap(),
            updated,
            "nothing changed"
        );
        assert_eq!(
            outbox::store(&db)
                .fetch_unpublished(100)
                .await
                .unwrap()
                .len(),
            events_before
        );
        // Removing the avatar.
        let cleared = w
            .users
            .update_profile(
                &alice,
                ProfileUpdate {
                    avatar: Some(None),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(cleared.avatar, None);
        assert_eq!(cleared.display_name, name, "untouched fields stay");
    }

    /// Avatars and banners go through the [`ProfileMedia`] port: one's own upload is
    /// claimed (once: keeping it is not a new claim); anyone else's is refused on the
    /// field and nothing changes.
    pub async fn profile_pictures_are_claimed_in_media(db: Db) {
        let w = world(db.clone());
        let media = Arc::new(Pictures::default());
        let users = UserService::new(Arc::new(SqlUserStore::new(db))).with_media(media.clone());
        let (ann, bob) = (
            w.account("pic_ann").await.unwrap(),
            w.account("pic_bob").await.unwrap(),
        );
        let (mine, theirs) = (media.upload(ann.user_id), media.upload(bob.user_id));
        let set = |avatar, banner| ProfileUpdate {
            avatar,
            banner,
            bio: Some("new bio".into()),
            ..ProfileUpdate::default()
        };
        let err = users
            .update_profile(&ann, set(Some(Some(theirs)), None))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("avatar"));
        let err = users
            .update_profile(&ann, set(None, Some(Some(theirs))))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("banner"));
        assert_eq!(
            users.profile(ann.user_id).await.unwrap().bio,
            "",
            "nothing changed"
        );

        let updated = users
            .update_profile(&ann, set(Some(Some(mine)), None))
            .await
            .unwrap();
        assert_eq!(updated.avatar, Some(mine));
        assert_eq!(media.claims(), vec![(mine, ProfileSlot::Avatar)]);
        users
            .update_profile(&ann, set(Some(Some(mine)), Some(None)))
            .await
            .unwrap();
        assert_eq!(media.claims().len(), 1, "keeping a picture claims nothing");
    }

    pub async fn batch_lookup_keeps_order_and_hides_inactive_accounts(db: Db) {
        let w = world(db);
        let a = w.account("amy").await.unwrap();
        let b = w.account("ben").await.unwrap();
        let c = w.account("cat").await.unwrap();
        let ids = [c.user_id, UserId::new(), a.user_id, b.user_id];
        let names: Vec<String> = w
            .users
            .profiles(&ids)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.username)
            .collect();
        assert_eq!(names, ["cat", "amy", "ben"]);
        w.users.deactivate(&b).await.unwrap();
        w.users.delete_account(&c, "leaving").await.unwrap();
        let names: Vec<String> = w
            .users
            .profiles(&ids)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.username)
            .collect();
        assert_eq!(names, ["amy"]);
        assert_eq!(
            w.users.profile(b.user_id).await.unwrap_err().kind(),
            &ErrorKind::NotFound
        );
        assert_eq!(
            w.users.profile_by_username("CAT").await.unwrap_err().kind(),
            &ErrorKind::NotFound
        );
        w.users.reactivate(&b).await.unwrap();
        assert_eq!(
            w.users.profile_by_username("Ben").await.unwrap().user_id,
            b.user_id
        );
        assert_eq!(
            w.users
                .profiles(&vec![UserId::new(); nova_user::MAX_BATCH + 1])
                .await
                .unwrap_err()
                .field(),
            Some("user_ids")
        );
    }

    pub async fn active_ids_page_in_id_order_without_inactive_accounts(db: Db) {
        let w = world(db);
        let mut ids = Vec::new();
        for name in ["ann", "bob", "cid", "dee", "eve"] {
            ids.push(w.account(name).await.unwrap());
        }
        w.users.deactivate(&ids[1]).await.unwrap();
        w.users.delete_account(&ids[3], "leaving").await.unwrap();
        let mut expected: Vec<UserId> = [0, 2, 4].iter().map(|&i| ids[i].user_id).collect();
        expected.sort();
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = w.users.active_user_ids(after, 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(*last);
            walked.extend(page);
        }
        // Other tests' accounts may share the database: only ours are compared.
        walked.retain(|id| ids.iter().any(|p| p.user_id == *id));
        assert_eq!(walked, expected);
        assert_eq!(
            w.users.active_user_ids(None, 0).await.unwrap_err().field(),
            Some("limit")
        );
    }

    pub async fn settings_default_update_and_batch_privacy(db: Db) {
        let w = world(db);
        let a = w.account("dora").await.unwrap();
        let b = w.account("eli").await.unwrap();
        let defaults = w.users.settings(&a).await.unwrap();
        assert!(defaults.discoverable && !defaults.private_account);
        let private = Settings {
            private_account: true,
            message_policy: MessagePolicy::Following,
            hide_follow_lists: true,
            ..Settings::default()
        };
        assert_eq!(w.users.update_settings(&a, private).await.unwrap(), private);
        assert_eq!(w.users.settings(&a).await.unwrap(), private);
        assert!(w.users.profile(a.user_id).await.unwrap().private_account);
        let privacy = w.users.privacy(&[b.user_id, a.user_id]).await.unwrap();
        assert_eq!(privacy[0].user_id, b.user_id);
        assert!(!privacy[0].private_account);
        assert!(privacy[1].private_account && privacy[1].hide_follow_lists);
        assert_eq!(privacy[1].message_policy, MessagePolicy::Following);
    }

    pub async fn old_usernames_stay_reserved_for_their_owner(db: Db) {
        let w = world(db);
        let fay = w.account("fay").await.unwrap();
        let gus = w.account("gus").await.unwrap();
        assert_eq!(
            w.users
                .change_username(&fay, "gus")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );
        assert_eq!(
            w.users
                .change_username(&fay, "no way")
                .await
                .unwrap_err()
                .field(),
            Some("username")
        );
        assert_eq!(
            w.users
                .change_username(&fay, "Fiona")
                .await
                .unwrap()
                .username,
            "Fiona"
        );
        // "fay" is reserved: not for gus, not for a new registration...
        assert_eq!(
            w.users
                .change_username(&gus, "FAY")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::Conflict
        );
        let err = w
            .account_with_email("fay", "someone.else@example.com")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        assert!(err.message().starts_with("username"), "{err}");
        // ...but its owner may take it back.
        assert_eq!(
            w.users.change_username(&fay, "fay").await.unwrap().username,
            "fay"
        );
        // After the reservation ends, others may have an old name.
        w.users.change_username(&fay, "fay2").await.unwrap();
        w.clock.advance(Duration::days(31));
        assert_eq!(
            w.users.change_username(&gus, "fay").await.unwrap().username,
            "fay"
        );
    }

    pub async fn deletion_records_who_and_why_and_announces_it(db: Db) {
        let w = world(db.clone());
        let hal = w.account("hal").await.unwrap();
        let mod_user = w.account("moddy").await.unwrap();
        assert_eq!(
            w.users
                .moderator_delete(&mod_user, hal.user_id, "spam")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::PermissionDenied
        );
        let moderator = Principal {
            scopes: vec!["moderator".into()],
            ..mod_user.clone()
        };
        assert_eq!(
            w.users
                .moderator_delete(&moderator, hal.user_id, "")
                .await
                .unwrap_err()
                .field(),
            Some("reason")
        );
        w.users
            .moderator_delete(&moderator, hal.user_id, "spam wave")
            .await
            .unwrap();
        assert_eq!(
            w.users
                .moderator_delete(&moderator, hal.user_id, "again")
                .await
                .unwrap_err()
                .kind(),
            &ErrorKind::NotFound
        );
        let q = "SELECT deleted_by_kind, deleted_reason, deleted_by FROM users WHERE id = $1";
        let (kind, reason, by): (String, String, UserId) = match &db {
            Db::Postgres(p) => sqlx::query_as(q)
                .bind(hal.user_id)
                .fetch_one(p)
                .await
                .unwrap(),
            Db::Sqlite(s) => sqlx::query_as(q)
                .bind(hal.user_id)
                .fetch_one(&s.reader)
                .await
                .unwrap(),
        };
        assert_eq!(
            (kind.as_str(), reason.as_str(), by),
            ("moderator", "spam wave", mod_user.user_id)
        );
        // Identity ends the sessions on this event (its `DeletedAccounts` consumer, tested
        // in nova-identity): the users domain writes no table of identity's.
        let events = outbox::store(&db).fetch_unpublished(100).await.unwrap();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, [nova_events::types::USER_STATE_CHANGED]);
        let changed = <nova_proto::nova::user::v1::AccountStateChanged as prost::Message>::decode(
            events[0].payload.as_slice(),
        )
        .unwrap();
        assert_eq!(
            (changed.user_id, changed.state.as_str()),
            (hal.user_id.to_string(), "deleted")
        );
    }
}

nova_testkit::db_conformance_suite!(suite:
    profiles_update_with_grapheme_limits_and_bad_input_changes_nothing,
    profile_pictures_are_claimed_in_media,
    batch_lookup_keeps_order_and_hides_inactive_accounts,
    active_ids_page_in_id_order_without_inactive_accounts,
    settings_default_update_and_batch_privacy,
    old_usernames_stay_reserved_for_their_owner,
    deletion_records_who_and_why_and_announces_it,
);
