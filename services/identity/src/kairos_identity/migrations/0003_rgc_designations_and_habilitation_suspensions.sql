-- An RGC designated by the head after a vacancy (CGU §4.1, K10) gets its own account, one per
-- designation however often the event is delivered.
ALTER TABLE account ADD COLUMN rgc_designation_id uuid;
CREATE UNIQUE INDEX account_rgc_designation ON account (rgc_designation_id)
    WHERE rgc_designation_id IS NOT NULL;
-- A habilitation suspended at the annual review (K14) refuses its holder a session until the
-- RGC confirms it; the account's status (provisional, active) is left as it is.
ALTER TABLE account ADD COLUMN habilitation_suspended_at timestamptz;
