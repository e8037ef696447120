"""Logs are JSON lines with the service name, and secrets never reach them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from kairos_shared.logging import REDACTED, configure_logging


@pytest.fixture
def json_logging() -> Iterator[None]:
    configure_logging("identity", fmt="json")
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def _read(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]


def test_structlog_and_stdlib_lines_are_json_with_the_service(
    json_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.get_logger("kairos.test").info("adhesion validated", organisation_id="o-1")
    logging.getLogger("aiokafka.consumer").warning("rebalance")
    ours, library = _read(capsys)
    assert ours["event"] == "adhesion validated"
    assert ours["service"] == "identity"
    assert ours["organisation_id"] == "o-1"
    assert library["event"] == "rebalance"
    assert library["service"] == "identity"


def test_secrets_are_redacted_from_every_line(
    json_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "Correct-Horse-Battery-Staple-42"
    log = structlog.get_logger("kairos.test")
    log.info("login", password=secret, new_password=secret, login_id="jdupont")
    log.info("call", headers={"Authorization": f"Bearer {secret}"}, access_token=secret)
    log.info("connect", url=f"postgresql://kairos:{secret}@db:5432/identity")
    log.info(f"header was Bearer {secret}")  # noqa: G004 - a secret inside the message itself
    logging.getLogger("uvicorn.error").warning("token=%s", {"refresh_token": secret})
    output = capsys.readouterr().err
    assert secret not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines[0]["password"] == REDACTED
    assert lines[0]["login_id"] == "jdupont"
    assert lines[2]["url"] == f"postgresql://kairos:{REDACTED}@db:5432/identity"
