"""Sending an e-mail over SMTP (aiosmtplib): one connection per e-mail, bounded in time.

The message is multipart/alternative (French text and HTML, UTF-8), its `Message-ID` derived
from the notification id, so that an e-mail sent again after an uncertain first send (a timeout
after DATA) carries the same id and receivers can recognise it. Failures become
:class:`DeliveryError`, transient or permanent (``kairos_notification.domain.delivery.classify``).
Bodies and addresses name people: they are never logged, nor is the server's reply unredacted.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import structlog
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, SecretStr

from kairos_notification.domain.delivery import (
    ErrorKind,
    OutgoingEmail,
    Permanent,
    classify,
    describe_failure,
)

log = structlog.get_logger(__name__)


class SmtpSettings(BaseModel):
    """Where and how to send. `timeout` bounds one whole send, connection to QUIT, in seconds
    (and each SMTP command within it). `start_tls`: None uses STARTTLS when the server offers
    it, True requires it; `use_tls` is implicit TLS from the first byte (port 465)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = 1025
    use_tls: bool = False
    start_tls: bool | None = None
    username: str | None = None
    password: SecretStr | None = None
    sender_address: str = "ne-pas-repondre@kairos.example"
    sender_name: str = "Kairos"
    timeout: float = 30.0
    local_hostname: str | None = None  # None: aiosmtplib asks the system (may query DNS)

    @property
    def message_id_domain(self) -> str:
        return self.sender_address.rpartition("@")[2] or "kairos.invalid"


class DeliveryError(Exception):
    """The e-mail was not accepted. `code` is the SMTP reply code when the server gave one;
    `message` the server's words or the failure, addresses redacted; `permanent`: never retry."""

    def __init__(self, code: int | None, message: str, permanent: bool) -> None:
        self.code = code
        self.message = message
        self.permanent = permanent
        super().__init__(describe_failure(code, message))


def message_id(notification: OutgoingEmail, domain: str) -> str:
    return f"<{notification.notification_id}@{domain}>"


def _recipient_address(email: str) -> str:
    """The address in its ASCII form (IDNA domain), or a permanent DeliveryError."""
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise DeliveryError(None, f"invalid recipient address: {error}", permanent=True) from None
    if checked.ascii_email is None:  # pragma: no cover - allow_smtputf8=False refuses those
        raise DeliveryError(None, "invalid recipient address: not ASCII", permanent=True)
    return checked.ascii_email


def _failure(code: int | None, kind: ErrorKind, message: str) -> DeliveryError:
    verdict = classify(code, kind)
    return DeliveryError(
        code, describe_failure(None, message), permanent=isinstance(verdict, Permanent)
    )


def classify_smtp_error(error: BaseException) -> DeliveryError:  # noqa: PLR0911 - one return per kind
    """What aiosmtplib raised, classified: a refusal that concerns this e-mail (MAIL, RCPT,
    DATA) by its code; the server's refusal to talk to us at all, a lost connection or a
    timeout as transient; our credentials or the server's missing features as configuration."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = error.recipients[0] if error.recipients else None
        code = None if refused is None else refused.code
        return _failure(code, ErrorKind.REPLY, "" if refused is None else refused.message)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return _failure(error.code, ErrorKind.AUTHENTICATION, error.message)
    if isinstance(error, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPHeloError):
        return _failure(error.code, ErrorKind.CONNECTION, error.message)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _failure(error.code, ErrorKind.REPLY, error.message)
    if isinstance(error, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return _failure(None, ErrorKind.TIMEOUT, f"timed out: {error}")
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return _failure(None, ErrorKind.UNSUPPORTED, str(error))
    if isinstance(error, OSError):  # refused, reset, disconnected (aiosmtplib's included)
        return _failure(None, ErrorKind.CONNECTION, f"{type(error).__name__}: {error}")
    return _failure(None, ErrorKind.REPLY, f"{type(error).__name__}: {error}")


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, but one class per header name: ``HeaderRegistry`` builds
    a new class (``type(...)``) for each header it makes and each header count it checks,
    about 30 per e-mail, which the cyclic garbage collector then has to find and free."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        found = self._classes.get(key)
        if found is None:
            found = self._classes[key] = super().__getitem__(name)
        return found


POLICY = email.policy.default.clone(header_factory=_HeaderClasses())
"""``email.policy.default``, its header classes made once (the same headers, parsed the same)."""

WIRE_POLICY = POLICY.clone(linesep="\r\n", max_line_length=998)
"""How a message goes on the wire: CRLF, headers unfolded up to RFC 5322's 998-character line.
Python's folding at 78 characters (``email.policy.SMTP``, which aiosmtplib flattens with) puts
a space on both sides of a fold before an encoded word: « Organisme de démonstration » then
reads back from any standard parser as « Organisme de  démonstration » (and with SMTPUTF8 it
folds right after « Subject: », which reads back with a leading space). Our subjects and names
are far shorter than 998 characters, so they are never folded."""


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent: what a standard parser (``email.policy.default``) reads back with
    the very subject and names it was written with."""
    return message.as_bytes(policy=WIRE_POLICY)


class SmtpMailer:
    """Sends each e-mail on its own SMTP connection (aiosmtplib.send)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._local_hostname = settings.local_hostname

    async def local_hostname(self) -> str:
        """The name given in EHLO: the setting, else the system's (looked up once, in a
        thread: aiosmtplib would look it up again, in a thread, for every connection)."""
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        return self._local_hostname

    def compose(self, outgoing: OutgoingEmail) -> EmailMessage:
        """The MIME message: multipart/alternative, text then HTML, UTF-8, names encoded."""
        settings = self.settings
        message = EmailMessage(policy=POLICY)
        message["Subject"] = outgoing.subject
        sender_user, _, sender_domain = settings.sender_address.rpartition("@")
        message["From"] = Address(settings.sender_name, sender_user, sender_domain)
        user, _, domain = _recipient_address(outgoing.recipient_email).rpartition("@")
        message["To"] = Address(outgoing.recipient_name, user, domain)
        message["Date"] = format_datetime(outgoing.date)
        message["Message-ID"] = message_id(outgoing, settings.message_id_domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-reply loops
        # quoted-printable: 7-bit clean, whether or not the server offers 8BITMIME
        message.set_content(
            outgoing.text_body, subtype="plain", charset="utf-8", cte="quoted-printable"
        )
        message.add_alternative(
            outgoing.html_body, subtype="html", charset="utf-8", cte="quoted-printable"
        )
        return message

    async def send(self, message: OutgoingEmail) -> None:
        """Hand the e-mail to the SMTP server; DeliveryError when it was not accepted."""
        settings = self.settings
        mime = self.compose(message)
        password = settings.password.get_secret_value() if settings.password else None
        try:
            async with asyncio.timeout(settings.timeout):
                local_hostname = await self.local_hostname()
                await aiosmtplib.send(
                    wire_bytes(mime),
                    sender=settings.sender_address,
                    recipients=[_recipient_address(message.recipient_email)],
                    hostname=settings.host, port=settings.port,
                    username=settings.username, password=password,
                    use_tls=settings.use_tls, start_tls=settings.start_tls,
                    timeout=settings.timeout, local_hostname=local_hostname,
                )  # fmt: skip
        except Exception as error:  # every failure is classified and raised as a DeliveryError
            failure = classify_smtp_error(error)
            log.warning(
                "e-mail not accepted",
                notification_id=str(message.notification_id),
                code=failure.code,
                permanent=failure.permanent,
                error_type=type(error).__name__,
            )
            raise failure from error
