-- Trust & safety (see migrations/postgres/0110_trust_safety.sql).

CREATE TABLE trust_reports (
    id                      BLOB    PRIMARY KEY,
    reporter_id             BLOB    NOT NULL,
    target_kind             TEXT    NOT NULL,
    target_id               BLOB    NOT NULL,
    reason                  TEXT    NOT NULL,
    severity                INTEGER NOT NULL,
    text                    TEXT    NOT NULL,
    evidence_ciphertext_id  TEXT,
    evidence_text           TEXT,
    reporter_trust          REAL    NOT NULL,
    status                  TEXT    NOT NULL,
    outcome                 TEXT,
    created_at              TEXT    NOT NULL,
    resolved_at             TEXT,
    UNIQUE (reporter_id, target_kind, target_id)
);
CREATE INDEX trust_reports_open_idx ON trust_reports (status, target_kind, target_id);
CREATE INDEX trust_reports_reporter_idx ON trust_reports (reporter_id, created_at);

CREATE TABLE trust_queue (
    target_kind     TEXT    NOT NULL,
    target_id       BLOB    NOT NULL,
    assignee_id     BLOB,
    escalated       BOOLEAN NOT NULL DEFAULT FALSE,
    escalation_note TEXT    NOT NULL DEFAULT '',
    updated_at      TEXT    NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);

CREATE TABLE trust_actions (
    id            BLOB PRIMARY KEY,
    target_kind   TEXT NOT NULL,
    target_id     BLOB NOT NULL,
    subject_id    BLOB,
    kind          TEXT NOT NULL,
    label         TEXT,
    reason        TEXT NOT NULL,
    note          TEXT NOT NULL,
    actor_id      BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    reversed_at   TEXT,
    reversed_by   BLOB,
    reversal_note TEXT
);
CREATE INDEX trust_actions_target_idx ON trust_actions (target_kind, target_id);
CREATE INDEX trust_actions_subject_idx ON trust_actions (subject_id, created_at);

CREATE TABLE trust_appeals (
    id            BLOB PRIMARY KEY,
    action_id     BLOB NOT NULL UNIQUE REFERENCES trust_actions (id),
    appellant_id  BLOB NOT NULL,
    text          TEXT NOT NULL,
    status        TEXT NOT NULL,
    decided_by    BLOB,
    decision_note TEXT,
    created_at    TEXT NOT NULL,
    decided_at    TEXT
);
CREATE INDEX trust_appeals_status_idx ON trust_appeals (status, created_at);

CREATE TABLE trust_rules (
    id            BLOB    PRIMARY KEY,
    version       INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    public_reason TEXT    NOT NULL,
    enabled       BOOLEAN NOT NULL,
    updated_by    BLOB    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE trust_rule_versions (
    rule_id       BLOB    NOT NULL,
    version       INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    public_reason TEXT    NOT NULL,
    enabled       BOOLEAN NOT NULL,
    changed_by    BLOB    NOT NULL,
    changed_at    TEXT    NOT NULL,
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE trust_audit_log (
    id       BLOB PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id BLOB,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX trust_audit_log_at_idx ON trust_audit_log (at, id);
CREATE INDEX trust_audit_log_subject_idx ON trust_audit_log (subject, at);

-- Append-only: the database itself refuses to change or remove an entry.
CREATE TRIGGER trust_audit_log_no_update BEFORE UPDATE ON trust_audit_log
BEGIN
    SELECT RAISE(ABORT, 'trust_audit_log is append-only');
END;
CREATE TRIGGER trust_audit_log_no_delete BEFORE DELETE ON trust_audit_log
BEGIN
    SELECT RAISE(ABORT, 'trust_audit_log is append-only');
END;
CREATE TRIGGER trust_rule_versions_no_update BEFORE UPDATE ON trust_rule_versions
BEGIN
    SELECT RAISE(ABORT, 'trust_rule_versions is append-only');
END;
CREATE TRIGGER trust_rule_versions_no_delete BEFORE DELETE ON trust_rule_versions
BEGIN
    SELECT RAISE(ABORT, 'trust_rule_versions is append-only');
END;
