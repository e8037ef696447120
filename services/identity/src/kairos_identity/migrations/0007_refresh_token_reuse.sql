-- Refresh-token reuse (RFC 9700 §4.14.2): the hash of the token a rotation replaced is kept;
-- presenting it again means two parties hold the session's tokens, and the session ends.
ALTER TABLE session ADD COLUMN previous_refresh_token_hash bytea UNIQUE;
