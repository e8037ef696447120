"""K6 in the habilitation service: a head whose provisional credentials lapsed unused is refused
here (from the identity events); once the RGC reissued them, the head acts again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from kairos_devstack.platform import bearer
from kairos_identity.service_layer.deadlines import apply_deadlines

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)


async def test_a_lapsed_head_acts_again_with_reissued_credentials(platform: Platform) -> None:
    organisation = await platform.organisation(seed=571)
    recorded = await platform.habilitate(
        organisation.id, organisation.rgc_token, "direction@of.example", role="head"
    )
    habilitation_id = recorded.json()["habilitation_id"]
    account_id = await platform.active_account(habilitation_id)
    url = f"/v1/accounts/{account_id}/provisional-credentials"
    retrieved = await platform.identity_http.get(url, headers=bearer(organisation.rgc_token))
    assert retrieved.status_code == 200, retrieved.text
    await platform.advance(timedelta(days=8))
    assert (await apply_deadlines(platform.identity.state.identity)).lapsed == 1

    rgc_token = await platform.relogin(organisation.rgc_token)
    reissued = await platform.identity_http.post(url, headers=bearer(rgc_token))
    assert reissued.status_code == 201, reissued.text
    head_token = await platform.activate(
        reissued.json()["login_id"], reissued.json()["provisional_password"]
    )

    async def post_seen_by_head() -> httpx.Response | None:
        response = await platform.http.get(
            f"/v1/organisations/{organisation.id}/rgc", headers=bearer(head_token)
        )
        return response if response.status_code == 200 else None

    await platform.eventually(post_seen_by_head)
