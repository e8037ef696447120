"""K13 and K10 by the clock: a recorded absence that reaches 3 months ends the habilitation by
itself (and the identity service then refuses the person); one recorded late ends it at once;
a return before the limit keeps it; the RGC's absence over 3 months vacates the post."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kairos_habilitation.service_layer.absences import apply_due
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_absence_reaching_three_months_ends_the_habilitation_by_itself(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=531)
    habilitation_id, user_token = await platform.active_holder(organisation, "absent@of.example")
    back_id, _ = await platform.active_holder(organisation, "back@of.example")
    rgc = bearer(organisation.rgc_token)
    # Absent from Monday 2 March 2026: more than 3 months from Tuesday 2 June on.
    absent = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/absences", json={"starts_on": "2026-03-02"},
        headers=rgc,
    )  # fmt: skip
    assert absent.status_code == 201, absent.text
    assert absent.json()["reaches_three_months_on"] == "2026-06-02"
    returned = await platform.http.post(
        f"/v1/habilitations/{back_id}/absences", json={"starts_on": "2026-03-02"}, headers=rgc
    )
    back = await platform.http.post(
        f"/v1/absences/{returned.json()['absence_id']}/return", json={"ends_on": "2026-05-29"},
        headers=rgc,
    )  # fmt: skip
    assert back.status_code == 200, back.text

    await platform.advance(timedelta(days=91, hours=12))  # Monday 1 June, 21:00 UTC
    assert await apply_due(platform.context) == 0
    await platform.advance(timedelta(hours=2))  # Tuesday 2 June in Paris
    # Two replicas' schedulers at once: each absence takes effect once.
    rounds = await asyncio.gather(apply_due(platform.context), apply_due(platform.context))
    assert sorted(rounds) == [0, 1]

    ended = await platform.habilitation(habilitation_id)
    assert (ended["status"], ended["end_reason"]) == ("ended", "absence_over_3_months")
    assert (await platform.habilitation(back_id))["status"] == "active"
    endings = await platform.published(events.HabilitationEnded.event_type, organisation.id)
    assert [(e["habilitation_id"], e["reason"], e["ended_by"]) for e in endings] == [
        (habilitation_id, "absence_over_3_months", None)
    ]

    async def refused_by_identity() -> int | None:  # the account was disabled (K13, K9)
        status = await platform.login_status(user_token)
        return status if status != 201 else None

    assert await platform.eventually(refused_by_identity) in {401, 403}


async def test_an_absence_recorded_after_three_months_ends_the_habilitation_at_once(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=532)
    habilitation_id, _ = await platform.active_holder(organisation, "late@of.example")
    absent = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/absences", json={"starts_on": "2025-11-30"},
        headers=bearer(organisation.rgc_token),
    )  # fmt: skip
    assert absent.status_code == 201, absent.text
    assert absent.json()["reaches_three_months_on"] == "2026-02-28"  # clamped to the month's end
    assert absent.json()["took_effect_at"] is not None
    assert (await platform.habilitation(habilitation_id))["end_reason"] == "absence_over_3_months"
    reversed_dates = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/absences",
        json={"starts_on": "2026-03-02", "ends_on": "2026-03-01"},
        headers=bearer(organisation.rgc_token),
    )
    assert reversed_dates.status_code == 422
    assert reversed_dates.json()["errors"][0]["field"] == "ends_on"


async def test_the_rgcs_absence_over_three_months_vacates_the_post(platform: Platform) -> None:
    organisation = await platform.organisation(seed=533)
    _, head_token = await platform.active_holder(organisation, "head533@of.example", role="head")
    absent = await platform.http.post(
        f"/v1/organisations/{organisation.id}/rgc/absences", json={"starts_on": "2026-03-01"},
        headers=bearer(head_token),
    )  # fmt: skip
    assert absent.status_code == 201, absent.text
    await platform.advance(timedelta(days=92))
    assert await apply_due(platform.context) == 1
    post = await platform.post_of(organisation.id)
    assert post["rgc_account_id"] is None
    assert post["rgc_rights_held_by"] == post["head_account_id"] is not None
    [vacated] = await platform.published(events.RgcPostVacated.event_type, organisation.id)
    assert vacated["reason"] == "absence_over_3_months"
