-- Analytics (nova-analytics): raw engagement events, deduplicated by id, and rollups
-- kept in the insert's transaction, so the dashboards read small tables. Ids are text
-- (event-log UUIDs, `c:<actor>:<client id>` for client events); actors are user ids,
-- `anon:<id>` for signed-out viewers or `gone:<pseudonym>` for deleted accounts (never
-- an IP address). Days are day numbers since 1970-01-01 UTC, hours since the epoch.
CREATE TABLE analytics_events (
    id      TEXT     PRIMARY KEY,
    at_us   BIGINT   NOT NULL,
    day     INTEGER  NOT NULL,
    kind    TEXT     NOT NULL,
    actor   TEXT     NOT NULL,
    post_id TEXT     NOT NULL,
    target  TEXT     NOT NULL,
    sign    SMALLINT NOT NULL
);
-- Raw events are dropped by day (retention); deleted accounts are found by actor/target.
CREATE INDEX analytics_events_day_idx ON analytics_events (day);
CREATE INDEX analytics_events_actor_idx ON analytics_events (actor);
CREATE INDEX analytics_events_target_idx ON analytics_events (target);

-- Who was active on which day (DAU, WAU/MAU, retention).
CREATE TABLE analytics_daily_active (
    day   INTEGER NOT NULL,
    actor TEXT    NOT NULL,
    PRIMARY KEY (day, actor)
);
CREATE INDEX analytics_daily_active_actor_idx ON analytics_daily_active (actor);

-- Events per day and kind (posts per day, sessions).
CREATE TABLE analytics_daily_counts (
    day  INTEGER NOT NULL,
    kind TEXT    NOT NULL,
    n    BIGINT  NOT NULL,
    PRIMARY KEY (day, kind)
);

-- Registration day of each account (retention cohorts).
CREATE TABLE analytics_registrations (
    actor TEXT    PRIMARY KEY,
    day   INTEGER NOT NULL
);
CREATE INDEX analytics_registrations_day_idx ON analytics_registrations (day);

-- Each post's author and creation hour (who may read its insights).
CREATE TABLE analytics_posts (
    post_id TEXT   PRIMARY KEY,
    author  TEXT   NOT NULL,
    hour    BIGINT NOT NULL
);
CREATE INDEX analytics_posts_author_idx ON analytics_posts (author, hour);

-- A post's figures hour by hour.
CREATE TABLE analytics_post_hours (
    post_id     TEXT   NOT NULL,
    hour        BIGINT NOT NULL,
    impressions BIGINT NOT NULL,
    likes       BIGINT NOT NULL,
    replies     BIGINT NOT NULL,
    reposts     BIGINT NOT NULL,
    PRIMARY KEY (post_id, hour)
);

-- Distinct viewers of a post (unique reach).
CREATE TABLE analytics_post_viewers (
    post_id TEXT NOT NULL,
    viewer  TEXT NOT NULL,
    PRIMARY KEY (post_id, viewer)
);
CREATE INDEX analytics_post_viewers_viewer_idx ON analytics_post_viewers (viewer);

-- Followers gained and lost per account and day.
CREATE TABLE analytics_follower_days (
    account TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    gained  BIGINT  NOT NULL,
    lost    BIGINT  NOT NULL,
    PRIMARY KEY (account, day)
);
