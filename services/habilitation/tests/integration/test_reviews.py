"""K14 end to end: the annual review opens on the validation's anniversary (or at once, by an
operator), the RGC confirms or ends each habilitation (an ending reaches the identity service,
which refuses the person), reminders go out once each, and at the deadline what is left is
flagged to the operators or suspended; the RGC reinstates a suspended habilitation."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kairos_habilitation.domain.reviews import ReviewDefault, ReviewPolicy
from kairos_habilitation.domain.rgc_post import Role
from kairos_habilitation.service_layer.access import Actor
from kairos_habilitation.service_layer.review_deadlines import open_due_campaigns, remind_and_close
from kairos_habilitation.service_layer.reviews import open_now
from kairos_identity.adapters.organisations import Contact
from kairos_identity.service_layer.operators import create_operator
from kairos_schemas import habilitation as events

Platform = Any  # the conftest's dataclass (test modules cannot import the conftest)
VALIDATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the conftest's clock at validation
ANNIVERSARY = VALIDATED.replace(year=2027)  # a Tuesday, 10:00 in Paris: open


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def fresh_operator(platform: Platform) -> str:
    """A token of a new operator (the fixture's one expires 10 minutes after it was issued)."""
    issued = await create_operator(
        platform.identity.state.identity,
        Contact("Olivier", "Masson", f"olivier.{uuid.uuid4().hex[:8]}@francetravail.example"),
    )
    return str(await platform.activate(issued.login_id, issued.provisional_password))


async def fresh_token(platform: Platform, operator: str, account_id: str) -> str:
    """Log a person in again once the clock moved: an operator resets the password (K7)."""
    reset = await platform.identity_http.post(
        f"/v1/accounts/{account_id}/password-reset", headers=bearer(operator)
    )
    assert reset.status_code == 201, reset.text
    return str(
        await platform.activate(reset.json()["login_id"], reset.json()["provisional_password"])
    )


async def refused(platform: Platform, token: str) -> bool | None:
    """True once the identity service refuses the session (K9: it ended on an event)."""
    probe = await platform.identity_http.delete("/v1/sessions/current", headers=bearer(token))
    return True if probe.status_code == 401 else None


async def decide(
    platform: Platform, token: str, campaign_id: str, habilitation_id: str, decision: str
) -> Any:
    return await platform.http.post(
        f"/v1/reviews/{campaign_id}/decisions",
        json={"habilitation_id": habilitation_id, "decision": decision},
        headers=bearer(token),
    )


async def open_at_once(platform: Platform, organisation_id: str) -> dict[str, Any]:
    opened = await platform.http.post(
        f"/v1/organisations/{organisation_id}/reviews", headers=bearer(platform.operator_token)
    )
    assert opened.status_code == 201, opened.text
    return opened.json()  # type: ignore[no-any-return] # JSON


async def test_the_review_opens_on_the_anniversary_and_the_rgc_confirms_and_ends(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=601)
    kept, _ = await platform.active_holder(organisation, "kept@of.example")
    gone, _ = await platform.active_holder(organisation, "gone@of.example")

    platform.clock.set(ANNIVERSARY - timedelta(hours=1))
    await open_due_campaigns(platform.context)
    assert await platform.published(events.ReviewCampaignOpened.event_type, organisation.id) == []
    platform.clock.set(ANNIVERSARY + timedelta(minutes=1))
    # two replicas at once (every organisation known here has its anniversary now): one each
    await asyncio.gather(*(open_due_campaigns(platform.context) for _ in range(2)))
    [opened] = await platform.published(events.ReviewCampaignOpened.event_type, organisation.id)
    assert opened["year"] == 2027
    assert opened["opens_at"].startswith("2027-03-02T09:00")
    assert sorted(opened["habilitation_ids"]) == sorted([kept, gone])
    assert await open_due_campaigns(platform.context) == 0

    operator = await fresh_operator(platform)
    rgc = await fresh_token(platform, operator, organisation.rgc_account_id)
    gone_account = (
        await platform.http.get(f"/v1/habilitations/{gone}", headers=bearer(operator))
    ).json()["account_id"]
    gone_token = await fresh_token(platform, operator, gone_account)

    campaign = opened["campaign_id"]
    confirmed = await decide(platform, rgc, campaign, kept, "confirmed")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["decision"] == "confirmed"
    ended = await decide(platform, rgc, campaign, gone, "ended")
    assert ended.status_code == 200, ended.text
    [ending] = await platform.published(events.HabilitationEnded.event_type, organisation.id)
    assert (ending["habilitation_id"], ending["reason"]) == (gone, "annual_review")
    assert ending["ended_by"] == organisation.rgc_account_id
    reviewed = await platform.published(events.HabilitationReviewed.event_type, organisation.id)
    assert [(r["habilitation_id"], r["decision"]) for r in reviewed] == [
        (kept, "confirmed"),
        (gone, "ended"),
    ]

    assert await platform.eventually(lambda: refused(platform, gone_token))
    current = await platform.http.get(
        f"/v1/organisations/{organisation.id}/reviews/current", headers=bearer(rgc)
    )
    assert current.status_code == 200, current.text
    assert current.json()["undecided"] == []
    assert {i["habilitation_id"]: i["decision"] for i in current.json()["items"]} == {
        kept: "confirmed",
        gone: "ended",
    }


async def test_reminders_go_out_once_each_and_the_deadline_flags_what_is_left(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=602)
    confirmed, _ = await platform.active_holder(organisation, "confirmed@of.example")
    left, _ = await platform.active_holder(organisation, "left@of.example")
    departed, _ = await platform.active_holder(organisation, "departed@of.example")
    opened = await open_at_once(platform, organisation.id)
    again = await platform.http.post(
        f"/v1/organisations/{organisation.id}/reviews", headers=bearer(platform.operator_token)
    )
    assert again.status_code == 409
    campaign, deadline = opened["campaign_id"], datetime.fromisoformat(opened["deadline"])
    assert deadline == VALIDATED + timedelta(days=30)
    decided = await decide(platform, organisation.rgc_token, campaign, confirmed, "confirmed")
    assert decided.status_code == 200, decided.text
    ending = await platform.http.post(  # ended by other means: counts as decided
        f"/v1/habilitations/{departed}/ending",
        json={"reason": "departure"},
        headers=bearer(organisation.rgc_token),
    )
    assert ending.status_code == 200, ending.text

    for days in (14, 3):
        platform.clock.set(deadline - timedelta(days=days) + timedelta(minutes=1))
        await asyncio.gather(*(remind_and_close(platform.context) for _ in range(2)))
        assert await remind_and_close(platform.context) == {"reminders": 0, "closed": 0}
    reminders = await platform.published(events.ReviewReminder.event_type, organisation.id)
    assert [(r["days_before"], r["undecided"]) for r in reminders] == [(14, 1), (3, 1)]

    platform.clock.set(deadline + timedelta(minutes=1))
    await asyncio.gather(*(remind_and_close(platform.context) for _ in range(2)))
    assert await remind_and_close(platform.context) == {"reminders": 0, "closed": 0}
    [closed] = await platform.published(events.ReviewCampaignClosed.event_type, organisation.id)
    assert (closed["undecided"], closed["default_applied"]) == ([left], "flag_to_operator")
    [flagged] = await platform.published(events.HabilitationFlagged.event_type, organisation.id)
    assert (flagged["habilitation_id"], flagged["reason"]) == (left, "annual_review_overdue")
    assert await platform.published(events.HabilitationSuspended.event_type, organisation.id) == []
    async with platform.context.pool.acquire() as connection:
        decisions = dict(
            await connection.fetch(
                "SELECT habilitation_id::text, decision FROM review_item WHERE campaign_id = $1",
                uuid.UUID(campaign),
            )
        )
    assert decisions == {confirmed: "confirmed", departed: "ended", left: None}


async def test_what_is_left_at_the_deadline_is_suspended_until_the_rgc_reinstates_it(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=603)
    habilitation_id, person = await platform.active_holder(organisation, "suspendue@of.example")
    short = dataclasses.replace(
        platform.context,
        review_policy=ReviewPolicy(
            period=timedelta(minutes=5), reminder_days_before=(), default=ReviewDefault.SUSPEND
        ),
    )
    operator = Actor(str(uuid.uuid4()), Role.OPERATOR, None)
    state = await open_now(short, operator, uuid.UUID(organisation.id))
    campaign = str(state.campaign.id)

    platform.clock.advance(timedelta(minutes=6))  # tokens live 10 minutes: still valid
    await asyncio.gather(*(remind_and_close(short) for _ in range(2)))
    [closed] = await platform.published(events.ReviewCampaignClosed.event_type, organisation.id)
    assert (closed["undecided"], closed["default_applied"]) == ([habilitation_id], "suspend")
    [suspended] = await platform.published(events.HabilitationSuspended.event_type, organisation.id)
    view = await platform.habilitation(habilitation_id)
    assert suspended["account_id"] == view["account_id"]
    assert (view["status"], view["suspended"]) == ("active", True)
    assert await platform.eventually(lambda: refused(platform, person))  # identity ended it

    late = await decide(platform, organisation.rgc_token, campaign, habilitation_id, "confirmed")
    assert late.status_code == 409, late.text
    assert await platform.published(events.HabilitationReviewed.event_type, organisation.id) == []

    reinstated = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/reinstatement",
        headers=bearer(organisation.rgc_token),
    )
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["suspended"] is False
    [event] = await platform.published(events.HabilitationReinstated.event_type, organisation.id)
    assert event["reinstated_by"] == organisation.rgc_account_id
    twice = await platform.http.post(
        f"/v1/habilitations/{habilitation_id}/reinstatement",
        headers=bearer(organisation.rgc_token),
    )
    assert twice.status_code == 409
    reset = await platform.identity_http.post(  # the person may log in again
        f"/v1/accounts/{view['account_id']}/password-reset",
        headers=bearer(platform.operator_token),
    )
    assert reset.status_code == 201, reset.text
    body = reset.json()
    credentials = {"login_id": body["login_id"], "password": body["provisional_password"]}

    async def logs_in() -> bool | None:
        login = await platform.identity_http.post("/v1/sessions", json=credentials)
        return True if login.status_code == 201 else None

    assert await platform.eventually(logs_in)


async def test_an_rgc_of_another_organisation_is_refused_and_nothing_changes(
    platform: Platform,
) -> None:
    ours = await platform.organisation(seed=604)
    theirs = await platform.organisation(seed=605)
    habilitation_id, _ = await platform.active_holder(ours, "camille@ours.example")
    campaign = (await open_at_once(platform, ours.id))["campaign_id"]

    attempts = {
        "decide": await decide(platform, theirs.rgc_token, campaign, habilitation_id, "ended"),
        "read": await platform.http.get(
            f"/v1/organisations/{ours.id}/reviews/current", headers=bearer(theirs.rgc_token)
        ),
        "open": await platform.http.post(
            f"/v1/organisations/{ours.id}/reviews", headers=bearer(ours.rgc_token)
        ),
        "reinstate": await platform.http.post(
            f"/v1/habilitations/{habilitation_id}/reinstatement",
            headers=bearer(theirs.rgc_token),
        ),
    }
    assert {name: r.status_code for name, r in attempts.items()} == dict.fromkeys(attempts, 403)
    assert (await platform.habilitation(habilitation_id))["status"] == "active"
    assert await platform.published(events.HabilitationReviewed.event_type, ours.id) == []
    current = await platform.http.get(
        f"/v1/organisations/{ours.id}/reviews/current", headers=bearer(ours.rgc_token)
    )
    assert current.json()["undecided"] == [habilitation_id]
    unknown = await decide(platform, ours.rgc_token, campaign, str(uuid.uuid4()), "confirmed")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "habilitation_id"
