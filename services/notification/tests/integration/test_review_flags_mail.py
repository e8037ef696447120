"""K14, K23: a review campaign that closes with habilitations flagged to the operators sends
one e-mail to the operators' mailbox, listing them (who, which function), and none when its
default suspends them; through the running platform and the SMTP sink."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from kairos_habilitation.domain.reviews import ReviewDefault, ReviewPolicy
from kairos_habilitation.service_layer.review_deadlines import remind_and_close
from kairos_notification.service_layer.delivery import deliver_all_due

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _queued(platform: Platform, organisation_id: str, kind: str) -> list[Any] | None:
    pool = platform.notification.state.resources.require_pool()
    rows = await pool.fetch(
        "SELECT * FROM notification WHERE organisation_id = $1 AND kind = $2",
        uuid.UUID(organisation_id), kind,
    )  # fmt: skip
    return list(rows) or None


async def _review_closed(platform: Platform, seed: int, emails: list[str]) -> Any:
    organisation = await platform.organisation(seed=seed)
    for email in emails:
        await platform.active_holder(organisation, email)
    opened = await platform.http.post(
        f"/v1/organisations/{organisation.id}/reviews", headers=bearer(platform.operator_token)
    )
    assert opened.status_code == 201, opened.text
    platform.clock.set(datetime.fromisoformat(opened.json()["deadline"]) + timedelta(minutes=1))
    return organisation


async def test_one_email_per_closed_campaign_lists_the_flags_to_the_operators(
    platform: Platform,
) -> None:
    organisation = await _review_closed(
        platform, 831, ["fanny.flag@of.example", "luc.flag@of.example"]
    )
    assert (await remind_and_close(platform.context))["closed"] == 1
    [row] = await platform.eventually(
        lambda: _queued(platform, organisation.id, "review_flags_to_operators")
    )
    await platform.eventually(lambda: _queued(platform, organisation.id, "review_overdue"))
    context = platform.notification.state.notification
    assert row["recipient_email"] == context.operators_mailbox
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
    [mail] = [m for m in platform.mails.all() if m.summary()["Subject"] == row["subject"]]
    assert mail.envelope_to == [context.operators_mailbox]
    text = mail.detail()["Text"]
    assert "Organisme 831" in text
    assert "2 habilitation(s)" in row["subject"]
    for email in ("fanny.flag@of.example", "luc.flag@of.example"):
        [habilitated] = await context.pool.fetch(
            "SELECT habilitation_id, first_name, last_name FROM recipient_habilitation"
            " WHERE email = $1",
            email,
        )
        assert f"{habilitated['first_name']} {habilitated['last_name']}" in text
        assert str(habilitated["habilitation_id"]) in text


async def test_no_email_to_the_operators_when_the_review_suspends(platform: Platform) -> None:
    organisation = await _review_closed(platform, 832, ["zoe.suspend@of.example"])
    suspending = dataclasses.replace(
        platform.context, review_policy=ReviewPolicy(default=ReviewDefault.SUSPEND)
    )
    assert (await remind_and_close(suspending))["closed"] == 1
    # The RGC's own e-mail of the same event is the barrier: the event was applied.
    await platform.eventually(lambda: _queued(platform, organisation.id, "review_overdue"))
    assert await _queued(platform, organisation.id, "review_flags_to_operators") is None
