"""Correlation ids: taken from X-Correlation-ID when well-formed, echoed, bound to logs and
to the events written meanwhile."""

from __future__ import annotations

import httpx
import pytest
import structlog
from fastapi import FastAPI

from kairos_devstack.testing import CounterIncremented
from kairos_shared.correlation import (
    HEADER,
    CorrelationIdMiddleware,
    correlation_scope,
    current_correlation_id,
)
from kairos_shared.outbox import outbox_message


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationIdMiddleware)

    @app.get("/whoami")
    async def whoami() -> dict[str, str | None]:
        return {"correlation_id": current_correlation_id()}

    return app


async def _get(headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/whoami", headers=headers)


async def test_a_well_formed_id_is_kept_and_echoed() -> None:
    response = await _get({HEADER: "req-42.abc"})
    assert response.json() == {"correlation_id": "req-42.abc"}
    assert response.headers[HEADER] == "req-42.abc"


@pytest.mark.parametrize("given", [None, "", "x" * 129, "bad id with spaces", "a/b;c"])
async def test_a_missing_or_malformed_id_is_replaced_by_a_new_one(given: str | None) -> None:
    response = await _get({} if given is None else {HEADER: given})
    new_id = response.json()["correlation_id"]
    assert new_id
    assert new_id != given
    assert response.headers[HEADER] == new_id


def test_scope_binds_logs_and_events_then_restores() -> None:
    with correlation_scope("corr-1", consumer="c"):
        log_context = structlog.contextvars.get_contextvars()
        message = outbox_message(CounterIncremented(counter_id="c", seq=1), source="/t")
    assert current_correlation_id() is None
    assert "correlation_id" not in structlog.contextvars.get_contextvars()
    assert dict(message.headers)["ce_correlationid"] == b"corr-1"
    assert log_context == {"correlation_id": "corr-1", "consumer": "c"}
