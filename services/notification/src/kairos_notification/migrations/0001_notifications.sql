-- Notification service: every e-mail it is to send, and what became of it (K23, K24).

-- One row per e-mail, written when the triggering event is consumed (status 'queued') and
-- updated by the delivery scheduler: 'sent' once the SMTP server accepted it, retried with
-- back-off on a transient failure (attempts, next_attempt_at, last_error), 'failed' (failed_at)
-- on a permanent one or after the last attempt, 'bounced' when a delivery report comes back.
-- An operator's resend is a new row (resent_from: the row it repeats), never an update.
CREATE TABLE notification (
    id uuid PRIMARY KEY,
    trigger_event_id text NOT NULL,
    trigger_event_type text NOT NULL,
    kind text NOT NULL,
    organisation_id uuid,
    recipient_email text NOT NULL,
    recipient_name text NOT NULL,
    recipient_account_id uuid,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sent', 'failed', 'bounced')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL,
    sent_at timestamptz,
    failed_at timestamptz,
    resent_from uuid REFERENCES notification (id),
    CHECK (status <> 'queued' OR next_attempt_at IS NOT NULL),
    CHECK (status NOT IN ('sent', 'bounced') OR sent_at IS NOT NULL),
    CHECK (status <> 'failed' OR failed_at IS NOT NULL)
);

-- K24: one e-mail per (triggering event, kind, recipient), however often the event is
-- delivered; addresses compare without case. Resends are deliberate repeats, outside it.
CREATE UNIQUE INDEX notification_once_per_event_and_recipient
    ON notification (trigger_event_id, kind, lower(recipient_email))
    WHERE resent_from IS NULL;

-- The scheduler's claim: queued e-mails whose next attempt is due, oldest due first.
CREATE INDEX notification_due ON notification (next_attempt_at, id) WHERE status = 'queued';

-- Delivery status queries, newest first: by recipient (account or address), by organisation.
CREATE INDEX notification_by_account
    ON notification (recipient_account_id, created_at DESC, id DESC)
    WHERE recipient_account_id IS NOT NULL;
CREATE INDEX notification_by_address
    ON notification (lower(recipient_email), created_at DESC, id DESC);
CREATE INDEX notification_by_organisation
    ON notification (organisation_id, created_at DESC, id DESC)
    WHERE organisation_id IS NOT NULL;
CREATE INDEX notification_resent_from ON notification (resent_from)
    WHERE resent_from IS NOT NULL;
