"""The ``Idempotency-Key`` header of every POST: a retried request gets the first answer, and
its effect is applied once.

Keys are per caller (``scope``, the account id), so two callers' keys never collide. Within the
transaction that applies the request's effect, and before it, the service layer calls

1. :func:`begin` — records the key with the request's hash (``INSERT ... ON CONFLICT``):
   ``None`` means go ahead; a :class:`StoredResponse` is the answer to replay (apply nothing);
   the same key for another request raises :class:`IdempotencyKeyReusedError` (a 409 problem);
2. the effect, then :func:`complete` with the response, in the same transaction.

There is no race: a concurrent request with the same key waits on the table's primary key until
the first transaction ends, then replays its committed response, or proceeds as a new request
when it rolled back (a refused request leaves no key: its retry is judged anew). This needs the
default READ COMMITTED isolation (under REPEATABLE READ the waiter gets a serialization failure)
and :func:`begin` as the transaction's first statement (it waits holding nothing else).

Keys are kept :data:`KEY_RETENTION` (24 hours): an older key is a new request even before
:func:`forget_older_than` (or :func:`pruning_job`) deletes it. Bodies are stored to be
replayed and are never logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import asyncpg
import structlog
from fastapi import Header, Request, Response

from kairos_shared.clock import Clock, require_aware
from kairos_shared.db import Connection
from kairos_shared.periodic import PeriodicJob
from kairos_shared.problems import FieldError, Problem

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 200
_FIELD = f"header.{HEADER}"
_HASH_FORMAT = b"kairos-idempotency/1"


@dataclass(frozen=True)
class StoredResponse:
    """The response a request with this key got first, to send again as it was."""

    status_code: int
    body: bytes
    media_type: str | None


class IdempotencyKeyReusedError(Problem):
    """The key was already used by this caller for another request (another body or path)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            status=409,
            title="Idempotency key reused",
            detail=f"the {HEADER} {key!r} was already used for another request; "
            "send a new key with each new request",
            type="idempotency-key-reused",
            errors=[FieldError(_FIELD, "already used for another request")],
        )


class IdempotencyKeyInProgressError(Problem):
    """The key's first request has no stored response (begun twice in one transaction, or
    committed without :func:`complete`): there is nothing to replay."""

    def __init__(self, key: str) -> None:
        super().__init__(
            status=409,
            title="Idempotency key in progress",
            detail=f"the request with {HEADER} {key!r} has not completed",
            type="idempotency-key-in-progress",
            errors=[FieldError(_FIELD, "its first request has not completed")],
        )


def parse_key(header: str | None) -> str:
    """The key sent in the ``Idempotency-Key`` header: 1 to 200 visible ASCII characters, bare
    or as the quoted string of draft-ietf-httpapi-idempotency-key-header; else a 400 problem."""
    if header is None or not header.strip():
        raise Problem(
            status=400,
            title="Idempotency key missing",
            detail=f"this request needs an {HEADER} header: a unique value (a UUID) per "
            "request, sent again unchanged when the request is retried",
            type="idempotency-key-missing",
            errors=[FieldError(_FIELD, "required")],
        )
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # noqa: PLR2004 - both quotes of "key"
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in key):
        raise Problem(
            status=400,
            title="Idempotency key invalid",
            detail=f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII "
            "characters (no spaces)",
            type="idempotency-key-invalid",
            errors=[FieldError(_FIELD, f"1 to {MAX_KEY_LENGTH} visible ASCII characters")],
        )
    return key


def _canonical_body(body: bytes) -> bytes:
    """JSON with sorted keys and no whitespace, so that spacing and member order do not make
    another request; anything that is not JSON, as it is (tagged so the two never meet)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return b"raw\n" + body
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b"json\n" + canonical.encode()


def request_hash(method: str, path: str, body: bytes) -> bytes:
    """The SHA-256 identifying a request: its method, its path (with the query string when the
    handler reads it) and its body, JSON canonicalised."""
    digest = hashlib.sha256(_HASH_FORMAT)
    for part in (method.upper().encode(), path.encode()):
        digest.update(b"%d:" % len(part) + part)
    digest.update(_canonical_body(body))
    return digest.digest()


def _in_transaction(connection: Connection) -> None:
    if not connection.is_in_transaction():
        raise RuntimeError(
            "idempotency keys are recorded in the transaction that applies the request's effect"
        )


async def begin(
    connection: Connection,
    scope: str,
    key: str,
    request_hash: bytes,
    *,
    now: datetime,
    retention: timedelta = KEY_RETENTION,
) -> StoredResponse | None:
    """Record the key before the effect, in the caller's transaction: ``None`` to go ahead, or
    the stored response to replay. Waits while another transaction holds the same key."""
    _in_transaction(connection)
    require_aware(now, "now")
    new = await connection.fetchval(
        """
        INSERT INTO idempotency_key AS k (scope, key, request_hash, created_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (scope, key) DO UPDATE
            SET request_hash = excluded.request_hash, created_at = excluded.created_at,
                status_code = NULL, response_body = NULL, response_media_type = NULL,
                completed_at = NULL
            WHERE k.created_at <= $5
        RETURNING true
        """,
        scope,
        key,
        request_hash,
        now,
        now - retention,
    )
    if new:
        return None
    row = await connection.fetchrow(
        """
        SELECT request_hash, status_code, response_body, response_media_type
        FROM idempotency_key WHERE scope = $1 AND key = $2
        """,
        scope,
        key,
    )
    if row is None:  # pragma: no cover - the conflicting row is locked by the statement above
        raise RuntimeError("the idempotency key vanished while it was locked")
    if row["request_hash"] != request_hash:
        log.info("idempotency key reused for another request", scope=scope, key=key)
        raise IdempotencyKeyReusedError(key)
    if row["status_code"] is None:
        raise IdempotencyKeyInProgressError(key)
    log.info("idempotent request replayed", scope=scope, key=key, status=row["status_code"])
    return StoredResponse(row["status_code"], row["response_body"], row["response_media_type"])


async def complete(  # noqa: PLR0917 - the agreed signature: a response's parts, like begin's
    connection: Connection,
    scope: str,
    key: str,
    status_code: int,
    body: bytes,
    media_type: str | None,
    *,
    now: datetime,
) -> None:
    """Store the response after the effect, in the transaction :func:`begin` was called in."""
    _in_transaction(connection)
    require_aware(now, "now")
    status = await connection.execute(
        """
        UPDATE idempotency_key
        SET status_code = $3, response_body = $4, response_media_type = $5, completed_at = $6
        WHERE scope = $1 AND key = $2 AND completed_at IS NULL
        """,
        scope,
        key,
        status_code,
        body,
        media_type,
        now,
    )
    if status != "UPDATE 1":
        raise RuntimeError(f"no idempotency key {key!r} begun and not completed for this scope")


async def forget_older_than(connection: Connection, before: datetime) -> int:
    """Delete the keys created before ``before``; returns how many were deleted."""
    require_aware(before, "before")
    status = await connection.execute("DELETE FROM idempotency_key WHERE created_at < $1", before)
    return int(status.rsplit(" ", 1)[-1])


def pruning_job(
    pool: Callable[[], asyncpg.Pool],
    clock: Clock,
    *,
    interval_seconds: float = 3600.0,
    retention: timedelta = KEY_RETENTION,
) -> PeriodicJob:
    """A periodic job deleting the keys past their retention (safe with several replicas);
    ``pool`` gives the pool once it is open (``app.state.resources.require_pool``)."""

    async def prune() -> int:
        async with pool().acquire() as connection:
            return await forget_older_than(connection, clock.now() - retention)

    return PeriodicJob("idempotency-keys-pruning", interval_seconds, prune)


# --- FastAPI --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotentRequest:
    """A POST's key and request hash, for the service layer to :func:`begin` with."""

    key: str
    request_hash: bytes


async def idempotent_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="A unique value (a UUID) per request, sent again unchanged when the "
            "request is retried: the retry gets the first answer and changes nothing more.",
        ),
    ] = None,
) -> IdempotentRequest:
    """A FastAPI dependency: the parsed key (400 problem when missing or invalid) and the hash
    of the request (method, path and query, body)."""
    key = parse_key(idempotency_key)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return IdempotentRequest(key, request_hash(request.method, path, await request.body()))


def replay_response(stored: StoredResponse) -> Response:
    """The stored response, sent again as it was, marked ``Idempotent-Replayed: true``."""
    return Response(
        content=stored.body,
        status_code=stored.status_code,
        media_type=stored.media_type,
        headers={REPLAYED_HEADER: "true"},
    )
