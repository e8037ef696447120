"""What the notification service's handlers need, wired once in bootstrap.py."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from kairos_notification.domain.delivery import RetryPolicy
from kairos_notification.service_layer.delivery import DeliveryObserver, Mailer
from kairos_notification.service_layer.queueing import Renderer
from kairos_shared.access_hours import AccessCalendar, OpeningRules
from kairos_shared.bearer import TokenCheck
from kairos_shared.clock import Clock
from kairos_shared.problems import ORGANISATION_SETUP_RETRY_SECONDS
from kairos_shared.runtime import ServiceResources

SOURCE = "/kairos/notification"


@dataclass(frozen=True)
class NotificationContext:
    resources: ServiceResources
    clock: Clock
    renderer: Renderer
    mailer: Mailer
    retry: RetryPolicy
    tokens: TokenCheck
    operators_mailbox: str = "exploitation-kairos@francetravail.example"
    """Where RGCs' incident reports go (CGU §4.1.3)."""
    observe_delivery: DeliveryObserver | None = None
    """Told each delivery's outcome and kind (the service's e-mail metrics)."""
    calendar: AccessCalendar = field(default_factory=lambda: AccessCalendar(OpeningRules()))
    """Opening hours (K4): OF roles read the log and report incidents only inside them."""
    setup_retry_after_seconds: int = ORGANISATION_SETUP_RETRY_SECONDS
    """The ``Retry-After`` of a 503 for an organisation whose validation is still on its way."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self.resources.require_pool()
