"""K1, K23: the head who asked for an adhesion is told, in French, when an operator rejects it
(with the reason) and when it expires without a decision, and that the same SIRET may apply
again; through the running platform (real Kafka and PostgreSQL) and the SMTP sink."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from kairos_devstack.testing import adhesion_request
from kairos_identity.service_layer.deadlines import apply_deadlines
from kairos_notification.service_layer.delivery import deliver_all_due

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)


async def _mail_of(platform: Platform, organisation_id: str, kind: str) -> Any:
    """The e-mail of `kind` about the organisation, once queued and delivered."""
    pool = platform.notification.state.resources.require_pool()

    async def queued() -> list[Any] | None:
        rows = await pool.fetch(
            "SELECT * FROM notification WHERE organisation_id = $1 AND kind = $2",
            uuid.UUID(organisation_id), kind,
        )  # fmt: skip
        return list(rows) or None

    [row] = await platform.eventually(queued)
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
    [mail] = [m for m in platform.mails.all() if m.summary()["Subject"] == row["subject"]]
    return mail


async def test_the_head_is_told_of_a_rejection_with_its_reason(platform: Platform) -> None:
    requested = await platform.identity_http.post("/v1/organisations", json=adhesion_request(811))
    organisation_id = requested.json()["organisation_id"]
    rejected = await platform.identity_http.post(
        f"/v1/organisations/{organisation_id}/rejection",
        json={"reason": "Numéro de déclaration d'activité inconnu"},
        headers={"Authorization": f"Bearer {platform.operator_token}"},
    )
    assert rejected.status_code == 200, rejected.text
    mail = await _mail_of(platform, organisation_id, "adhesion_rejected")
    assert mail.envelope_to == ["ines.roux.811@of.example"]
    text = mail.detail()["Text"]
    assert "Numéro de déclaration d'activité inconnu" in text
    assert "Organisme 811" in text
    assert "nouvelle demande" in text  # what to do next: apply again


async def test_the_head_is_told_when_the_request_expires(platform: Platform) -> None:
    requested = await platform.identity_http.post("/v1/organisations", json=adhesion_request(812))
    organisation_id = requested.json()["organisation_id"]
    await platform.advance(timedelta(days=30, minutes=1))
    await apply_deadlines(platform.identity.state.identity)
    mail = await _mail_of(platform, organisation_id, "adhesion_request_expired")
    assert mail.envelope_to == ["ines.roux.812@of.example"]
    assert "nouvelle demande" in mail.detail()["Text"]
