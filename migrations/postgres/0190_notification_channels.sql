-- Notification channels (issue 20): per-kind channel preferences and quiet hours.

-- One row per user who changed the defaults: `prefs` is the JSON of
-- nova_notification::Preferences ({"kinds": {kind: {in_app, push, email}},
-- "quiet_hours": {start, end, time_zone}}), validated before it is written.
CREATE TABLE notification_preferences (
    user_id    UUID   PRIMARY KEY,
    prefs      TEXT   NOT NULL,
    updated_us BIGINT NOT NULL
);
