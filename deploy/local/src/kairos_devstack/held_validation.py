"""An organisation validated by the identity service while its validation has, for certain, not
reached any other service: what an RGC meets who acts a moment after the validation.

The identity service's outbox relay publishes a key's rows only while it holds that key's
advisory lock (:mod:`kairos_shared.relay`). :func:`validation_held_back` takes the lock of the
organisation's key in the identity service's database before the operator validates, so
``AdhesionValidated`` stays in the outbox, unpublished, until the block exits — a barrier, not
a guess about how fast events travel. Integration tests only (`kairos_devstack.platform`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from http import HTTPStatus

import asyncpg

from kairos_devstack.platform import Organisation, Platform, bearer
from kairos_devstack.testing import adhesion_request
from kairos_schemas.identity import AdhesionValidated

_RELAY_LOCK_NAMESPACE = 0x4B4F
"""The relay's advisory-lock namespace (`kairos_shared.relay._LOCK_NAMESPACE`)."""


async def validation_unpublished(platform: Platform, organisation_id: str) -> bool:
    """Whether the identity service's ``AdhesionValidated`` for the organisation is written and
    still waiting in its outbox."""
    connection = await asyncpg.connect(platform.database_urls["identity"])
    try:
        published = await connection.fetch(
            """
            SELECT published_at FROM outbox
            WHERE key = $1 AND header_values[array_position(header_names, 'ce_type')] = $2
            """,
            organisation_id.encode(),
            AdhesionValidated.event_type.encode(),
        )
    finally:
        await connection.close()
    return len(published) == 1 and published[0]["published_at"] is None


@contextlib.asynccontextmanager
async def validation_held_back(platform: Platform, seed: int) -> AsyncIterator[Organisation]:
    """An adhesion requested and validated, its RGC logged in (identity), while no event about
    the organisation leaves the identity service; on exit the events go out."""
    requested = await platform.identity_http.post("/v1/organisations", json=adhesion_request(seed))
    assert requested.status_code == HTTPStatus.CREATED, requested.text
    organisation_id = requested.json()["organisation_id"]
    holder = await asyncpg.connect(platform.database_urls["identity"])
    try:
        lock_key = await holder.fetchval(
            "SELECT lock_key FROM outbox WHERE key = $1 LIMIT 1", organisation_id.encode()
        )
        assert lock_key is not None, "AdhesionRequested is not in the identity service's outbox"
        # Waits for a relay round that has the key (AdhesionRequested) to finish, then holds it.
        await holder.execute("SELECT pg_advisory_lock($1, $2)", _RELAY_LOCK_NAMESPACE, lock_key)
        validated = await platform.identity_http.post(
            f"/v1/organisations/{organisation_id}/validation",
            headers=bearer(platform.operator_token),
        )
        assert validated.status_code == HTTPStatus.CREATED, validated.text
        rgc = validated.json()
        token = await platform.activate(rgc["login_id"], rgc["provisional_password"])
        assert await validation_unpublished(platform, organisation_id), "not held back"
        yield Organisation(
            organisation_id, rgc["account_id"], token, seed, rgc["login_id"],
            rgc["provisional_password"],
        )  # fmt: skip
    finally:
        await holder.close()  # ends the session: its advisory lock is released
