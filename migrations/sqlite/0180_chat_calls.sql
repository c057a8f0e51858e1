-- Chat calls (seed migration 110) and live location sharing (seed migration 111), issue 17.
-- The server keeps call sessions and who took part; SDP, ICE and media never touch the
-- database (they are relayed live between devices). A location share is only the session
-- (who shares, to which conversation, until when): coordinates travel as E2EE ciphertext
-- relayed live and are never stored. Times are Unix microseconds.

CREATE TABLE call_sessions (
    id              BLOB        PRIMARY KEY,
    conversation_id BLOB        NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    started_by      BLOB        NOT NULL,
    video           BOOLEAN     NOT NULL,
    status          TEXT        NOT NULL,          -- 'ringing', 'active' or 'ended'
    end_reason      TEXT,                          -- 'completed', 'missed', 'declined', 'busy', 'cancelled'
    version         BIGINT      NOT NULL,          -- grows on every change (optimistic concurrency)
    created_us      BIGINT      NOT NULL,
    ring_until_us   BIGINT      NOT NULL,          -- nobody accepted by then: missed
    answered_us     BIGINT,
    ended_us        BIGINT
);
-- At most one call that has not ended per conversation.
CREATE UNIQUE INDEX call_sessions_open_idx ON call_sessions (conversation_id) WHERE status <> 'ended';
CREATE INDEX call_sessions_ringing_idx ON call_sessions (ring_until_us) WHERE status <> 'ended';

CREATE TABLE call_participants (
    call_id    BLOB        NOT NULL REFERENCES call_sessions (id) ON DELETE CASCADE,
    user_id    BLOB        NOT NULL,
    state      TEXT        NOT NULL,               -- 'ringing', 'joined', 'declined', 'missed', 'busy', 'left'
    device_id  TEXT,                               -- the device that joined (signaling goes there)
    joined_us  BIGINT,
    left_us    BIGINT,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_participants_user_idx ON call_participants (user_id, state);

CREATE TABLE location_shares (
    id              BLOB        PRIMARY KEY,
    conversation_id BLOB        NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    user_id         BLOB        NOT NULL,
    started_us      BIGINT      NOT NULL,
    expires_us      BIGINT      NOT NULL,          -- the chosen duration (15 min, 1 h or 8 h) from the start
    stopped_us      BIGINT                         -- stopped early by the sharer
);
CREATE INDEX location_shares_conversation_idx ON location_shares (conversation_id, expires_us);
CREATE INDEX location_shares_user_idx ON location_shares (user_id, expires_us);
