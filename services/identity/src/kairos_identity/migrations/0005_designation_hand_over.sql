-- A designated RGC's (or head's) provisional credentials are handed over by the operator who
-- validated the designation (K10, CGU §4.1: on the same terms as the first RGC): that operator
-- alone retrieves them, once.
ALTER TABLE account ADD COLUMN hand_over_by uuid;
