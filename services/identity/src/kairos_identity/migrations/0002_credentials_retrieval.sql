-- Provisional credentials of habilitated people are generated when their RGC retrieves them,
-- once (K11); nothing secret is stored before that. An account per habilitation at most.
ALTER TABLE account ADD COLUMN credentials_retrieved_at timestamptz;
UPDATE account SET credentials_retrieved_at = created_at WHERE password_hash IS NOT NULL;
CREATE UNIQUE INDEX account_habilitation ON account (habilitation_id) WHERE habilitation_id IS NOT NULL;
