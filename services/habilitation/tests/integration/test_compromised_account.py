"""K7, K9: an account an operator flags as compromised is refused by the habilitation service as
soon as its SessionEnded events arrive, long before its tokens expire; through the real Kafka."""

from __future__ import annotations

from typing import Any

from kairos_devstack.platform import bearer

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)


async def test_the_sessions_of_a_compromised_account_are_refused_everywhere(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=731)
    post = f"/v1/organisations/{organisation.id}/rgc"
    before = await platform.http.get(post, headers=bearer(organisation.rgc_token))
    assert before.status_code == 200, before.text
    flagged = await platform.identity_http.post(
        f"/v1/accounts/{organisation.rgc_account_id}/compromise",
        json={"reason": "identifiants saisis sur un faux site"},
        headers=bearer(platform.operator_token),
    )
    assert flagged.status_code == 200, flagged.text

    async def refused() -> int | None:
        response = await platform.http.get(post, headers=bearer(organisation.rgc_token))
        return response.status_code if response.status_code != 200 else None

    assert await platform.eventually(refused) == 401
