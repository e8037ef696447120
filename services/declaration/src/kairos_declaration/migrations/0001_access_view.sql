-- Declaration service: its own view of who may declare for which organisation (K17, K9, K3),
-- projected from the identity and habilitation events; no other service is ever asked.
--
-- Events of different keys (an organisation, an account, a habilitation) arrive in any order
-- across partitions and topics, so each fact has its own row, keyed by what its events are
-- about, and every write is a merge that gives the same row whatever the order of arrival and
-- however often an event is applied: first instants with least(), latest states by the event's
-- own time (on a tie, the later arrival wins, which is Kafka's order within a key).

-- Organisations. `zone` is NULL until AdhesionValidated arrives: only then is the organisation
-- known. Its access status is the latest event's (`status_at`), a withdrawal being final (K3).
CREATE TABLE organisation_access (
    organisation_id uuid PRIMARY KEY,
    zone text,
    validated_at timestamptz,
    access_expires_at timestamptz,
    status text NOT NULL CHECK (status IN ('active', 'suspended', 'withdrawn', 'expired')),
    status_at timestamptz NOT NULL
);

-- Habilitations (K11-K14): whose account (HabilitationActivated, or any event naming it), when
-- activated, whether suspended (the latest of HabilitationSuspended / HabilitationReinstated),
-- when ended (final).
CREATE TABLE declarer_habilitation (
    habilitation_id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL,
    account_id uuid,
    activated_at timestamptz,
    suspended boolean NOT NULL DEFAULT false,
    suspension_changed_at timestamptz,
    ended_at timestamptz,
    end_reason text
);
CREATE INDEX declarer_habilitation_account ON declarer_habilitation (account_id, organisation_id);

-- RGC terms (K10): an account in the organisation's RGC post from `took_office_at`
-- (AdhesionValidated or RgcTookOffice) until `vacated_at` (RgcPostVacated). An account holds the
-- post once: a new RGC always gets a new account.
CREATE TABLE rgc_term (
    account_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    took_office_at timestamptz,
    vacated_at timestamptz,
    PRIMARY KEY (account_id, organisation_id)
);

-- Accounts whose provisional credentials lapsed (AccountLapsed, RgcAccountLapsed; K6): final.
CREATE TABLE lapsed_account (
    account_id uuid PRIMARY KEY,
    lapsed_at timestamptz NOT NULL
);

-- Login sessions the identity service ended (SessionEnded: logout, lapse, revocation,
-- suspension...): their access tokens are refused at once, before they expire (K9). Not to be
-- confused with training sessions. Rows older than any token's lifetime may be pruned.
CREATE TABLE ended_login_session (
    session_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    ended_at timestamptz NOT NULL
);
CREATE INDEX ended_login_session_age ON ended_login_session (ended_at);
