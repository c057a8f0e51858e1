//! Channel preferences and quiet hours on SQLite and PostgreSQL: a kind turned off
//! in-app writes no group; quiet hours in the user's IANA zone hold push and email (until
//! their end, daylight-saving changes included) and never in-app; bad input names its
//! field and changes nothing. Time is a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod common;

use nova_db::Db;

mod suite {
    use super::*;

    use chrono::DateTime;
    use nova_content::ContentApi;
    use nova_core::{ManualClock, Timestamp};
    use nova_notification::{
        Channels, Delivery, Folder, NotificationApi, NotificationKind, Preferences, QuietHours,
    };

    fn at(rfc3339: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn quiet(tz: &str) -> Option<QuietHours> {
        Some(QuietHours {
            start: "22:00".into(),
            end: "07:00".into(),
            time_zone: tz.into(),
        })
    }

    /// Likes off in-app: a like writes nothing, a reply still does; quiet hours leave
    /// in-app alone.
    pub async fn in_app_off_drops_the_kind_and_quiet_hours_never_hold_in_app(db: Db) {
        // 23:30 in Berlin: inside ann's quiet hours.
        let clock = ManualClock::new(at("2026-06-10T21:30:00Z"));
        let w = common::world_with(db, |s| s.with_clock(clock.shared()));
        let (ann, bob) = (w.user("ann").await, w.user("bob").await);
        let mut prefs = Preferences {
            quiet_hours: quiet("Europe/Berlin"),
            ..Preferences::default()
        };
        prefs.kinds.insert(
            NotificationKind::Like,
            Channels {
                in_app: false,
                push: true,
                email: true,
            },
        );
        assert_eq!(
            w.notifications
                .set_preferences(&ann, prefs.clone())
                .await
                .unwrap(),
            prefs
        );
        assert_eq!(w.notifications.preferences(&ann).await.unwrap(), prefs);

        let post = w.post(&ann, "hello").await;
        w.content.like(&bob, post).await.unwrap();
        w.post(&bob, "hey @ann").await;
        w.deliver().await;
        let inbox = w
            .notifications
            .list(&ann, Folder::Inbox, 20, None)
            .await
            .unwrap()
            .items;
        let kinds: Vec<_> = inbox.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NotificationKind::Mention]);

        // Held: push and email until 07:00 Berlin (05:00 UTC in summer); in-app is not.
        let route = w
            .notifications
            .route(ann.user_id, NotificationKind::Mention)
            .await
            .unwrap();
        let morning = at("2026-06-11T05:00:00Z");
        assert!(route.in_app);
        assert_eq!(route.push, Delivery::HeldUntil(morning));
        // Email is off by default.
        assert_eq!(route.email, Delivery::Off);
        let like = w
            .notifications
            .route(ann.user_id, NotificationKind::Like)
            .await
            .unwrap();
        assert!(!like.in_app);
        assert_eq!(like.email, Delivery::HeldUntil(morning));
        // Bob has no preferences: defaults, nothing held.
        let bob_route = w
            .notifications
            .route(bob.user_id, NotificationKind::Like)
            .await
            .unwrap();
        assert_eq!(
            (bob_route.in_app, bob_route.push, bob_route.email),
            (true, Delivery::Now, Delivery::Off)
        );
        // Morning: delivered now.
        clock.set(morning);
        let route = w
            .notifications
            .route(ann.user_id, NotificationKind::Mention)
            .await
            .unwrap();
        assert_eq!(route.push, Delivery::Now);
    }

    /// 22:00–07:00 in each user's zone, read on a manual clock: the same instant is
    /// quiet in Tokyo and not in New York; across the spring and autumn changes in
    /// Berlin and New York the hold ends at 07:00 local, whatever the UTC offset became.
    pub async fn quiet_hours_follow_zones_and_daylight_saving(db: Db) {
        let clock = ManualClock::new(at("2026-03-28T22:30:00Z"));
        let w = common::world_with(db, |s| s.with_clock(clock.shared()));
        let (berlin, ny, tokyo) = (
            w.user("berlin").await,
            w.user("ny").await,
            w.user("tokyo").await,
        );
        for (who, tz) in [
            (&berlin, "Europe/Berlin"),
            (&ny, "America/New_York"),
            (&tokyo, "Asia/Tokyo"),
        ] {
            let prefs = Preferences {
                quiet_hours: quiet(tz),
                ..Preferences::default()
            };
            w.notifications.set_preferences(who, prefs).await.unwrap();
        }
        let push = |user| {
            let n = w.notifications.clone();
            async move { n.route(user, NotificationKind::Reply).await.unwrap().push }
        };
        // Sat 28 March 2026, 23:30 CET in Berlin; the clocks go forward that night
        // (02:00 -> 03:00), so 07:00 on Sunday is 05:00 UTC, not 06:00.
        assert_eq!(
            push(berlin.user_id).await,
            Delivery::HeldUntil(at("2026-03-29T05:00:00Z"))
        );
        // Same instant: 18:30 in New York (not quiet), 07:30 Sunday in Tokyo (just over).
        assert_eq!(push(ny.user_id).await, Delivery::Now);
        assert_eq!(push(tokyo.user_id).await, Delivery::Now);
        // 04:30 UTC Sunday: still quiet in Berlin (06:30 CEST), over at 05:00 UTC.
        clock.set(at("2026-03-29T04:30:00Z"));
        assert_eq!(
            push(berlin.user_id).await,
            Delivery::HeldUntil(at("2026-03-29T05:00:00Z"))
        );
        clock.set(at("2026-03-29T05:00:00Z"));
        assert_eq!(push(berlin.user_id).await, Delivery::Now);

        // New York falls back on Sun 1 November 2026 (02:00 EDT -> 01:00 EST): quiet from
        // 22:00 EDT on Saturday (02:00 UTC) to 07:00 EST (12:00 UTC), 10 hours.
        clock.set(at("2026-11-01T02:00:00Z"));
        assert_eq!(
            push(ny.user_id).await,
            Delivery::HeldUntil(at("2026-11-01T12:00:00Z"))
        );
        clock.set(at("2026-11-01T01:59:00Z"));
        assert_eq!(push(ny.user_id).await, Delivery::Now);
        // Tokyo has no daylight saving: 22:00 JST is 13:00 UTC all year.
        clock.set(at("2026-11-01T13:00:00Z"));
        assert_eq!(
            push(tokyo.user_id).await,
            Delivery::HeldUntil(at("2026-11-01T22:00:00Z"))
        );
    }

    /// A bad field is refused with its name and the stored preferences stay.
    pub async fn bad_preferences_name_the_field_and_change_nothing(db: Db) {
        let w = common::world(db);
        let ann = w.user("ann").await;
        let good = Preferences {
            quiet_hours: quiet("Asia/Tokyo"),
            ..Preferences::default()
        };
        w.notifications
            .set_preferences(&ann, good.clone())
            .await
            .unwrap();
        for (bad, field) in [
            (quiet("Mars/Olympus_Mons"), "quiet_hours.time_zone"),
            (
                Some(QuietHours {
                    start: "7pm".into(),
                    end: "07:00".into(),
                    time_zone: "UTC".into(),
                }),
                "quiet_hours.start",
            ),
        ] {
            let err = w
                .notifications
                .set_preferences(
                    &ann,
                    Preferences {
                        quiet_hours: bad,
                        ..Preferences::default()
                    },
                )
                .await
                .unwrap_err();
            assert_eq!(err.http_status(), 400);
            assert_eq!(err.field(), Some(field));
        }
        assert_eq!(w.notifications.preferences(&ann).await.unwrap(), good);
    }
}

nova_testkit::db_conformance_suite!(suite:
    in_app_off_drops_the_kind_and_quiet_hours_never_hold_in_app,
    quiet_hours_follow_zones_and_daylight_saving,
    bad_preferences_name_the_field_and_change_nothing,
);
