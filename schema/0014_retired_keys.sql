-- 0014_retired_keys: the keys a node held before it was enrolled anew. See
-- docs/FORMAT.md, "Keys".
--
-- A node whose device is replaced is enrolled again with the new device's
-- key. The commits the old key signed stay in everyone's history, so the
-- row keeps each earlier key with the time it stopped counting (its
-- revocation, or the new enrolment): a JSON array of
-- {"key": "ssh-ed25519 BASE64", "until": "YYYY-MM-DDTHH:MM:SS+08:00"},
-- oldest first. A commit signed with a retired key is taken only when it
-- was made by then.

ALTER TABLE sync_signers ADD COLUMN retired_keys TEXT
	CHECK (retired_keys IS NULL OR (json_valid(retired_keys) AND json_type(retired_keys) = 'array'));
