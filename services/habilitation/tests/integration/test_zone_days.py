"""K12 and K13 in the OF's own days: the signature's "not after today" and the day an absence
reaches 3 months are read in the organisation's zone (La Réunion is UTC+4, Guadeloupe UTC-4),
not in Paris."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from kairos_habilitation.service_layer.absences import apply_due

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)
REUNION, GUADELOUPE = "97400", "97110"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_absence_reaches_three_months_on_the_ofs_own_day(platform: Platform) -> None:
    await platform.advance(timedelta(hours=3))  # 12:00 UTC: open in La Réunion and Guadeloupe
    reunion = await platform.organisation(seed=561, postal_code=REUNION)
    guadeloupe = await platform.organisation(seed=562, postal_code=GUADELOUPE)
    absent = {}
    for organisation, email in ((reunion, "payet@of.example"), (guadeloupe, "jean@of.example")):
        habilitation_id, _ = await platform.active_holder(organisation, email)
        recorded = await platform.http.post(
            f"/v1/habilitations/{habilitation_id}/absences", json={"starts_on": "2026-03-02"},
            headers=bearer(organisation.rgc_token),
        )  # fmt: skip
        assert recorded.json()["reaches_three_months_on"] == "2026-06-02", recorded.text
        absent[organisation.id] = habilitation_id

    async def statuses() -> tuple[str, str]:
        return (
            (await platform.habilitation(absent[reunion.id]))["status"],
            (await platform.habilitation(absent[guadeloupe.id]))["status"],
        )

    await platform.advance(
        datetime(2026, 6, 1, 20, 30, tzinfo=UTC) - platform.clock.now()
    )  # 22:30 in Paris, 1 June
    assert await apply_due(platform.context) == 1  # 2 June, 00:30 in La Réunion
    assert await statuses() == ("ended", "active")
    await platform.advance(
        datetime(2026, 6, 2, 3, 0, tzinfo=UTC) - platform.clock.now()
    )  # 2 June in Paris
    assert await apply_due(platform.context) == 0  # still 1 June, 23:00 in Guadeloupe
    await platform.advance(datetime(2026, 6, 2, 4, 0, tzinfo=UTC) - platform.clock.now())
    assert await apply_due(platform.context) == 1
    assert await statuses() == ("ended", "ended")


async def test_a_signature_is_not_after_today_in_the_ofs_zone(platform: Platform) -> None:
    await platform.advance(timedelta(hours=3))  # 08:00 in Guadeloupe
    organisation = await platform.organisation(seed=563, postal_code=GUADELOUPE)
    # Tuesday 2 June 2026, 18:30 in Guadeloupe, open; already 3 June, 00:30, in Paris.
    await platform.advance(datetime(2026, 6, 2, 22, 30, tzinfo=UTC) - platform.clock.now())
    rgc_token = await platform.relogin(organisation.rgc_token)

    async def habilitate(email: str, signed_on: str) -> Any:
        return await platform.http.post(
            f"/v1/organisations/{organisation.id}/habilitations",
            json={
                "role": "user",
                "person": {"first_name": "Fanny", "last_name": "Martin", "email": email},
                "function": "formatrice",
                "authorisation": {
                    "signed_by": "Inès Roux", "signed_on": signed_on,
                    "document_sha256": hashlib.sha256(email.encode()).hexdigest(),
                },
                "employee_attested": True,
            },
            headers=bearer(rgc_token),
        )  # fmt: skip

    tomorrow = await habilitate("demain@of.example", "2026-06-03")
    assert tomorrow.status_code == 422, tomorrow.text
    assert [e["field"] for e in tomorrow.json()["errors"]] == ["authorisation.signed_on"]
    assert "2026-06-02" in tomorrow.json()["errors"][0]["message"]
    today = await habilitate("aujourdhui@of.example", "2026-06-02")
    assert today.status_code == 201, today.text
