-- Identity (issue 22): staff roles on accounts, space-separated ("moderator", "admin"),
-- carried as token scopes. Admins grant and revoke them; the first admin comes from
-- NOVA_ADMIN_USERNAMES.
ALTER TABLE users ADD COLUMN roles TEXT NOT NULL DEFAULT '';
-- A suspension trust & safety imposed (its action id) and when it lapses (NULL: until
-- reversed). A suspended account cannot log in; its sessions were ended.
ALTER TABLE users ADD COLUMN suspension_action TEXT;
ALTER TABLE users ADD COLUMN suspended_until TIMESTAMPTZ;
