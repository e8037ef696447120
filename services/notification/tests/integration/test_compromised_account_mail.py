"""K7, K23: the holder of an account an operator flags as compromised is told, in French, that
the sessions were closed and that a new password is asked at the next login; never the reason's
evidence or a credential. Through the running platform and the SMTP sink."""

from __future__ import annotations

import uuid
from typing import Any

from kairos_notification.service_layer.delivery import deliver_all_due

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)


async def test_the_holder_of_a_compromised_account_is_told(platform: Platform) -> None:
    organisation = await platform.organisation(seed=841)
    flagged = await platform.identity_http.post(
        f"/v1/accounts/{organisation.rgc_account_id}/compromise",
        json={"reason": "identifiants saisis sur un faux site"},
        headers={"Authorization": f"Bearer {platform.operator_token}"},
    )
    assert flagged.status_code == 200, flagged.text
    pool = platform.notification.state.resources.require_pool()

    async def queued() -> list[Any] | None:
        rows = await pool.fetch(
            "SELECT * FROM notification WHERE recipient_account_id = $1 AND kind = $2",
            uuid.UUID(organisation.rgc_account_id), "account_compromised",
        )  # fmt: skip
        return list(rows) or None

    [row] = await platform.eventually(queued)
    assert row["recipient_email"] == "rgc.841@of.example"
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
    [mail] = [m for m in platform.mails.all() if m.summary()["Subject"] == row["subject"]]
    text = mail.detail()["Text"]
    assert "nouveau mot de passe" in text
    assert "faux site" not in text  # the operator's evidence stays with the operators
