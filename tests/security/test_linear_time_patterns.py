"""Hostile input against every pattern a request or a record reaches: linear time, proven by
doubling.

A regular expression with overlapping repetitions backtracks: the correspondent e-mail check took
3.6 s on ``"a@" + "." * 20_000 + "@"`` and the log redaction 7 s on ``"token" * 400`` (a Kafka
record's ``ce_id``), each freezing its service's event loop. A wall-clock threshold would pass on
a fast machine and fail on a loaded one; instead each case is timed at ``n`` and ``4n`` characters
(``time.perf_counter``, the best of several rounds of many calls) and must grow at most like
``8 * t(n)`` plus a small epsilon: linear code grows by about 4, quadratic by 16, cubic by 64.
Sizes stay below every length bound, so the patterns themselves are measured, not the bounds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest

from kairos_cli.configuration import mask_text
from kairos_declaration.domain.declarations import Correspondent
from kairos_declaration.domain.errors import DeclarationRejected
from kairos_declaration.domain.session_consistency import check_correspondent
from kairos_habilitation.domain.habilitations import (
    HabilitatedPerson,
    InvalidHabilitationError,
    _check_person,  # the person check every habilitation runs
)
from kairos_notification.domain.delivery import describe_failure
from kairos_schemas.cloudevents import ATTRIBUTE_MAX_LENGTH, CloudEvent, InvalidCloudEventError
from kairos_shared.email_addresses import EMAIL_MAX_LENGTH, is_email_address
from kairos_shared.logging import MAX_LOGGED_TEXT, redact_text

pytestmark = [pytest.mark.security]

GROWTH = 8.0  # allowed t(4n) / t(n): linear gives ~4
EPSILON = 50e-6  # seconds per call: timer and interpreter noise on tiny inputs


def _seconds_per_call(function: Callable[[str], object], text: str) -> float:
    """The best of five rounds, each at least 20 ms of calls."""
    best = float("inf")
    for _ in range(5):
        calls = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < 0.02:
            function(text)
            calls += 1
        best = min(best, elapsed / calls)
    return best


def assert_linear(function: Callable[[str], object], hostile: Callable[[int], str], n: int) -> None:
    small = _seconds_per_call(function, hostile(n))
    large = _seconds_per_call(function, hostile(4 * n))
    assert large < GROWTH * small + EPSILON, (
        f"{len(hostile(n))} → {len(hostile(4 * n))} characters took {small * 1e3:.3f} ms → "
        f"{large * 1e3:.3f} ms (x{large / small:.1f}): super-linear"
    )


def _correspondent(email: str) -> None:
    with contextlib.suppress(DeclarationRejected):
        check_correspondent(Correspondent("Ada", "Lovelace", email, "+33 1 23 45 67 89"))


def _person(email: str) -> None:
    with contextlib.suppress(InvalidHabilitationError):
        _check_person(HabilitatedPerson("Ada", "Lovelace", email))


def _cloudevent_with_id(event_id: str) -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_source", b"/kairos/identity"),
        ("ce_type", b"fr.kairos.identity.account-created.v1"),
        ("ce_time", b"2026-01-05T10:00:00Z"),
        ("content-type", b"application/json"),
    ]
    try:
        CloudEvent.from_kafka(b"key", b"{}", headers)
    except InvalidCloudEventError as error:
        redact_text(str(error))


@pytest.mark.parametrize("check", [_correspondent, _person], ids=["correspondent", "person"])
def test_the_email_checks_are_linear(check: Callable[[str], None]) -> None:
    assert_linear(check, lambda n: "a@" + "." * n + "@", 2000)
    assert_linear(check, lambda n: "a@" + "a." * n, 2000)


def test_an_email_address_is_bounded_before_it_is_read() -> None:
    local = "a" * (EMAIL_MAX_LENGTH - len("@example.fr"))
    assert is_email_address(f"{local}@example.fr")
    assert not is_email_address(f"{local}a@example.fr")
    assert not is_email_address("a@" + "." * 20_000 + "@")


@pytest.mark.parametrize(
    "hostile",
    [
        lambda n: "token" * (n // 5),
        lambda n: "a" * n,
        lambda n: "password" + " " * n,
        lambda n: "a://b:" * (n // 6),
        lambda n: "bearer " * (n // 7),
        lambda n: "x-api-key=" * (n // 10),
    ],
    ids=["token-repeated", "one-word", "spaces", "url-schemes", "bearer-repeated", "keys"],
)
def test_log_redaction_is_linear(hostile: Callable[[int], str]) -> None:
    assert MAX_LOGGED_TEXT > 4 * 1500  # the pattern is measured, not the cut
    assert_linear(redact_text, hostile, 1500)


def test_log_redaction_still_hides_secrets() -> None:
    text = "a=token=abc refresh_token: 'xyz' Bearer eyJ.x postgresql://u:pw@db/k password=p"
    redacted = redact_text(text)
    for secret in ("abc", "xyz", "eyJ.x", "pw@", "=p"):
        assert secret not in redacted, redacted
    assert redact_text("x" * (MAX_LOGGED_TEXT + 10)).endswith("[10 characters cut]")


@pytest.mark.parametrize(
    "hostile",
    [lambda n: "a" * n, lambda n: "a@" * (n // 2), lambda n: "<" + "a" * n],
    ids=["no-at", "at-repeated", "bracket"],
)
def test_smtp_failure_description_is_linear(hostile: Callable[[int], str]) -> None:
    assert_linear(lambda text: describe_failure(550, text), hostile, 400)


@pytest.mark.parametrize(
    "hostile",
    [lambda n: "a" * n, lambda n: "a://b:" * (n // 6), lambda n: "A" * n + "://"],
    ids=["one-word", "url-schemes", "long-scheme"],
)
def test_cli_configuration_masking_is_linear(hostile: Callable[[int], str]) -> None:
    assert_linear(mask_text, hostile, 1500)


def test_cloudevent_attributes_are_bounded_before_they_are_read() -> None:
    assert_linear(_cloudevent_with_id, lambda n: "token" * n, 400)
    with pytest.raises(
        InvalidCloudEventError, match=f"ce_id is 2000 bytes long: at most {ATTRIBUTE_MAX_LENGTH}"
    ):
        CloudEvent.from_kafka(
            b"key",
            b"{}",
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"token" * 400),
                ("ce_source", b"/kairos/identity"),
                ("ce_type", b"fr.kairos.identity.account-created.v1"),
                ("ce_time", b"2026-01-05T10:00:00Z"),
                ("content-type", b"application/json"),
            ],
        )
