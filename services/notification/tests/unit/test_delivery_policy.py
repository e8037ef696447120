"""K24's rules without a server: when an e-mail is tried again, when it is given up, which SMTP
failures are transient and which permanent, and what of a failure may be recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosmtplib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_notification.adapters.smtp import (
    DeliveryError,
    SmtpMailer,
    SmtpSettings,
    classify_smtp_error,
)
from kairos_notification.domain.delivery import (
    ErrorKind,
    OutgoingEmail,
    Permanent,
    RetryPolicy,
    Transient,
    classify,
    describe_failure,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_default_back_off_doubles_from_30_seconds_and_gives_up_after_8_attempts() -> None:
    policy = RetryPolicy()
    delays = [policy.next_attempt(attempts, NOW) for attempts in range(1, 9)]
    assert [None if at is None else (at - NOW).total_seconds() for at in delays] == [
        30, 60, 120, 240, 480, 960, 1920, None
    ]  # fmt: skip


def test_the_delay_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(max_attempts=20, first_delay=timedelta(minutes=10), factor=3)
    assert policy.delay(1) == timedelta(minutes=10)
    assert policy.delay(2) == timedelta(minutes=30)
    assert policy.delay(3) == timedelta(hours=1)  # 90 minutes, capped
    assert policy.delay(19) == timedelta(hours=1)


@given(st.integers(min_value=1, max_value=60))
def test_delays_never_shrink_and_stay_within_bounds(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=100)
    assert policy.first_delay <= policy.delay(attempts) <= policy.max_delay
    assert policy.delay(attempts) <= policy.delay(attempts + 1)


def test_one_attempt_only_means_no_retry() -> None:
    assert RetryPolicy(max_attempts=1).next_attempt(1, NOW) is None


def test_the_next_attempt_is_in_utc_and_needs_an_aware_now() -> None:
    paris = datetime(2026, 3, 29, 1, 59, 50, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert RetryPolicy().next_attempt(1, paris) == datetime(2026, 3, 29, 2, 0, 20, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        RetryPolicy().next_attempt(1, datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the point


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"first_delay": timedelta(0)},
        {"first_delay": timedelta(hours=2)},
        {"factor": 0.5},
    ],
)
def test_a_nonsensical_policy_is_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each message names its own setting
        RetryPolicy(**settings)  # type: ignore[arg-type]  # the parametrized values are right


@pytest.mark.parametrize(
    ("code", "kind", "verdict"),
    [
        (421, ErrorKind.REPLY, Transient),
        (450, ErrorKind.REPLY, Transient),
        (451, ErrorKind.REPLY, Transient),
        (452, ErrorKind.REPLY, Transient),
        (550, ErrorKind.REPLY, Permanent),
        (553, ErrorKind.REPLY, Permanent),
        (554, ErrorKind.REPLY, Permanent),
        (None, ErrorKind.REPLY, Transient),
        (None, ErrorKind.CONNECTION, Transient),
        (554, ErrorKind.CONNECTION, Transient),  # the server refused the session, not the mail
        (None, ErrorKind.TIMEOUT, Transient),
        (None, ErrorKind.INVALID_ADDRESS, Permanent),
        (535, ErrorKind.AUTHENTICATION, Transient),  # our credentials: fix them, mail goes
        (None, ErrorKind.UNSUPPORTED, Transient),
    ],
)
def test_classification(code: int | None, kind: ErrorKind, verdict: type) -> None:
    assert isinstance(classify(code, kind), verdict)


def test_a_recorded_failure_names_no_address_and_is_short() -> None:
    text = describe_failure(550, "5.1.1 <Elodie.Muller@of.example>:\r\n  Recipient rejected")
    assert text == "550 5.1.1 <<address>>: Recipient rejected"
    assert len(describe_failure(None, "x" * 5000)) == 500
    assert describe_failure(None, "") == "unknown error"


def _refused(code: int, message: str) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(code, message, "elodie@of.example")]
    )


@pytest.mark.parametrize(
    ("error", "code", "permanent"),
    [
        (_refused(550, "5.1.1 <elodie@of.example>: no such user"), 550, True),
        (_refused(451, "4.7.1 greylisted, try later"), 451, False),
        (aiosmtplib.SMTPDataError(552, "message too big"), 552, True),
        (aiosmtplib.SMTPSenderRefused(451, "try later", "kairos@kairos.example"), 451, False),
        (aiosmtplib.SMTPConnectResponseError(554, "no SMTP service here"), 554, False),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), 535, False),
        (aiosmtplib.SMTPConnectError("Connection refused"), None, False),
        (aiosmtplib.SMTPServerDisconnected("gone"), None, False),
        (aiosmtplib.SMTPReadTimeoutError("slow"), None, False),
        (TimeoutError(), None, False),
        (aiosmtplib.SMTPNotSupported("STARTTLS not supported"), None, False),
        (ConnectionResetError("reset"), None, False),
    ],
)
def test_smtp_errors_become_delivery_errors(
    error: Exception, code: int | None, permanent: bool
) -> None:
    failure = classify_smtp_error(error)
    assert (failure.code, failure.permanent) == (code, permanent)
    assert "elodie@of.example" not in str(failure)


def _outgoing(email: str, name: str = "Élodie Müller") -> OutgoingEmail:
    return OutgoingEmail(
        notification_id=uuid.UUID("0b6c1f64-3f1e-4d6a-9a3e-5d1c2b7f8e90"),
        recipient_email=email, recipient_name=name, subject="Votre compte Kairos est créé",
        text_body="Bonjour Élodie,\n", html_body="<p>Bonjour Élodie,</p>", date=NOW,
    )  # fmt: skip


@pytest.mark.parametrize("email", ["élodie@of.example", "no-at-sign", "a b@of.example", "a@test"])
def test_an_invalid_address_is_a_permanent_failure(email: str) -> None:
    with pytest.raises(DeliveryError) as raised:
        SmtpMailer(SmtpSettings()).compose(_outgoing(email))
    assert raised.value.permanent
    assert raised.value.code is None


def test_the_message_is_text_and_html_with_encoded_names_and_a_stable_message_id() -> None:
    mailer = SmtpMailer(SmtpSettings(sender_address="kairos@kairos.example", sender_name="Kairós"))
    message = mailer.compose(_outgoing("elodie.muller@of.example"))
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw  # names and subject encoded (RFC 2047), the bytes stay ASCII
    assert raw.isascii()
    assert message["Message-ID"] == "<0b6c1f64-3f1e-4d6a-9a3e-5d1c2b7f8e90@kairos.example>"
    assert message["To"].addresses[0].display_name == "Élodie Müller"
    assert message["Date"].datetime == NOW
