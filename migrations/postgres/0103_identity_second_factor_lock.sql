-- Identity (issue 15): a per-account budget of second-factor failures across challenges.
-- Each attempt is reserved before the code is checked (a success clears the count);
-- the limit-th failure locks TOTP and recovery codes until second_factor_locked_until.
ALTER TABLE users ADD COLUMN second_factor_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN second_factor_locked_until TIMESTAMPTZ;
