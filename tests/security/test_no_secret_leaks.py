"""K5: credentials are never sent in an event, written to a log or e-mailed; access tokens and
the signing key are never written anywhere either.

A realistic flow runs through the whole platform (adhesion, validation, the RGC's first login
and password change, a habilitation, the credentials handed over and the user's first login,
declarations, an operator's password reset and the new password, failed logins and refused
password changes), then every place a secret could end up is searched for every secret the
flow handled: what the processes wrote (logs, stdout and stderr, library log records), every
event in every service's outbox, every e-mail the SMTP sink received (decoded), and every HTTP
error body.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from kairos_devstack.platform import PASSWORD, Platform, bearer, running_platform
from kairos_devstack.story_clients import declarer_let_in
from kairos_notification.service_layer.delivery import deliver_all_due

pytestmark = [pytest.mark.security, pytest.mark.slow]

SESSION = {"action_number": "84_AF_0000054321", "session_number": "84_SE_0000098765"}
NEW_PASSWORD = "Un autre long mot de passe choisi, 2026!"


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True, with_notification=True
    ) as platform:
        yield platform


class Recorder:
    """Every response of the platform's clients: the secrets handed out, the error bodies."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {"the chosen password": PASSWORD}
        self.error_bodies: list[str] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        if response.status_code >= 400:
            self.error_bodies.append(f"{response.request.url}: {response.text}")
            return
        if not response.content or "json" not in response.headers.get("content-type", ""):
            return
        body = response.json()
        if not isinstance(body, dict):
            return
        for name in ("access_token", "refresh_token", "provisional_password"):
            if isinstance(body.get(name), str):
                self.secrets[f"{name} #{len(self.secrets)}"] = body[name]


def _signing_key_material(platform: Platform) -> dict[str, str]:
    key = platform.identity.state.identity.signer._key  # the identity's private key
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return {
        "signing key (JWK d)": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
        "signing key (base64)": base64.b64encode(raw).decode(),
        "signing key (hex)": raw.hex(),
        "signing key (PEM body)": pem.splitlines()[1],
    }


async def _outbox_events(platform: Platform) -> list[str]:
    apps = [platform.identity, platform.app, platform.declaration, platform.notification]
    events = []
    for app in apps:
        assert app is not None
        async with app.state.resources.require_pool().acquire() as connection:
            rows = await connection.fetch("SELECT * FROM outbox")
        events += [json.dumps(dict(row), default=_text) for row in rows]
    return events


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return json.dumps([_text(item) for item in value])
    return str(value)


async def _flow(platform: Platform, recorder: Recorder) -> None:
    assert platform.declaration_http is not None
    operator = bearer(platform.operator_token)
    organisation = await platform.organisation(seed=9501)
    recorder.secrets["RGC provisional password"] = organisation.rgc_provisional_password

    # a habilitation, the credentials handed over by the RGC, the user's first login
    recorded = await platform.habilitate(organisation.id, organisation.rgc_token, "u@of.example")
    assert recorded.status_code == 201, recorded.text
    habilitation_id = recorded.json()["habilitation_id"]

    async def account() -> str | None:
        view = await platform.habilitation(habilitation_id)
        return view["account_id"] if view["status"] == "active" else None

    account_id = await platform.eventually(account)
    credentials = (
        await platform.identity_http.get(
            f"/v1/accounts/{account_id}/provisional-credentials",
            headers=bearer(organisation.rgc_token),
        )
    ).json()
    login_id, provisional = credentials["login_id"], credentials["provisional_password"]
    first = await platform.login(login_id, provisional)
    for weak in ("password1234", login_id * 2, "short"):  # refused: the body must not echo it
        refused = await platform.identity_http.post(
            "/v1/accounts/me/password",
            json={"current_password": provisional, "new_password": weak},
            headers=bearer(first),
        )
        assert refused.status_code == 422, refused.text
    wrong_current = await platform.identity_http.post(
        "/v1/accounts/me/password",
        json={"current_password": provisional + "x", "new_password": NEW_PASSWORD},
        headers=bearer(first),
    )
    assert wrong_current.status_code == 422, wrong_current.text  # the field named, nothing else
    assert [e["field"] for e in wrong_current.json()["errors"]] == ["current_password"]
    user = await platform.activate(login_id, provisional)

    # declarations
    session = {**SESSION, "starts_on": "2026-02-02", "ends_on": "2026-06-30", "weekly_hours": 35}
    await declarer_let_in(platform.declaration_http, organisation.id, user, "the user")
    registered = await platform.declaration_http.post(
        f"/v1/organisations/{organisation.id}/sessions", json=session,
        headers={**bearer(user), "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    entry = await platform.declaration_http.post(
        f"/v1/organisations/{organisation.id}/entries",
        json={"session": SESSION, "trainee_id": "2000001A", "entered_on": "2026-02-02"},
        headers={**bearer(user), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert entry.status_code == 201, entry.text
    listed = await platform.declaration_http.get(
        f"/v1/organisations/{organisation.id}/declarations", headers=bearer(user)
    )
    assert listed.status_code == 200

    # failed logins with the secrets' neighbours, then an operator reset and a new password
    for guess in (PASSWORD + "?", provisional, NEW_PASSWORD):
        failed = await platform.identity_http.post(
            "/v1/sessions", json={"login_id": login_id, "password": guess}
        )
        assert failed.status_code in {401, 429}, failed.text
    reset = await platform.identity_http.post(
        f"/v1/accounts/{account_id}/password-reset", headers=operator
    )
    assert reset.status_code == 201, reset.text
    again = await platform.login(login_id, reset.json()["provisional_password"])
    changed = await platform.identity_http.post(
        "/v1/accounts/me/password",
        json={
            "current_password": reset.json()["provisional_password"],
            "new_password": NEW_PASSWORD,
        },
        headers=bearer(again),
    )
    assert changed.status_code == 204, changed.text
    recorder.secrets["the new chosen password"] = NEW_PASSWORD
    await platform.login(login_id, NEW_PASSWORD)
    gone = await platform.identity_http.delete("/v1/sessions/current", headers=bearer(user))
    assert gone.status_code == 401, "the reset ended the user's sessions"


async def test_no_secret_reaches_a_log_an_event_an_email_or_an_error_body(
    platform: Platform, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    clients = [
        platform.identity_http, platform.http,
        platform.declaration_http, platform.notification_http,
    ]  # fmt: skip
    for client in clients:
        assert client is not None
        client.event_hooks["response"].append(recorder)
    try:
        await _flow(platform, recorder)
        assert platform.notification is not None
        context = platform.notification.state.notification

        async def mails_out() -> bool | None:
            await deliver_all_due(context.pool, context.mailer, context.clock, context.retry)
            assert platform.mails is not None
            return True if len(platform.mails.all()) >= 3 else None

        await platform.eventually(mails_out)
    finally:
        for client in clients:
            assert client is not None
            client.event_hooks["response"].remove(recorder)

    secrets = {**recorder.secrets, **_signing_key_material(platform)}
    assert sum(name.startswith("provisional_password") for name in secrets) >= 2
    assert sum(name.startswith("access_token") for name in secrets) >= 4
    assert platform.mails is not None
    written = capfd.readouterr()
    places: dict[str, list[str]] = {
        "stdout": [written.out],
        "stderr": [written.err],
        "log records": [caplog.text, *(repr(vars(record)) for record in caplog.records)],
        "outbox events": await _outbox_events(platform),
        "e-mails": [
            json.dumps(mail.detail(), ensure_ascii=False) + mail.message.as_string()
            for mail in platform.mails.all()
        ],
        "HTTP error bodies": recorder.error_bodies,
    }
    assert "event applied" in written.out + written.err + caplog.text, "the logs were captured"
    assert places["outbox events"], "the flow wrote events"
    assert places["HTTP error bodies"], "the flow met refusals"
    leaks = [
        f"{name} found in {place}"
        for place, texts in places.items()
        for name, secret in secrets.items()
        if any(_contains(text, secret) for text in texts)
    ]
    assert not leaks, "\n".join(leaks)


def _contains(text: str, secret: str) -> bool:
    escaped = json.dumps(secret)[1:-1]
    return secret in text or escaped in text
