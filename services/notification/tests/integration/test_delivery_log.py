"""K24's delivery log through the running platform: an organisation's RGC reads its own
organisation's e-mails and nobody else's, operators read anyone's and resend one."""

from __future__ import annotations

from typing import Any

from kairos_devstack.held_validation import validation_held_back, validation_unpublished
from kairos_notification.service_layer.delivery import deliver_all_due

Platform = Any  # kairos_devstack.platform.Platform (test modules cannot import the conftest)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_rgc_reads_its_own_log_and_operators_resend(platform: Platform) -> None:
    ours = await platform.organisation(seed=811)
    theirs = await platform.organisation(seed=812)
    http = platform.notification_http
    url = f"/v1/organisations/{ours.id}/notifications"

    async def logged() -> list[dict[str, Any]] | None:
        response = await http.get(url, headers=bearer(platform.operator_token))
        found: list[dict[str, Any]] = response.json()["notifications"]
        return found if len(found) >= 3 else None  # head and RGC told, RGC's account

    await platform.eventually(logged)
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)

    own = await http.get(url, headers=bearer(ours.rgc_token))
    assert own.status_code == 200, own.text
    log = own.json()["notifications"]
    assert {n["status"] for n in log} == {"sent"}
    assert "text_body" not in log[0]  # the log shows what was sent to whom, not the body
    other = await http.get(url, headers=bearer(theirs.rgc_token))
    assert other.status_code == 403

    by_address = await http.get(
        "/v1/notifications", params={"email": f"ines.roux.{ours.seed}@of.example"},
        headers=bearer(platform.operator_token),
    )  # fmt: skip
    [to_head] = by_address.json()["notifications"]
    assert to_head["kind"] == "adhesion_validated"
    assert (await http.get("/v1/notifications", params={"email": "x@y.example"},
                           headers=bearer(ours.rgc_token))).status_code == 403  # fmt: skip

    refused = await http.post(
        f"/v1/notifications/{to_head['notification_id']}/resend", headers=bearer(ours.rgc_token)
    )
    assert refused.status_code == 403
    resent = await http.post(
        f"/v1/notifications/{to_head['notification_id']}/resend",
        headers=bearer(platform.operator_token),
    )
    assert resent.status_code == 201, resent.text
    assert (resent.json()["status"], resent.json()["resent_from"]) == (
        "queued",
        to_head["notification_id"],
    )
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
    one = await http.get(
        f"/v1/notifications/{resent.json()['notification_id']}",
        headers=bearer(platform.operator_token),
    )
    assert one.json()["status"] == "sent"
    to_head_mails = [
        m for m in platform.mails.all() if m.envelope_to == [to_head["recipient_email"]]
    ]
    assert len(to_head_mails) == 2  # the first, and the one sent again

    bounce_url = f"/v1/notifications/{to_head['notification_id']}/bounce"
    report = {"reason": "550 5.1.1 mailbox unknown"}
    by_rgc = await http.post(bounce_url, json=report, headers=bearer(ours.rgc_token))
    assert by_rgc.status_code == 403
    bounced = await http.post(bounce_url, json=report, headers=bearer(platform.operator_token))
    assert bounced.status_code == 200, bounced.text
    assert (bounced.json()["status"], bounced.json()["last_error"]) == ("bounced", report["reason"])
    again = await http.post(bounce_url, json=report, headers=bearer(platform.operator_token))
    assert again.status_code == 409  # only a sent e-mail can bounce


async def test_operators_announce_to_every_organisation_and_rgcs_report_incidents(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=813)
    http = platform.notification_http

    async def known() -> bool | None:
        response = await http.get(
            f"/v1/organisations/{organisation.id}/notifications",
            headers=bearer(platform.operator_token),
        )
        return True if response.json()["notifications"] else None

    await platform.eventually(known)
    maintenance = {"kind": "maintenance", "starts_at": "2026-03-07T18:00:00Z",
                   "ends_at": "2026-03-08T06:00:00Z", "reason": "montée de version"}  # fmt: skip
    by_rgc = await http.post(
        "/v1/announcements", json=maintenance, headers=bearer(organisation.rgc_token)
    )
    assert by_rgc.status_code == 403
    announced = await http.post(
        "/v1/announcements", json=maintenance, headers=bearer(platform.operator_token)
    )
    assert announced.status_code == 202, announced.text
    assert announced.json()["queued"] >= 2  # this organisation's head and RGC, and others'

    reported = await http.post(
        f"/v1/organisations/{organisation.id}/incident-reports",
        json={"summary": "Export impossible", "description": "Erreur 500 à l'export <CSV>."},
        headers=bearer(organisation.rgc_token),
    )
    assert reported.status_code == 202, reported.text
    context = platform.notification.state.notification
    await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
    to_operators = [m for m in platform.mails.all() if m.envelope_to == [context.operators_mailbox]]
    [report] = [m for m in to_operators if "Organisme 813" in m.detail()["Text"]]
    assert "Export impossible" in report.summary()["Subject"]
    assert "&lt;CSV&gt;" in report.detail()["HTML"]
    head = [m for m in platform.mails.all() if m.envelope_to == ["ines.roux.813@of.example"]]
    assert any("montée de version" in m.detail()["Text"] for m in head)


async def test_an_rgc_reading_before_the_validation_arrives_is_told_to_retry(
    platform: Platform,
) -> None:
    """The RGC reads its organisation's e-mails, or reports an incident, a moment after the
    validation, before this service has heard of the organisation: 503 with Retry-After (not a
    403), nothing queued; once the validation has arrived, the log answers."""
    http = platform.notification_http
    async with validation_held_back(platform, seed=813) as organisation:
        url = f"/v1/organisations/{organisation.id}/notifications"
        early = await http.get(url, headers=bearer(organisation.rgc_token))
        assert early.status_code == 503, early.text
        context = platform.notification.state.notification
        assert early.headers["retry-after"] == str(context.setup_retry_after_seconds)
        problem = early.json()
        assert problem["type"] == "https://kairos.example/problems/organisation-being-set-up"
        assert organisation.id in problem["detail"]
        report = await http.post(
            f"/v1/organisations/{organisation.id}/incident-reports",
            json={"summary": "Connexion impossible", "description": "Depuis ce matin."},
            headers=bearer(organisation.rgc_token),
        )
        assert report.status_code == 503, report.text
        assert await validation_unpublished(platform, organisation.id)  # still held back

    async def logged() -> list[dict[str, Any]] | None:  # the validation consumed: e-mails queued
        response = await http.get(url, headers=bearer(platform.operator_token))
        found: list[dict[str, Any]] = response.json()["notifications"]
        return found or None

    await platform.eventually(logged)
    later = await http.get(url, headers=bearer(organisation.rgc_token))
    assert later.status_code == 200, later.text
    assert all(n["kind"] != "rgc_incident_report" for n in later.json()["notifications"])
