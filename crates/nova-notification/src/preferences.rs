//! Per-kind channel preferences (in-app, push, email) and quiet hours in the user's time
//! zone. Quiet hours hold push and email until they end; in-app is never held.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use nova_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

use crate::model::NotificationKind;

/// Where one kind of notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    /// The in-app list (and its live stream).
    pub in_app: bool,
    /// Web Push (and, later, APNs / FCM) to the user's registered devices.
    pub push: bool,
    /// Email.
    pub email: bool,
}

impl Default for Channels {
    /// In-app and push on, email off.
    fn default() -> Self {
        Self {
            in_app: true,
            push: true,
            email: false,
        }
    }
}

/// A daily quiet period on the user's wall clock: `start` to `end` (`"HH:MM"`, 24 h;
/// `end` before `start` spans midnight) in the IANA `time_zone` (`"Europe/Berlin"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// When it begins, local time.
    pub start: String,
    /// When it ends, local time.
    pub end: String,
    /// The user's IANA time zone.
    pub time_zone: String,
}

/// A user's channel preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Channels per kind; a kind not listed uses [`Channels::default`].
    #[serde(default)]
    pub kinds: BTreeMap<NotificationKind, Channels>,
    /// Quiet hours, if any.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

/// When a channel delivers a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The user turned the channel off for this kind.
    Off,
    /// Deliver now.
    Now,
    /// Quiet hours: deliver at this instant (their end).
    HeldUntil(Timestamp),
}

/// Where and when one notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Written to the in-app list (never held).
    pub in_app: bool,
    /// Push.
    pub push: Delivery,
    /// Email.
    pub email: Delivery,
}

fn parse_time(value: &str, field: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| Error::invalid(field, "must be a 24-hour time HH:MM"))
}

fn parse_zone(value: &str) -> Result<Tz> {
    value.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(
            "quiet_hours.time_zone",
            "must be an IANA time zone such as Europe/Berlin",
        )
    })
}

/// A local wall-clock time on `date` as an instant: the earlier one when the clock goes
/// back (the hour happens twice), the first minute after the gap when it jumps forward.
fn instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Timestamp {
    let mut local: NaiveDateTime = date.and_time(time);
    for _ in 0..=4 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&chrono::Utc);
        }
        // Inside a gap (no such local time): step forward to its end.
        local += Duration::minutes(30);
    }
    // No zone has gaps longer than two hours; fall back to reading it as UTC.
    date.and_time(time).and_utc()
}

impl QuietHours {
    /// Checks the fields (400 naming the bad one).
    pub fn validate(&self) -> Result<()> {
        let start = parse_time(&self.start, "quiet_hours.start")?;
        let end = parse_time(&self.end, "quiet_hours.end")?;
        if start == end {
            return Err(Error::invalid(
                "quiet_hours.end",
                "must differ from quiet_hours.start",
            ));
        }
        parse_zone(&self.time_zone)?;
        Ok(())
    }

    /// When the quiet period holding `now` ends, or `None` when `now` is outside quiet
    /// hours (wall-clock minutes in the user's zone, so daylight-saving changes move the
    /// instants, not the local times).
    pub fn holds_until(&self, now: Timestamp) -> Option<Timestamp> {
        let start = parse_time(&self.start, "start").ok()?;
        let end = parse_time(&self.end, "end").ok()?;
        let tz = parse_zone(&self.time_zone).ok()?;
        let local = now.with_timezone(&tz);
        let minute = local.hour() * 60 + local.minute();
        let (s, e) = (
            start.hour() * 60 + start.minute(),
            end.hour() * 60 + end.minute(),
        );
        let today = local.date_naive();
        let end_date = if s < e {
            if !(s..e).contains(&minute) {
                return None;
            }
            today
        } else if minute >= s {
            today.succ_opt()?
        } else if minute < e {
            today
        } else {
            return None;
        };
        Some(instant(tz, end_date, end))
    }
}

impl Preferences {
    /// Checks every field (400 naming the bad one).
    pub fn validate(&self) -> Result<()> {
        if let Some(q) = &self.quiet_hours {
            q.validate()?;
        }
        Ok(())
    }

    /// The channels of `kind`.
    pub fn channels(&self, kind: NotificationKind) -> Channels {
        self.kinds.get(&kind).copied().unwrap_or_default()
    }

    /// Where and when a notification of `kind` arriving at `now` goes.
    pub fn route(&self, kind: NotificationKind, now: Timestamp) -> Route {
        let channels = self.channels(kind);
        let held = self.quiet_hours.as_ref().and_then(|q| q.holds_until(now));
        let outward = |on: bool| match (on, held) {
            (false, _) => Delivery::Off,
            (true, Some(until)) => Delivery::HeldUntil(until),
            (true, None) => Delivery::Now,
        };
        Route {
            in_app: channels.in_app,
            push: outward(channels.push),
            email: outward(channels.email),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::DateTime;

    use super::*;

    fn at(rfc3339: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn quiet(start: &str, end: &str, tz: &str) -> QuietHours {
        QuietHours {
            start: start.into(),
            end: end.into(),
            time_zone: tz.into(),
        }
    }

    #[test]
    fn validation_names_the_field() {
        for (q, field) in [
            (quiet("25:00", "07:00", "UTC"), "quiet_hours.start"),
            (quiet("22:00", "7", "UTC"), "quiet_hours.end"),
            (quiet("22:00", "22:00", "UTC"), "quiet_hours.end"),
            (
                quiet("22:00", "07:00", "Mars/Olympus"),
                "quiet_hours.time_zone",
            ),
        ] {
            let err = q.validate().unwrap_err();
            assert_eq!(err.field(), Some(field), "{q:?}");
        }
        assert!(quiet("22:00", "07:00", "Europe/Berlin").validate().is_ok());
    }

    #[test]
    fn same_instant_differs_by_zone() {
        // 21:30 UTC: 06:30 next morning in Tokyo (quiet until 07:00), 17:30 in New York.
        let now = at("2026-06-10T21:30:00Z");
        let tokyo = quiet("22:00", "07:00", "Asia/Tokyo");
        assert_eq!(tokyo.holds_until(now), Some(at("2026-06-10T22:00:00Z")));
        assert_eq!(
            quiet("22:00", "07:00", "America/New_York").holds_until(now),
            None
        );
    }

    #[test]
    fn daytime_windows_and_edges() {
        let q = quiet("09:00", "17:00", "UTC");
        assert_eq!(q.holds_until(at("2026-01-05T08:59:00Z")), None);
        assert_eq!(
            q.holds_until(at("2026-01-05T09:00:00Z")),
            Some(at("2026-01-05T17:00:00Z"))
        );
        assert_eq!(q.holds_until(at("2026-01-05T17:00:00Z")), None);
    }
}
