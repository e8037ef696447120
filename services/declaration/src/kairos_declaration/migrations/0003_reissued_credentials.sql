-- A lapsed account is no longer final (K6): new provisional credentials reissued by the RGC
-- (ProvisionalCredentialsReissued) lift the lapse. The account is lapsed while its latest lapse
-- is later than its latest reissue, however often and in whatever order the events arrive.
ALTER TABLE lapsed_account ADD COLUMN reissued_at timestamptz;
