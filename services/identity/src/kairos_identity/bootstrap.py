"""The one place that wires the identity service."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import asyncpg
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import FastAPI

from kairos_identity.adapters.password_hasher import Argon2idHasher
from kairos_identity.config import IdentitySettings
from kairos_identity.domain.request_rate import RequestRate
from kairos_identity.domain.throttling import LoginThrottlePolicy
from kairos_identity.entrypoints.consumers import subscriptions
from kairos_identity.entrypoints.http import router
from kairos_identity.service_layer.context import (
    IdentityContext,
    PoolHolder,
    adhesion_throttle_policy,
)
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_shared.access_hours import AccessCalendar, AccessHoursSettings
from kairos_shared.clock import Clock, system_clock
from kairos_shared.dead_letters import DeadLetterPublisher
from kairos_shared.kafka import make_broker
from kairos_shared.messaging import Subscription
from kairos_shared.periodic import PeriodicJob
from kairos_shared.runtime import create_service_app
from kairos_shared.tokens import TokenSigner

MIGRATIONS = Path(str(files("kairos_identity") / "migrations"))

log = structlog.get_logger(__name__)


def signing_key(settings: IdentitySettings) -> Ed25519PrivateKey:
    if settings.signing_key_pem is None:
        log.warning("no signing key configured: a temporary one signs tokens (development only)")
        return Ed25519PrivateKey.generate()
    key = load_pem_private_key(settings.signing_key_pem.get_secret_value().encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("KAIROS_IDENTITY_SIGNING_KEY_PEM must be an Ed25519 private key")
    return key


def identity_context(
    settings: IdentitySettings, resources: PoolHolder, clock: Clock | None = None
) -> IdentityContext:
    return IdentityContext(
        resources=resources,
        clock=clock or system_clock(settings.clock_offset_file),
        hasher=Argon2idHasher(
            memory_cost=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost
        ),
        signer=TokenSigner(signing_key(settings)),
        calendar=AccessCalendar(AccessHoursSettings().rules()),
        expiry_notice_days=settings.expiry_notice_days,
        adhesion_request_validity=timedelta(days=settings.adhesion_request_validity_days),
        adhesion_throttle=adhesion_throttle_policy(
            settings.adhesion_requests_free, settings.adhesion_requests_lock_after
        ),
        rate_per_address=RequestRate(
            burst=settings.login_rate_per_address_burst,
            interval=timedelta(minutes=1) / settings.login_rate_per_address_per_minute,
        ),
        rate_global=RequestRate.per_second(
            settings.login_rate_global_burst, settings.login_rate_global_per_second
        ),
        hashing_workers=settings.password_hashing_workers,
        hashing_queue=settings.password_hashing_queue,
        throttle=LoginThrottlePolicy(
            free_attempts=settings.login_free_attempts,
            max_delay=timedelta(seconds=settings.login_max_delay_seconds),
            lock_threshold=settings.login_lock_threshold,
            lock_duration=timedelta(minutes=settings.login_lock_minutes),
        ),
    )


def create_app(settings: IdentitySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or IdentitySettings()
    broker = make_broker(
        settings.kafka_bootstrap_servers, client_id=settings.service_name, security=settings
    )

    async def deadlines() -> object:
        return await apply_deadlines(app.state.identity)

    def consumers(pool: asyncpg.Pool, dead_letters: DeadLetterPublisher) -> Iterable[Subscription]:
        return subscriptions(app.state.identity, pool, dead_letters)

    app = create_service_app(
        settings,
        title="Kairos identity service",
        migrations_dir=MIGRATIONS,
        broker=broker,
        routers=[router],
        consumers=consumers,
        periodic=[PeriodicJob("deadlines", settings.deadlines_interval_seconds, deadlines)],
    )
    app.state.identity = identity_context(settings, app.state.resources, clock)
    return app
