-- Deleting a post (or anything else media are attached to) deletes its media: found by
-- what they are attached to.
CREATE INDEX media_attached_idx ON media (attached_to) WHERE attached_to <> '';
