-- A SIRET is never blocked for good (K1): an operator may reject a request, a pending request
-- expires after a configured time, and only a live organisation (requested, active, suspended)
-- holds its SIRET. A rejected, expired or withdrawn organisation keeps its row and history; the
-- same SIRET applies again as a new organisation.
ALTER TABLE organisation DROP CONSTRAINT organisation_siret_key;
ALTER TABLE organisation DROP CONSTRAINT organisation_status_check;
ALTER TABLE organisation ADD CONSTRAINT organisation_status_check CHECK (status IN (
    'requested', 'active', 'suspended', 'withdrawn', 'expired', 'rejected', 'request_expired'));
CREATE UNIQUE INDEX organisation_live_siret ON organisation (siret)
    WHERE status IN ('requested', 'active', 'suspended');
CREATE INDEX organisation_siret ON organisation (siret);
CREATE INDEX organisation_pending ON organisation (requested_at) WHERE status = 'requested';

-- Adhesion requests per client address (the login throttle's rule, K8): a few go through at
-- once, then each waits longer, then the address waits a day. Shared by every replica.
CREATE TABLE adhesion_throttle (
    client_address text PRIMARY KEY,
    requests integer NOT NULL,
    last_request_at timestamptz NOT NULL
);

-- Evidence of compromise (K7): an operator flags an account; its sessions end and its next
-- login may only set a new password. Kept for the record once the password is changed.
ALTER TABLE account ADD COLUMN compromised_at timestamptz;
ALTER TABLE account ADD COLUMN compromised_by uuid;
ALTER TABLE account ADD COLUMN compromise_reason text CHECK (char_length(compromise_reason) <= 500);
