-- Notification service: who is who, as the identity and habilitation events describe them
-- (K23: the right people, without asking another service). No credential is ever stored.

-- Organisations the identity service validated: their name, zone (for local dates), head and
-- RGC post as the habilitation service reports it.
CREATE TABLE recipient_organisation (
    id uuid PRIMARY KEY,
    legal_name text NOT NULL,
    siret text NOT NULL,
    zone text NOT NULL,
    head_first_name text NOT NULL,
    head_last_name text NOT NULL,
    head_email text NOT NULL,
    rgc_account_id uuid,
    head_account_id uuid
);

-- People with an account: their name, e-mail, role and organisation (AccountCreated).
CREATE TABLE recipient_person (
    account_id uuid PRIMARY KEY,
    organisation_id uuid,
    role text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL
);

-- Habilitated people (HabilitationRecorded), before and after their account exists.
CREATE TABLE recipient_habilitation (
    habilitation_id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    function text NOT NULL,
    signed_by text NOT NULL,
    signed_on date NOT NULL,
    account_id uuid
);

-- Sessions the identity service ended: their tokens are refused here at once (K9).
CREATE TABLE ended_session (
    session_id uuid PRIMARY KEY,
    ended_at timestamptz NOT NULL
);

-- Events that call for an e-mail about an organisation not known here yet (events of other keys
-- may overtake its AdhesionValidated): written once it is.
CREATE TABLE parked_event (
    event_id text PRIMARY KEY,
    event_type text NOT NULL,
    organisation_id uuid NOT NULL,
    data jsonb NOT NULL,
    parked_at timestamptz NOT NULL
);
CREATE INDEX parked_event_organisation ON parked_event (organisation_id, parked_at);

-- What the accepted declarations say of trainees in training (read from the integrators'
-- topic, as any integrator would): enough to remind an organisation, before the deadline, of
-- the monthly attendance statements still missing (K18, K23). Corrections update a row,
-- cancellations make it not live.
CREATE TABLE training_entry (
    declaration_id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL,
    trainee_id text NOT NULL,
    action_number text NOT NULL,
    session_number text NOT NULL,
    day date NOT NULL,
    live boolean NOT NULL
);
CREATE INDEX training_entry_organisation ON training_entry (organisation_id) WHERE live;
CREATE TABLE training_exit (LIKE training_entry INCLUDING ALL);
CREATE TABLE attendance_statement (LIKE training_entry INCLUDING ALL);

-- The reminders sent, one per organisation and month at most (several replicas, one e-mail).
CREATE TABLE attendance_reminder (
    organisation_id uuid NOT NULL,
    month date NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (organisation_id, month)
);
