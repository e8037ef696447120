"""Every operation of every service's OpenAPI document, fuzzed with Schemathesis against the
running platform (in process, real Kafka and PostgreSQL): as an operator and as an RGC (so the
requests get past 401), on random and on real organisation ids, with data that fits the schema
and data that does not. No answer is a 5xx, and every answer is what the document declares:
a documented status, its media type, a body that validates against its schema (refusals are
``application/problem+json``).

Schemathesis generates the cases and checks the responses; the requests go through the apps'
own ASGI clients on the test's event loop (the services' database pools live on it), sent from
the worker thread Hypothesis runs in. Hypothesis is derandomized: a run is reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation as _APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kairos_devstack.platform import Platform, bearer, running_platform

pytestmark = [
    pytest.mark.security,
    pytest.mark.slow,
    # Schemathesis' negative cases draw from the `random` module (its code, not ours).
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module inside strategies"
        ":hypothesis.errors.HypothesisDeprecationWarning"
    ),
]

Operation = _APIOperation[Any, Any, Any, Any]

MAX_EXAMPLES = 20
"""Per operation (about 80 of them): the whole run stays well under five minutes."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Operations that would take the organisation used for the real ids out of the game.
# (/compromise would end the fuzzing RGC's sessions.)
_NOT_ON_THE_REAL_ORGANISATION = (
    "/suspension",
    "/withdrawal",
    "/vacancy",
    "/password-reset",
    "/compromise",
)


@pytest_asyncio.fixture(loop_scope="session")
async def platform(
    new_database: Callable[[], Awaitable[str]], kafka_bootstrap_servers: str
) -> AsyncIterator[Platform]:
    async with running_platform(
        new_database, kafka_bootstrap_servers, with_declaration=True, with_notification=True
    ) as platform:
        yield platform


@dataclass
class Findings:
    failures: dict[str, str] = field(default_factory=dict)
    """One failure message per operation and check (the first found)."""
    requests: int = 0


def _clients(platform: Platform) -> list[tuple[str, httpx.AsyncClient]]:
    assert platform.declaration_http is not None
    assert platform.notification_http is not None
    return [  # identity last: its logout ends the fuzzing sessions everywhere
        ("habilitation", platform.http),
        ("declaration", platform.declaration_http),
        ("notification", platform.notification_http),
        ("identity", platform.identity_http),
    ]


def _ordered(operations: list[Operation]) -> list[Operation]:
    """Logout last."""
    return sorted(operations, key=lambda operation: operation.method.upper() == "DELETE")


def _fuzz_operation(
    operation: Operation,
    send: Callable[[dict[str, Any]], httpx.Response],
    identities: list[dict[str, str]],
    real_ids: dict[str, str],
    findings: Findings,
) -> None:
    """Runs in a worker thread: Hypothesis drives Schemathesis' cases for `operation`."""
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: value for name, value in real_ids.items() if name in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if fixed and not operation.path.endswith(_NOT_ON_THE_REAL_ORGANISATION):
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=st.one_of(strategies), identity=st.sampled_from(identities))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case[Operation], identity: dict[str, str]) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://service", headers=identity)
        response = send(kwargs)
        findings.requests += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=identity)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"{label}: {failure.title}"
                findings.failures.setdefault(key, f"{key}\n{group}")

    run()


async def test_no_operation_answers_a_5xx_or_outside_its_documented_schema(
    platform: Platform,
) -> None:
    organisation = await platform.organisation(seed=9101)
    holder, _ = await platform.active_holder(organisation, "fuzz@of.example")
    real_ids = {
        "organisation_id": organisation.id,
        "account_id": organisation.rgc_account_id,
        "habilitation_id": holder,
    }
    identities = [bearer(platform.operator_token), bearer(organisation.rgc_token)]
    loop = asyncio.get_running_loop()
    findings = Findings()

    for service, client in _clients(platform):
        document = (await client.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        results = list(schema.get_all_operations())
        operations = _ordered([result.ok() for result in results if isinstance(result, Ok)])
        assert len(operations) == len(results), f"{service}: an operation Schemathesis cannot read"

        def send(kwargs: dict[str, Any], client: httpx.AsyncClient = client) -> httpx.Response:
            return asyncio.run_coroutine_threadsafe(_send(client, kwargs), loop).result(60)

        for operation in operations:
            await asyncio.to_thread(
                _fuzz_operation, operation, send, identities, real_ids, findings
            )
        assert operations, f"{service} documents no operation"

    assert findings.requests > 1000
    assert not findings.failures, "\n\n".join(sorted(findings.failures.values()))


async def _send(client: httpx.AsyncClient, kwargs: dict[str, Any]) -> httpx.Response:
    """A Schemathesis request (its `requests`-style arguments) through an app's ASGI client."""
    url = httpx.URL(kwargs["url"])  # absolute, percent-encoded as sent; the host is ignored
    content: bytes | str | None = None
    json: Any = None
    if "json" in kwargs:
        json = kwargs["json"]
    elif kwargs.get("data") is not None:
        content = kwargs["data"]
    assert "files" not in kwargs, "no operation takes multipart bodies"
    return await client.request(
        kwargs["method"],
        url,
        params=kwargs.get("params") or None,
        headers=kwargs.get("headers") or None,
        cookies=kwargs.get("cookies") or None,
        content=content,
        json=json,
    )
