-- Habilitations the annual review flagged to the operators (K14 default "flag_to_operator"),
-- written with their HabilitationFlagged event: operators list them per organisation and
-- across organisations, and may issue a demand (K15) from them (`demand_id`, the demand that
-- answered the flag).
CREATE TABLE habilitation_flag (
    id uuid PRIMARY KEY,
    habilitation_id uuid NOT NULL REFERENCES habilitation (id),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    campaign_id uuid NOT NULL REFERENCES review_campaign (id),
    reason text NOT NULL CHECK (reason IN ('annual_review_overdue')),
    flagged_at timestamptz NOT NULL,
    demand_id uuid REFERENCES demand (id),
    UNIQUE (campaign_id, habilitation_id)
);
CREATE INDEX habilitation_flag_organisation ON habilitation_flag (organisation_id, flagged_at);
CREATE INDEX habilitation_flag_unanswered ON habilitation_flag (flagged_at) WHERE demand_id IS NULL;

-- The flags of the campaigns closed before this table existed.
INSERT INTO habilitation_flag (id, habilitation_id, organisation_id, campaign_id, reason, flagged_at)
SELECT gen_random_uuid(), i.habilitation_id, c.organisation_id, c.id, 'annual_review_overdue',
       c.closed_at
FROM review_campaign c JOIN review_item i ON i.campaign_id = c.id
WHERE c.default_applied = 'flag_to_operator' AND i.decision IS NULL;
