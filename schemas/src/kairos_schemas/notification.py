"""Event contracts of the notification service: e-mails sent, retried, undeliverable (K23, K24).

notification publishes on `TOPIC`, keyed by the notification's id. An event names the e-mail by
its notification id, its kind and the event that caused it, and its recipient by account id
only: never the address, the subject or the body (they name people).
"""

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from kairos_schemas.events import Event

TOPIC = "kairos.notification.v1"


class NotificationSent(Event):
    """An e-mail was accepted by the SMTP server for its recipient (K24), after `attempts`
    tries; it is not sent again for the same triggering event and recipient."""

    event_type: ClassVar[str] = "fr.kairos.notification.notification-sent.v1"
    topic: ClassVar[str] = TOPIC

    notification_id: str
    kind: str = Field(min_length=1)
    trigger_event_id: str = Field(min_length=1)
    organisation_id: str | None = None
    recipient_account_id: str | None = None
    sent_at: datetime
    attempts: int = Field(ge=1)

    def partition_key(self) -> str:
        return self.notification_id


class NotificationFailed(Event):
    """An e-mail could not be delivered and will not be retried (K24): the server refused it
    for good (`permanent`: an unknown mailbox, an invalid address) or every retry with
    back-off failed. `error` is the SMTP reply or the connection failure, with any address
    in it redacted."""

    event_type: ClassVar[str] = "fr.kairos.notification.notification-failed.v1"
    topic: ClassVar[str] = TOPIC

    notification_id: str
    kind: str = Field(min_length=1)
    trigger_event_id: str = Field(min_length=1)
    organisation_id: str | None = None
    recipient_account_id: str | None = None
    failed_at: datetime
    attempts: int = Field(ge=1)
    error: str = Field(max_length=1000)
    permanent: bool

    def partition_key(self) -> str:
        return self.notification_id
