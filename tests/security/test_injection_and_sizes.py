"""Hostile text and oversized bodies.

SQL-injection-looking strings (and a NUL, quotes, format placeholders, scripts, bidi text) in
every free-text field of the adhesion, the habilitation and the incident report, in the login,
and in every query parameter of every service's GET operations: each is stored and read back
verbatim, or refused with a 4xx problem, never a 5xx, and every service's tables are still
there afterwards.

Request bodies are bounded (:mod:`kairos_shared.limits`): a body declared larger than
``http_max_body_bytes`` is refused with a 413 problem before any route runs, one streamed
without a length is refused as soon as it goes past the bound, and the largest legitimate body
(a 5000-row attendance batch) fits the default.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request

from kairos_devstack.platform import Organisation, Platform, bearer, running_platform
from kairos_devstack.story_clients import declarer_let_in
from kairos_devstack.testing import valid_siret
from kairos_shared.limits import DEFAULT_MAX_BODY_BYTES, limit_body_size
from kairos_shared.problems import install_problem_handlers

pytestmark = [pytest.mark.security]

PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE organisations; --",
    "Robert'); DROP TABLE accounts; --",
    "1; SELECT pg_sleep(5); --",
    "' UNION SELECT password_hash, login_id FROM accounts --",
    '" OR ""="',
    "\\'; TRUNCATE outbox CASCADE; --",
    "$1 $2 %s %(name)s {0} {name}",
    "<script>alert(1)</script>",
    "Zoé \u202e RTL \ufdfd 😀",
    "a\x00b",
]
MiB = 1024 * 1024


# ---- the body limit on its own (no infrastructure) ------------------------------------------


def _small_app(limit: int) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    limit_body_size(app, limit)
    calls: list[int] = []
    app.state.calls = calls

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        calls.append(1)
        return {"received": len(await request.body())}

    @app.post("/parsed")
    async def parsed(body: dict[str, str]) -> dict[str, int]:
        return {"keys": len(body)}

    return app


async def _chunks(size: int, chunk: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


async def test_bodies_up_to_the_limit_are_read_and_larger_ones_refused_with_413() -> None:
    app = _small_app(10_000)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://small"
    ) as client:
        exactly = await client.post("/echo", content=b"x" * 10_000)
        assert exactly.json() == {"received": 10_000}

        declared = await client.post("/echo", content=b"x" * 10_001)
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["type"].endswith("/body-too-large")
        assert declared.json()["status"] == 413
        assert app.state.calls == [1], "a declared oversized body never reaches the route"

        streamed = await client.post("/echo", content=_chunks(10_001))
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        assert streamed.headers["content-type"] == "application/problem+json"

        fitting = await client.post("/echo", content=_chunks(9_999))
        assert fitting.json() == {"received": 9_999}

        parsed = await client.post(
            "/parsed", content=_chunks(20_000), headers={"content-type": "application/json"}
        )
        assert parsed.status_code == 413, "FastAPI's own body parsing lets the 413 through"


async def test_a_lying_content_length_does_not_get_a_bigger_body_through() -> None:
    app = _small_app(100)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * 80, "more_body": True},
        {"type": "http.request", "body": b"x" * 80, "more_body": False},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/echo", "raw_path": b"/echo", "root_path": "",
        "query_string": b"", "headers": [(b"content-length", b"10")],
        "server": ("small", 80), "client": ("127.0.0.1", 1),
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 413


# ---- the platform --------------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True, with_notification=True
    ) as platform:
        yield platform


def _apps(platform: Platform) -> dict[str, tuple[FastAPI, httpx.AsyncClient]]:
    assert platform.declaration is not None
    assert platform.declaration_http is not None
    assert platform.notification is not None
    assert platform.notification_http is not None
    return {
        "identity": (platform.identity, platform.identity_http),
        "habilitation": (platform.app, platform.http),
        "declaration": (platform.declaration, platform.declaration_http),
        "notification": (platform.notification, platform.notification_http),
    }


async def _tables(platform: Platform) -> dict[str, set[str]]:
    tables = {}
    for service, (app, _) in _apps(platform).items():
        async with app.state.resources.require_pool().acquire() as connection:
            rows = await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        tables[service] = {row["table_name"] for row in rows}
    return tables


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _adhesion(seed: int, text: str) -> dict[str, Any]:
    return {
        "siret": valid_siret(seed), "nda": "84690000069", "legal_name": f"Organisme {text}",
        "address": {"street": text, "postal_code": "69002", "city": text},
        "head": {"first_name": text, "last_name": text, "function": text,
                 "email": f"head.{seed}@of.example"},
        "rgc": {"first_name": text, "last_name": text, "email": f"rgc.{seed}@of.example"},
        "terms": {"version": text, "accepted_on": "2026-03-01"},
    }  # fmt: skip


def _accepted_or_refused(response: httpx.Response, what: str) -> bool:
    """True when accepted; a refusal must be a 4xx problem."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text}"
    if response.status_code < 300:
        return True
    assert 400 <= response.status_code < 500, (what, response.status_code)
    assert response.headers["content-type"] == "application/problem+json", what
    return False


async def test_injection_strings_in_free_text_are_kept_verbatim_or_refused(
    platform: Platform,
) -> None:
    tables = await _tables(platform)
    operator = bearer(platform.operator_token)
    organisation = await platform.organisation(seed=9401)
    accepted: list[str] = []
    for index, text in enumerate(PAYLOADS):
        what = f"adhesion with {text!r}"
        response = await platform.identity_http.post(
            "/v1/organisations", json=_adhesion(9410 + index, text)
        )
        if _accepted_or_refused(response, what):
            accepted.append(what)
            organisation_id = response.json()["organisation_id"]
            view = await platform.identity_http.get(
                f"/v1/organisations/{organisation_id}", headers=operator
            )
            assert view.json()["legal_name"] == f"Organisme {text}", what

        what = f"login with {text!r}"
        login = await platform.identity_http.post(
            "/v1/sessions", json={"login_id": text, "password": text}
        )
        _accepted_or_refused(login, what)
        assert login.status_code in {401, 422}, what

        what = f"habilitation with {text!r}"
        habilitation = await platform.http.post(
            f"/v1/organisations/{organisation.id}/habilitations",
            json={
                "role": "user",
                "person": {"first_name": text, "last_name": text,
                           "email": f"person.{index}@of.example"},
                "function": text,
                "authorisation": {"signed_by": text, "signed_on": "2026-03-01",
                                  "document_sha256": "0" * 64},
                "employee_attested": True,
            },
            headers=bearer(organisation.rgc_token),
        )  # fmt: skip
        if _accepted_or_refused(habilitation, what):
            accepted.append(what)
            view = await platform.http.get(
                f"/v1/habilitations/{habilitation.json()['habilitation_id']}", headers=operator
            )
            assert text in _strings(view.json()), (what, view.json())

        what = f"incident report with {text!r}"
        assert platform.notification_http is not None
        report = await platform.notification_http.post(
            f"/v1/organisations/{organisation.id}/incident-reports",
            json={"summary": text, "description": text},
            headers=bearer(organisation.rgc_token),
        )
        if _accepted_or_refused(report, what):
            accepted.append(what)

    assert len(accepted) >= 2 * (len(PAYLOADS) - 1), accepted  # refusing them all is no answer
    assert await _tables(platform) == tables
    still = await platform.identity_http.get(
        f"/v1/organisations/{organisation.id}", headers=operator
    )
    assert still.status_code == 200


async def test_injection_strings_in_every_query_parameter_never_make_a_5xx(
    platform: Platform,
) -> None:
    tables = await _tables(platform)
    organisation = await platform.organisation(seed=9402)
    identities = [bearer(platform.operator_token), bearer(organisation.rgc_token)]
    checked = 0
    for service, (_, client) in _apps(platform).items():
        document = (await client.get("/openapi.json")).json()
        for path, operations in document["paths"].items():
            operation = operations.get("get")
            if operation is None:
                continue
            parameters = operation.get("parameters", [])
            queries = [p["name"] for p in parameters if p["in"] == "query"]
            url = _with_ids(path, organisation)
            for name in queries:
                for text in PAYLOADS:
                    for headers in identities:
                        response = await client.get(url, params={name: text}, headers=headers)
                        what = f"{service} GET {path}?{name}={text!r}"
                        _accepted_or_refused(response, what)
                        checked += 1
    assert checked > 100, checked
    assert await _tables(platform) == tables


def _body_routes(app: FastAPI, organisation_id: str) -> list[str]:
    """Every POST route of ``app`` that reads a body (its OpenAPI says so), its path parameters
    filled in: the organisation's id, a random one for the others."""
    return sorted(
        re.sub(r"{[^}]+}", str(uuid.uuid4()), path.replace("{organisation_id}", organisation_id))
        for path, operations in app.openapi()["paths"].items()
        if "requestBody" in operations.get("post", {})
    )


def _with_ids(path: str, organisation: Organisation) -> str:
    return (
        path.replace("{organisation_id}", organisation.id)
        .replace("{account_id}", organisation.rgc_account_id)
        .replace("{", "")
        .replace("}", "")
    )


async def test_oversized_bodies_are_refused_with_413_by_every_service_and_change_nothing(
    platform: Platform,
) -> None:
    too_big = b"{" + b" " * (DEFAULT_MAX_BODY_BYTES + 1) + b"}"
    # A streamed body (no Content-Length) is refused while it is read: sent by someone the
    # routes let in (a route may refuse a stranger before reading a byte), on every route that
    # reads one, it must meet the 413 and nothing else.
    organisation = await platform.organisation(seed=9404)
    _, token = await platform.active_holder(organisation, "streamer@of.example")
    assert platform.declaration_http is not None
    await declarer_let_in(platform.declaration_http, organisation.id, token, "the streamer")
    for service, (app, client) in _apps(platform).items():
        paths = _body_routes(app, organisation.id)
        assert paths or service == "notification", f"{service} reads no body?"
        for path in ["/v1/organisations", *paths]:
            declared = await client.post(
                path, content=too_big, headers={"content-type": "application/json"}
            )
            assert declared.status_code == 413, (service, path, declared.text)
            assert declared.headers["content-type"] == "application/problem+json"
        for path in paths:
            streamed = await client.post(
                path,
                content=_chunks(DEFAULT_MAX_BODY_BYTES + 1, chunk=64 * 1024),
                headers={**bearer(token), "content-type": "application/json",
                         "Idempotency-Key": str(uuid.uuid4())},
            )  # fmt: skip
            assert streamed.status_code == 413, (service, path, streamed.text)
            assert streamed.headers["content-type"] == "application/problem+json"

    # the adhesion (open to anyone) with an oversized body creates nothing
    body = json.dumps({**_adhesion(9420, "x"), "padding": "x" * DEFAULT_MAX_BODY_BYTES})
    refused = await platform.identity_http.post(
        "/v1/organisations", content=body, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 413
    again = await platform.identity_http.post("/v1/organisations", json=_adhesion(9420, "x"))
    assert again.status_code == 201, "the refused adhesion left nothing behind"

    chunked = await platform.identity_http.post(
        "/v1/organisations",
        content=_chunks(DEFAULT_MAX_BODY_BYTES + 1, chunk=64 * 1024),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413, chunked.text


async def test_the_largest_attendance_batch_fits_the_default_limit(platform: Platform) -> None:
    organisation = await platform.organisation(seed=9403)
    _, token = await platform.active_holder(organisation, "batch@of.example")
    row = {
        "trainee_id": "1234567A",
        "session": {"action_number": "A" * 40, "session_number": "S" * 40},
        "month": "2026-02", "attended_hours": "140.25",
        "justified_absence_hours": "13.5", "unjustified_absence_hours": "11.75",
    }  # fmt: skip
    body = json.dumps({"rows": [row] * 5000}, indent=4).encode()
    assert 2 * MiB < len(body) < DEFAULT_MAX_BODY_BYTES
    assert platform.declaration_http is not None
    response = await platform.declaration_http.post(
        f"/v1/organisations/{organisation.id}/attendance-statements/batch",
        content=body,
        headers={
            **bearer(token), "content-type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )  # fmt: skip
    assert response.status_code != 413
    _accepted_or_refused(response, "5000-row batch")  # unknown session: refused, row by row
