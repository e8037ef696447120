-- Annual review campaigns (K14) and operator demands (K10, K15).

-- One campaign per organisation and year, over the habilitations live (pending or active) when
-- it opened. `reminder_days` are the reminders planned (days before the deadline) and
-- `reminders_sent` those already handled, each at most once. `opened_by` is the operator who
-- opened it at once (NULL: opened by the scheduler on the validation's anniversary).
CREATE TABLE review_campaign (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    year integer NOT NULL,
    opens_at timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    reminder_days integer[] NOT NULL DEFAULT '{}',
    reminders_sent integer[] NOT NULL DEFAULT '{}',
    opened_by uuid,
    closed_at timestamptz,
    default_applied text CHECK (default_applied IN ('flag_to_operator', 'suspend')),
    UNIQUE (organisation_id, year),
    CHECK (deadline > opens_at),
    CHECK ((closed_at IS NULL) = (default_applied IS NULL))
);
-- At most one campaign open per organisation at a time.
CREATE UNIQUE INDEX review_campaign_open_one
    ON review_campaign (organisation_id) WHERE closed_at IS NULL;
CREATE INDEX review_campaign_due ON review_campaign (deadline) WHERE closed_at IS NULL;

-- The RGC's decision on each habilitation under review (the latest one counts). A habilitation
-- ended during the campaign by other means is recorded as "ended" at the close, decided by
-- nobody.
CREATE TABLE review_item (
    campaign_id uuid NOT NULL REFERENCES review_campaign (id),
    habilitation_id uuid NOT NULL REFERENCES habilitation (id),
    decision text CHECK (decision IN ('confirmed', 'ended')),
    reason text CHECK (char_length(reason) <= 2000),
    decided_by uuid,
    decided_at timestamptz,
    PRIMARY KEY (campaign_id, habilitation_id),
    CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX review_item_habilitation ON review_item (habilitation_id);

-- An operator's demand: end habilitations that usage does not justify (K15), or revoke the
-- RGC (K10), before `deadline`. Settled once (`settled_at`), by the organisation's answers or
-- by enforcement at the deadline.
CREATE TABLE demand (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    kind text NOT NULL CHECK (kind IN ('end_habilitations', 'revoke_rgc')),
    reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 2000),
    issued_by uuid NOT NULL,
    issued_at timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    settled_at timestamptz,
    CHECK (deadline > issued_at)
);
CREATE INDEX demand_organisation ON demand (organisation_id, issued_at);
CREATE INDEX demand_unsettled ON demand (deadline) WHERE settled_at IS NULL;

-- One item per habilitation demanded ended, or one for the RGC demanded revoked (the account
-- in office when the demand was issued). `outcome` is final once the demand is settled.
CREATE TABLE demand_item (
    demand_id uuid NOT NULL REFERENCES demand (id),
    position integer NOT NULL,
    habilitation_id uuid REFERENCES habilitation (id),
    rgc_account_id uuid,
    outcome text CHECK (outcome IN ('ended', 'justified', 'enforced', 'moot')),
    justification text CHECK (char_length(justification) BETWEEN 1 AND 2000),
    justified_by uuid,
    justified_at timestamptz,
    PRIMARY KEY (demand_id, position),
    UNIQUE (demand_id, habilitation_id),
    CHECK (num_nonnulls(habilitation_id, rgc_account_id) = 1),
    CHECK ((justification IS NULL) = (justified_at IS NULL))
);
CREATE INDEX demand_item_habilitation ON demand_item (habilitation_id);
