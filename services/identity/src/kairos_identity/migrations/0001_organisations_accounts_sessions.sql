-- Identity service: organisations (adhesions, K1-K3), accounts (K5-K8), sessions (K9).

CREATE TABLE organisation (
    id uuid PRIMARY KEY,
    siret text NOT NULL UNIQUE,              -- one adhesion per SIRET (K1)
    nda text NOT NULL,
    legal_name text NOT NULL,
    street text NOT NULL,
    postal_code text NOT NULL,
    city text NOT NULL,
    departement text NOT NULL,
    zone text NOT NULL,
    head_first_name text NOT NULL,
    head_last_name text NOT NULL,
    head_function text NOT NULL,
    head_email text NOT NULL,
    rgc_first_name text NOT NULL,
    rgc_last_name text NOT NULL,
    rgc_email text NOT NULL,
    terms_version text NOT NULL,
    terms_accepted_on date NOT NULL,
    status text NOT NULL CHECK (status IN ('requested', 'active', 'suspended', 'withdrawn', 'expired')),
    requested_at timestamptz NOT NULL,
    validated_at timestamptz,
    validated_by uuid,
    access_expires_at timestamptz,
    -- expiry notices already emitted for the current access period (days before expiry)
    expiry_notices_sent integer[] NOT NULL DEFAULT '{}',
    status_reason text,
    status_changed_at timestamptz
);
CREATE INDEX organisation_expiry ON organisation (access_expires_at) WHERE status = 'active';

CREATE TABLE account (
    id uuid PRIMARY KEY,
    organisation_id uuid REFERENCES organisation (id),
    role text NOT NULL CHECK (role IN ('operator', 'head', 'rgc', 'user')),
    login_id text NOT NULL UNIQUE,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    habilitation_id uuid,
    status text NOT NULL CHECK (status IN ('provisional', 'active', 'lapsed', 'disabled')),
    -- argon2id hash; NULL until the provisional password has been issued
    password_hash text,
    must_change_password boolean NOT NULL DEFAULT true,
    provisional_until timestamptz,
    provisional_issued_at timestamptz,
    provisional_reminders_sent integer[] NOT NULL DEFAULT '{}',
    failed_logins integer NOT NULL DEFAULT 0,
    last_failed_login_at timestamptz,
    created_at timestamptz NOT NULL,
    activated_at timestamptz,
    last_login_at timestamptz,
    CHECK ((role = 'operator') = (organisation_id IS NULL))
);
CREATE INDEX account_organisation ON account (organisation_id);
CREATE INDEX account_provisional ON account (provisional_until) WHERE status = 'provisional';

-- Server-side sessions: deleted at logout (K9, §6); the refresh token is stored hashed.
CREATE TABLE session (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES account (id),
    refresh_token_hash bytea NOT NULL UNIQUE,
    password_change_only boolean NOT NULL,
    started_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    refreshed_at timestamptz
);
CREATE INDEX session_account ON session (account_id);
