-- Request rates per client address (K8): the adhesion throttle's table, now keyed by what is
-- throttled too. Adhesion requests keep their rows (scope 'adhesion'); logins, refreshes and
-- password changes share a token bucket per address (scope 'password') and one for everyone
-- (client_address '*'). For a token bucket, last_request_at is the bucket's theoretical arrival
-- time (GCRA) and requests is unused.
ALTER TABLE adhesion_throttle RENAME TO client_throttle;
ALTER TABLE client_throttle ADD COLUMN scope text NOT NULL DEFAULT 'adhesion';
ALTER TABLE client_throttle ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE client_throttle DROP CONSTRAINT adhesion_throttle_pkey;
ALTER TABLE client_throttle ADD PRIMARY KEY (scope, client_address);

-- Failed logins per (login id, client address) and per login id (client_address ''), for known
-- and unknown login ids alike (no enumeration): the first slow down and then lock one address;
-- the second only slow down, and never an address the login id recently succeeded from (K8:
-- no one can keep another person locked out).
CREATE TABLE login_failures (
    login_id text NOT NULL CHECK (char_length(login_id) <= 100),
    client_address text NOT NULL CHECK (char_length(client_address) <= 100),
    failures integer NOT NULL,
    last_failure_at timestamptz,
    last_success_at timestamptz,
    PRIMARY KEY (login_id, client_address)
);
CREATE INDEX login_failures_quiet ON login_failures (greatest(last_failure_at, last_success_at));
