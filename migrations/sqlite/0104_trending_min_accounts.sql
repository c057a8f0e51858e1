-- See migrations/postgres/0104_trending_min_accounts.sql.
ALTER TABLE trending_scores ADD COLUMN qualified INTEGER NOT NULL DEFAULT 0;
