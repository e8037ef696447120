-- A designated RGC's (or head's) provisional credentials are handed over by the operator who
-- validated the designation (K10, CGU §4.1: on the same terms as the first RGC): that operator
-- alone retrieves them, once.
ALTER TABLE account ADD COLUMN hand_over_by uuid;

-- An adhesion may say that the head is also the RGC (K1): one person, one account holding both.
ALTER TABLE organisation ADD COLUMN head_is_rgc boolean NOT NULL DEFAULT false;
