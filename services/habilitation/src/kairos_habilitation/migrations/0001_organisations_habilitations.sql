-- Habilitation service (COADHA): its view of organisations and accounts (projections of the
-- identity service's events), the RGC post (K10), habilitations (K11-K13) and absences (K13).

-- Organisations the identity service validated (AdhesionValidated), and their access status.
CREATE TABLE organisation (
    id uuid PRIMARY KEY,
    legal_name text NOT NULL,
    zone text NOT NULL,
    head_first_name text NOT NULL,
    head_last_name text NOT NULL,
    head_function text NOT NULL,
    head_email text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'suspended', 'withdrawn', 'expired')),
    validated_at timestamptz NOT NULL,
    status_changed_at timestamptz NOT NULL
);

-- One RGC post per organisation: held by one account, or vacant since a time (K10). While it
-- is vacant the head's account (once the RGC created it) holds the RGC's rights.
CREATE TABLE rgc_post (
    organisation_id uuid PRIMARY KEY REFERENCES organisation (id),
    rgc_account_id uuid,
    head_account_id uuid,
    vacant_since timestamptz,
    CHECK ((rgc_account_id IS NULL) <> (vacant_since IS NULL))
);

-- A new RGC designated by the head; takes office when the identity service created the account.
CREATE TABLE rgc_designation (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    designated_by uuid NOT NULL,
    designated_at timestamptz NOT NULL,
    account_id uuid UNIQUE,
    took_office_at timestamptz
);

CREATE TABLE habilitation (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    role text NOT NULL CHECK (role IN ('head', 'user')),
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    function text NOT NULL,
    signed_by text NOT NULL,
    signed_on date NOT NULL,
    document_sha256 text NOT NULL CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    employee_attested boolean NOT NULL CHECK (employee_attested),
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('pending_account', 'active', 'ended')),
    account_id uuid UNIQUE,
    activated_at timestamptz,
    suspended_at timestamptz,
    ended_at timestamptz,
    end_reason text,
    ended_by uuid,
    CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);
CREATE INDEX habilitation_organisation ON habilitation (organisation_id, recorded_at);
-- A person holds at most one live habilitation per organisation (nominative, K12).
CREATE UNIQUE INDEX habilitation_live_person
    ON habilitation (organisation_id, lower(email)) WHERE status <> 'ended';
-- One head habilitation alive per organisation.
CREATE UNIQUE INDEX habilitation_live_head
    ON habilitation (organisation_id) WHERE status <> 'ended' AND role = 'head';

-- Accounts as the identity service's events describe them (no credential, ever).
CREATE TABLE account (
    id uuid PRIMARY KEY,
    organisation_id uuid,
    role text NOT NULL,
    status text NOT NULL CHECK (status IN ('provisional', 'active', 'lapsed')),
    created_at timestamptz NOT NULL,
    last_login_at timestamptz
);

-- Sessions the identity service ended (logout, lapse, revocation...): their tokens are refused
-- here at once, before they expire (K9). Rows older than any token's lifetime are pruned.
CREATE TABLE ended_session (
    session_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    ended_at timestamptz NOT NULL
);
CREATE INDEX ended_session_age ON ended_session (ended_at);

-- Recorded absences of a habilitated person (K13) or of the RGC (K10). `reaches_limit_on` is
-- the day the absence has lasted more than 3 months; `applied_at` when it ended the
-- habilitation or vacated the post.
CREATE TABLE absence (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    habilitation_id uuid REFERENCES habilitation (id),
    rgc_account_id uuid,
    starts_on date NOT NULL,
    ends_on date,
    reaches_limit_on date NOT NULL,
    recorded_by uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    applied_at timestamptz,
    CHECK (num_nonnulls(habilitation_id, rgc_account_id) = 1),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX absence_due ON absence (reaches_limit_on) WHERE applied_at IS NULL;
