"""Issue 16: « Écrire à France Travail » without an account, through Kafka and PostgreSQL. A
message whose SIRET and head match the adhesion reaches the operators' mailbox; one that does
not gets the same answer (no enumeration) and sends nothing."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_devstack.testing import valid_siret

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)
KIND = "message_to_operators"


def head_of(seed: int) -> dict[str, str]:
    """The head as the platform's adhesion declared it."""
    return {"first_name": "Inès", "last_name": "Roux", "email": f"ines.roux.{seed}@of.example"}


async def _queued(platform: Platform, organisation_id: str) -> list[Any] | None:
    pool = platform.notification.state.resources.require_pool()
    rows = await pool.fetch(
        "SELECT * FROM notification WHERE organisation_id = $1 AND kind = $2",
        uuid.UUID(organisation_id), KIND,
    )  # fmt: skip
    return list(rows) or None


async def test_a_matching_message_reaches_the_operators_and_a_wrong_head_answers_the_same(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=841)
    shouting = {"first_name": "INES", "last_name": " roux ", "email": head_of(841)["email"]}
    wrong = {**head_of(841), "email": "someone@else.example"}

    async def write(head: dict[str, str], subject: str) -> Any:
        return await platform.http.post(
            "/v1/messages-to-operators",
            json={"siret": valid_siret(841), "head": head, "subject": subject,
                  "text": "Nous avons régularisé.\nMerci de lever la suspension."},
        )  # fmt: skip

    refused = await write(wrong, "Message d'un inconnu")
    sent = await write(shouting, "Levée de la suspension")
    assert (refused.status_code, sent.status_code) == (202, 202), (refused.text, sent.text)
    assert refused.json().keys() == sent.json().keys()
    assert refused.json()["next_step"] == sent.json()["next_step"]

    # The matching message, written after the other (same organisation: same partition, in
    # order), is the barrier: once it is queued, the other would have been too.
    async def matching_queued() -> list[Any] | None:
        rows = await _queued(platform, organisation.id) or []
        return rows if any("Levée de la suspension" in r["subject"] for r in rows) else None

    [row] = await platform.eventually(matching_queued)
    context = platform.notification.state.notification
    assert row["recipient_email"] == context.operators_mailbox
    assert "Levée de la suspension" in row["subject"]
