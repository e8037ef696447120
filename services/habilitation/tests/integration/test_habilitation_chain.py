"""K11-K13 end to end through Kafka: the RGC habilitates a person, the identity service opens
the account, the habilitation becomes active; the RGC ends it and the person is refused."""

from __future__ import annotations

from typing import Any

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_rgc_habilitates_identity_opens_the_account_and_the_habilitation_is_active(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=501)
    habilitation_id, user_token = await platform.active_holder(organisation, "fanny@of.example")

    view = await platform.habilitation(habilitation_id)
    assert view["status"] == "active"
    assert view["authorisation"]["signed_by"] == "Inès Roux"
    assert user_token  # the person logged in with the credentials the RGC handed over

    listed = await platform.http.get(
        f"/v1/organisations/{organisation.id}/habilitations", headers=bearer(organisation.rgc_token)
    )
    assert listed.status_code == 200
    rows = listed.json()["habilitations"]
    assert [(h["habilitation_id"], h["effective_status"]) for h in rows] == [
        (habilitation_id, "active")
    ]


async def test_an_ending_is_immediate_and_the_person_is_refused_everywhere(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=502)
    habilitation_id, user_token = await platform.active_holder(organisation, "leo@of.example")

    ended = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/ending",
        json={"reason": "departure"},
        headers=bearer(organisation.rgc_token),
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["end_reason"] == "departure"

    async def session_gone() -> bool | None:  # identity ended the session (K9)
        probe = await platform.identity_http.delete(
            "/v1/sessions/current", headers=bearer(user_token)
        )
        return True if probe.status_code == 401 else None

    assert await platform.eventually(session_gone)
    again = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/ending",
        json={"reason": "departure"},
        headers=bearer(organisation.rgc_token),
    )
    assert again.status_code == 409
