-- Whether a tracked entity has had `min_accounts` distinct accounts: only those appear in
-- public trending lists. Rows of older snapshots qualify again from their account sketch.
ALTER TABLE trending_scores ADD COLUMN qualified BOOLEAN NOT NULL DEFAULT FALSE;
