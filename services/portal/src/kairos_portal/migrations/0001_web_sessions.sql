-- Web sessions (K9): the browser holds an opaque random id; this table keeps its SHA-256 and
-- the person's access and refresh tokens, deleted at logout and after the idle timeout.
CREATE TABLE web_sessions (
    session_key       bytea PRIMARY KEY,
    login_id          text NOT NULL CHECK (length(login_id) <= 100),
    access_token      text NOT NULL,
    refresh_token     text NOT NULL,
    access_expires_at timestamptz NOT NULL,
    csrf_token        text NOT NULL,
    created_at        timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL
);

CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);
