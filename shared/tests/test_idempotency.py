"""Idempotency keys against the real PostgreSQL: a retried POST gets the first answer and its
effect is applied once; a key reused for another request is refused; callers never share keys;
a concurrent retry waits for the first request's transaction and follows its outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import Depends, FastAPI, Response

from kairos_shared import idempotency
from kairos_shared.clock import ManualClock
from kairos_shared.db import Connection
from kairos_shared.idempotency import (
    IdempotencyKeyInProgressError,
    IdempotencyKeyReusedError,
    IdempotentRequest,
    StoredResponse,
    begin,
    complete,
    forget_older_than,
    parse_key,
    request_hash,
)
from kairos_shared.problems import MEDIA_TYPE, Problem, install_problem_handlers

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BODY = b'{"trainee": "A-1", "hours": 35}'
HASH = request_hash("POST", "/v1/declarations", BODY)
CREATED = StoredResponse(201, b'{"id":"d-1"}', "application/json")


@pytest_asyncio.fixture(loop_scope="session")
async def connection(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A connection on a database with the shared tables and a ``declarations`` table."""
    async with pool.acquire() as connection:
        await connection.execute("CREATE TABLE declarations (scope text, body bytea)")
        yield connection


async def _post(
    connection: Connection, scope: str, key: str, body: bytes = BODY, *, now: datetime = T0
) -> StoredResponse:
    """A service-layer POST: the effect (one row) and its response, or the replayed one."""
    async with connection.transaction():
        digest = request_hash("POST", "/v1/declarations", body)
        replay = await begin(connection, scope, key, digest, now=now)
        if replay is not None:
            return replay
        await connection.execute("INSERT INTO declarations VALUES ($1, $2)", scope, body)
        await complete(connection, scope, key, *_fields(CREATED), now=now)
    return CREATED


def _fields(response: StoredResponse) -> tuple[int, bytes, str | None]:
    return response.status_code, response.body, response.media_type


async def _declarations(connection: Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM declarations"))


async def test_a_new_key_goes_ahead_and_its_response_is_stored(connection: Connection) -> None:
    assert await _post(connection, "account-a", "key-1") == CREATED
    row = await connection.fetchrow("SELECT * FROM idempotency_key")
    assert row is not None
    assert (row["scope"], row["key"], row["request_hash"]) == ("account-a", "key-1", HASH)
    assert (row["status_code"], row["response_body"]) == (201, CREATED.body)
    assert (row["created_at"], row["completed_at"]) == (T0, T0)


async def test_the_same_key_and_request_replays_without_applying_again(
    connection: Connection,
) -> None:
    first = await _post(connection, "account-a", "key-1")
    respaced = b'{ "hours": 35,\n  "trainee": "A-1" }'
    again = await _post(connection, "account-a", "key-1", respaced, now=T0 + timedelta(hours=1))
    assert again == first
    assert await _declarations(connection) == 1


async def test_the_same_key_for_another_request_is_refused_with_a_409(
    connection: Connection,
) -> None:
    await _post(connection, "account-a", "key-1")
    with pytest.raises(IdempotencyKeyReusedError) as refused:
        await _post(connection, "account-a", "key-1", b'{"trainee": "B-2", "hours": 35}')
    body = refused.value.body()
    assert (body["status"], body["type"].rsplit("/", 1)[-1]) == (409, "idempotency-key-reused")
    assert body["errors"] == [
        {"field": "header.Idempotency-Key", "message": "already used for another request"}
    ]
    assert await _declarations(connection) == 1


async def test_two_callers_keys_never_collide(connection: Connection) -> None:
    await _post(connection, "account-a", "key-1")
    other_body = b'{"trainee": "B-2"}'
    assert await _post(connection, "account-b", "key-1", other_body) == CREATED
    assert await _declarations(connection) == 2


async def test_a_refused_request_leaves_no_key_so_its_retry_is_judged_anew(
    connection: Connection,
) -> None:
    async def refused_request() -> None:
        async with connection.transaction():
            assert await begin(connection, "account-a", "key-1", HASH, now=T0) is None
            raise Problem(status=409, title="Conflict", detail="refused", type="conflict")

    with pytest.raises(Problem):
        await refused_request()
    assert await _post(connection, "account-a", "key-1") == CREATED
    assert await _declarations(connection) == 1


async def _wait_until_blocked(observer: Connection, blocked: Connection) -> None:
    """Until ``blocked``'s backend waits on a lock (the other transaction's key)."""
    pid = blocked.get_server_pid()
    for _ in range(500):
        waiting = await observer.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second request never waited for the first")


async def _concurrent_retry(pool: asyncpg.Pool, *, first_commits: bool) -> StoredResponse | None:
    """The first request begins and holds its transaction; the same request arrives on another
    connection, waits, and sees what the first transaction did in the end. (A transaction left
    open by a failed assertion is rolled back when its connection returns to the pool.)"""
    async with pool.acquire() as first, pool.acquire() as second, pool.acquire() as observer:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await second_tx.start()
        assert await begin(first, "account-a", "key-1", HASH, now=T0) is None
        retry = asyncio.create_task(begin(second, "account-a", "key-1", HASH, now=T0))
        try:
            await _wait_until_blocked(observer, second)
            assert not retry.done()
            if first_commits:
                await complete(first, "account-a", "key-1", *_fields(CREATED), now=T0)
                await first_tx.commit()
            else:
                await first_tx.rollback()
            outcome = await asyncio.wait_for(retry, timeout=10)
        finally:
            retry.cancel()
        if outcome is None:  # it went ahead: it completes the key itself
            await complete(second, "account-a", "key-1", 202, b"second", None, now=T0)
        await second_tx.commit()
        return outcome


async def test_a_concurrent_retry_waits_then_replays_when_the_first_commits(
    pool: asyncpg.Pool,
) -> None:
    outcome = await _concurrent_retry(pool, first_commits=True)
    assert outcome == CREATED


async def test_a_concurrent_retry_waits_then_goes_ahead_when_the_first_rolls_back(
    pool: asyncpg.Pool,
) -> None:
    outcome = await _concurrent_retry(pool, first_commits=False)
    assert outcome is None
    async with pool.acquire() as connection:
        stored = await connection.fetchrow("SELECT status_code, response_body FROM idempotency_key")
    assert stored is not None
    assert (stored["status_code"], stored["response_body"]) == (202, b"second")


async def test_keys_older_than_the_retention_are_pruned_and_count(connection: Connection) -> None:
    await _post(connection, "account-a", "old", now=T0)
    await _post(connection, "account-a", "recent", now=T0 + timedelta(hours=20))
    cutoff = T0 + timedelta(hours=25) - idempotency.KEY_RETENTION
    assert await forget_older_than(connection, cutoff) == 1
    keys = await connection.fetch("SELECT key FROM idempotency_key")
    assert [row["key"] for row in keys] == ["recent"]
    assert await forget_older_than(connection, cutoff) == 0


async def test_the_pruning_job_forgets_keys_past_the_retention(
    connection: Connection, pool: asyncpg.Pool
) -> None:
    await _post(connection, "account-a", "old", now=T0)
    clock = ManualClock(T0 + idempotency.KEY_RETENTION + timedelta(seconds=1))
    job = idempotency.pruning_job(lambda: pool, clock)
    assert (job.name, job.interval_seconds) == ("idempotency-keys-pruning", 3600.0)
    assert await job.run() == 1


async def test_a_key_past_its_retention_is_a_new_request_even_before_pruning(
    connection: Connection,
) -> None:
    await _post(connection, "account-a", "key-1", now=T0)
    later = T0 + idempotency.KEY_RETENTION
    other_body = b'{"trainee": "B-2"}'
    assert await _post(connection, "account-a", "key-1", other_body, now=later) == CREATED
    assert await _declarations(connection) == 2
    row = await connection.fetchrow("SELECT created_at, request_hash FROM idempotency_key")
    assert row is not None
    assert row["created_at"] == later
    assert row["request_hash"] == request_hash("POST", "/v1/declarations", other_body)


async def test_keys_are_recorded_only_inside_the_effects_transaction(
    connection: Connection,
) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        await begin(connection, "account-a", "key-1", HASH, now=T0)
    async with connection.transaction():
        with pytest.raises(RuntimeError, match="no idempotency key"):
            await complete(connection, "account-a", "key-1", *_fields(CREATED), now=T0)


async def test_a_key_begun_twice_in_one_transaction_has_nothing_to_replay(
    connection: Connection,
) -> None:
    async with connection.transaction():
        await begin(connection, "account-a", "key-1", HASH, now=T0)
        with pytest.raises(IdempotencyKeyInProgressError):
            await begin(connection, "account-a", "key-1", HASH, now=T0)


# --- request hashing and the header ---------------------------------------------------------


def test_the_same_json_spaced_or_ordered_otherwise_is_the_same_request() -> None:
    compact = json.dumps({"b": [1, {"y": 2, "x": "é"}], "a": None}, separators=(",", ":"))
    spaced = '{\n  "a": null,\n  "b": [ 1, { "x": "\\u00e9", "y": 2 } ]\n}'
    assert request_hash("POST", "/v1/x", compact.encode()) == request_hash(
        "post", "/v1/x", spaced.encode()
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/declarations", BODY),
        ("POST", "/v1/declarations/2", BODY),
        ("POST", "/v1/declarations?dry_run=true", BODY),
        ("POST", "/v1/declarations", b'{"trainee": "A-1", "hours": 35.5}'),
        ("POST", "/v1/declarations", b'{"trainee": "A-1", "hours": "35"}'),
        ("POST", "/v1/declarations", b""),
    ],
)
def test_another_method_path_or_body_is_another_request(
    method: str, path: str, body: bytes
) -> None:
    assert request_hash(method, path, body) != HASH


def test_a_body_that_is_not_json_is_hashed_as_it_is() -> None:
    assert request_hash("POST", "/f", b"a=1&b=2") == request_hash("POST", "/f", b"a=1&b=2")
    assert request_hash("POST", "/f", b"a=1&b=2") != request_hash("POST", "/f", b"a=1& b=2")
    assert request_hash("POST", "/f", b"\xff\xfe") != request_hash("POST", "/f", b"\xff")
    assert len(request_hash("POST", "/f", b"[" * 100_000)) == 32  # too deep to parse: raw


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5"', "8e03978e-40d5"),
        (" k ", "k"),
        ("~" * 200, "~" * 200),
    ],
)
def test_a_well_formed_key_is_accepted(header: str, key: str) -> None:
    assert parse_key(header) == key


@pytest.mark.parametrize(
    ("header", "problem_type"),
    [
        (None, "idempotency-key-missing"),
        ("", "idempotency-key-missing"),
        ("   ", "idempotency-key-missing"),
        ("a" * 201, "idempotency-key-invalid"),
        ("two words", "idempotency-key-invalid"),
        ("clé", "idempotency-key-invalid"),
        ("tab\there", "idempotency-key-invalid"),
        ('""', "idempotency-key-invalid"),
    ],
)
def test_a_missing_or_malformed_key_is_a_400_naming_the_header(
    header: str | None, problem_type: str
) -> None:
    with pytest.raises(Problem) as refused:
        parse_key(header)
    body = refused.value.body()
    assert (body["status"], body["type"].rsplit("/", 1)[-1]) == (400, problem_type)
    assert "Idempotency-Key" in body["detail"]
    assert body["errors"][0]["field"] == "header.Idempotency-Key"


# --- the FastAPI helpers ---------------------------------------------------------------------


def _app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/declarations", status_code=201)
    async def declare(
        body: dict[str, object],
        request: Annotated[IdempotentRequest, Depends(idempotency.idempotent_request)],
    ) -> Response:
        async with pool.acquire() as connection, connection.transaction():
            stored = await begin(connection, "account-a", request.key, request.request_hash, now=T0)
            if stored is not None:
                return idempotency.replay_response(stored)
            await connection.execute("INSERT INTO declarations VALUES ('account-a', '')")
            answer = json.dumps({"declared": body}).encode()
            await complete(
                connection, "account-a", request.key, 201, answer, "application/json", now=T0
            )
        return Response(answer, status_code=201, media_type="application/json")

    return app


async def test_a_route_replays_a_retried_post_and_refuses_one_without_a_key(
    connection: Connection, pool: asyncpg.Pool
) -> None:
    transport = httpx.ASGITransport(app=_app(pool))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = {"Idempotency-Key": "k-1"}
        first = await client.post("/v1/declarations", json={"a": 1, "b": 2}, headers=headers)
        retried = await client.post(
            "/v1/declarations",
            content=b'{"b": 2, "a": 1}',
            headers={**headers, "content-type": "application/json"},
        )
        missing = await client.post("/v1/declarations", json={"a": 1})
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.content == first.content
    assert retried.headers["content-type"] == "application/json"
    assert retried.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _declarations(connection) == 1
    assert missing.status_code == 400
    assert missing.headers["content-type"] == MEDIA_TYPE
    assert missing.json()["type"].endswith("/idempotency-key-missing")
