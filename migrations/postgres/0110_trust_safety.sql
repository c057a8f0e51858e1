-- Trust & safety (nova-trust-safety): reports, the moderation queue, actions, appeals,
-- pre-publish rules with their version history, and an append-only audit log.
-- Target ids belong to other domains (posts, accounts, media, chat messages), so there
-- are no foreign keys to them.

CREATE TABLE trust_reports (
    id                      UUID             PRIMARY KEY,
    reporter_id             UUID             NOT NULL,
    target_kind             TEXT             NOT NULL,
    target_id               UUID             NOT NULL,
    reason                  TEXT             NOT NULL,
    severity                INTEGER          NOT NULL,
    text                    TEXT             NOT NULL,
    evidence_ciphertext_id  TEXT,
    evidence_text           TEXT,
    reporter_trust          DOUBLE PRECISION NOT NULL,
    status                  TEXT             NOT NULL,
    outcome                 TEXT,
    created_at              TIMESTAMPTZ      NOT NULL,
    resolved_at             TIMESTAMPTZ,
    -- One report per reporter and target: a second one changes nothing.
    UNIQUE (reporter_id, target_kind, target_id)
);
CREATE INDEX trust_reports_open_idx ON trust_reports (status, target_kind, target_id);
CREATE INDEX trust_reports_reporter_idx ON trust_reports (reporter_id, created_at);

-- Queue state of a target with open reports: who works on it, whether an admin must.
CREATE TABLE trust_queue (
    target_kind     TEXT        NOT NULL,
    target_id       UUID        NOT NULL,
    assignee_id     UUID,
    escalated       BOOLEAN     NOT NULL DEFAULT FALSE,
    escalation_note TEXT        NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);

CREATE TABLE trust_actions (
    id            UUID        PRIMARY KEY,
    target_kind   TEXT        NOT NULL,
    target_id     UUID        NOT NULL,
    subject_id    UUID,
    kind          TEXT        NOT NULL,
    label         TEXT,
    reason        TEXT        NOT NULL,
    note          TEXT        NOT NULL,
    actor_id      UUID        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    reversed_at   TIMESTAMPTZ,
    reversed_by   UUID,
    reversal_note TEXT
);
CREATE INDEX trust_actions_target_idx ON trust_actions (target_kind, target_id);
CREATE INDEX trust_actions_subject_idx ON trust_actions (subject_id, created_at);

CREATE TABLE trust_appeals (
    id            UUID        PRIMARY KEY,
    -- Once per action.
    action_id     UUID        NOT NULL UNIQUE REFERENCES trust_actions (id),
    appellant_id  UUID        NOT NULL,
    text          TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    decided_by    UUID,
    decision_note TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    decided_at    TIMESTAMPTZ
);
CREATE INDEX trust_appeals_status_idx ON trust_appeals (status, created_at);

CREATE TABLE trust_rules (
    id            UUID        PRIMARY KEY,
    version       INTEGER     NOT NULL,
    name          TEXT        NOT NULL,
    body          TEXT        NOT NULL,
    outcome       TEXT        NOT NULL,
    public_reason TEXT        NOT NULL,
    enabled       BOOLEAN     NOT NULL,
    updated_by    UUID        NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Every version of every rule, kept for audit and rollback.
CREATE TABLE trust_rule_versions (
    rule_id       UUID        NOT NULL,
    version       INTEGER     NOT NULL,
    name          TEXT        NOT NULL,
    body          TEXT        NOT NULL,
    outcome       TEXT        NOT NULL,
    public_reason TEXT        NOT NULL,
    enabled       BOOLEAN     NOT NULL,
    changed_by    UUID        NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE trust_audit_log (
    id         UUID        PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor_id   UUID,
    action     TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    reason     TEXT        NOT NULL,
    detail     TEXT        NOT NULL
);
CREATE INDEX trust_audit_log_at_idx ON trust_audit_log (at, id);
CREATE INDEX trust_audit_log_subject_idx ON trust_audit_log (subject, at);

-- Append-only: the database itself refuses to change or remove an entry.
CREATE FUNCTION trust_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'trust_audit_log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trust_audit_log_no_update BEFORE UPDATE ON trust_audit_log
    FOR EACH ROW EXECUTE FUNCTION trust_audit_log_append_only();
CREATE TRIGGER trust_audit_log_no_delete BEFORE DELETE ON trust_audit_log
    FOR EACH ROW EXECUTE FUNCTION trust_audit_log_append_only();
CREATE TRIGGER trust_audit_log_no_truncate BEFORE TRUNCATE ON trust_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION trust_audit_log_append_only();
-- The version history is append-only too.
CREATE TRIGGER trust_rule_versions_no_update BEFORE UPDATE ON trust_rule_versions
    FOR EACH ROW EXECUTE FUNCTION trust_audit_log_append_only();
CREATE TRIGGER trust_rule_versions_no_delete BEFORE DELETE ON trust_rule_versions
    FOR EACH ROW EXECUTE FUNCTION trust_audit_log_append_only();
