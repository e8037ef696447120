-- A successor RGC is designated on the same terms as the first (CGU §4.1, K10): the head's (or,
-- without a head account, a request tied to the SIRET and checked against the adhesion's head)
-- waits for an operator's validation. A designation may also open the head's account when the
-- organisation has neither an RGC nor a head account. Designations made before this were
-- effective at once: they count as validated.
ALTER TABLE organisation ADD COLUMN siret text;
CREATE INDEX organisation_siret ON organisation (siret);

ALTER TABLE rgc_designation ALTER COLUMN designated_by DROP NOT NULL;
ALTER TABLE rgc_designation
    ADD COLUMN account_role text NOT NULL DEFAULT 'rgc' CHECK (account_role IN ('rgc', 'head')),
    ADD COLUMN status text NOT NULL DEFAULT 'validated'
        CHECK (status IN ('pending', 'validated', 'rejected')),
    ADD COLUMN decided_by uuid,
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN rejection_reason text;
ALTER TABLE rgc_designation ALTER COLUMN status SET DEFAULT 'pending';
CREATE INDEX rgc_designation_pending ON rgc_designation (designated_at) WHERE status = 'pending';
