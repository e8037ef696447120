-- Declaration service: training sessions, declarations in versions (K16-K20), read audit (K22).

-- The OF's training sessions, by their Carif-Oref numbers (K16): dates and weekly hours bound
-- what can be declared about them (K19).
CREATE TABLE training_session (
    organisation_id uuid NOT NULL,
    action_number text NOT NULL,
    session_number text NOT NULL,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    weekly_hours numeric(5, 2) NOT NULL CHECK (weekly_hours > 0 AND weekly_hours <= 60),
    registered_by uuid NOT NULL,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (organisation_id, action_number, session_number),
    CHECK (ends_on >= starts_on)
);

-- Every version of every declaration, never updated nor deleted (K20). A correction is the
-- next version with the whole declaration again; a cancellation is the next version with
-- `cancelled`. `payload` is the kind's own fields, as published.
CREATE TABLE declaration_version (
    declaration_id uuid NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    organisation_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('interruption', 'correspondent', 'information_meetings',
        'information_meeting_result', 'entry', 'attendance', 'exit')),
    action_number text NOT NULL,
    session_number text NOT NULL,
    trainee_id text,
    payload jsonb NOT NULL,
    cancelled boolean NOT NULL DEFAULT false,
    reason text,
    declared_by uuid NOT NULL,
    declared_at timestamptz NOT NULL,
    due_by date NOT NULL,
    late boolean NOT NULL,
    PRIMARY KEY (declaration_id, version),
    FOREIGN KEY (organisation_id, action_number, session_number)
        REFERENCES training_session (organisation_id, action_number, session_number)
);

-- The current version of each declaration: what the rules check against (K19).
CREATE TABLE declaration (
    declaration_id uuid PRIMARY KEY,
    current_version integer NOT NULL,
    organisation_id uuid NOT NULL,
    kind text NOT NULL,
    action_number text NOT NULL,
    session_number text NOT NULL,
    trainee_id text,
    attendance_month date,
    live boolean NOT NULL,
    first_declared_at timestamptz NOT NULL,
    last_changed_at timestamptz NOT NULL,
    late boolean NOT NULL,
    FOREIGN KEY (declaration_id, current_version) REFERENCES declaration_version
);
CREATE INDEX declaration_trainee
    ON declaration (organisation_id, trainee_id, action_number, session_number);
CREATE INDEX declaration_listing ON declaration (organisation_id, kind, first_declared_at, declaration_id);
-- At most one live entry per trainee and session, one live statement per trainee and month
-- (K19): the database holds the line even when two requests race.
CREATE UNIQUE INDEX declaration_one_entry
    ON declaration (organisation_id, trainee_id, action_number, session_number)
    WHERE kind = 'entry' AND live;
CREATE UNIQUE INDEX declaration_one_statement_a_month
    ON declaration (organisation_id, trainee_id, action_number, session_number, attendance_month)
    WHERE kind = 'attendance' AND live;

-- Who read which trainee data, when (K22).
CREATE TABLE read_audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    what text NOT NULL,
    trainee_id text,
    criteria jsonb NOT NULL DEFAULT '{}',
    rows_returned integer NOT NULL,
    read_at timestamptz NOT NULL
);
CREATE INDEX read_audit_account ON read_audit (account_id, read_at);
