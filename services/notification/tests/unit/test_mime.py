"""The mailer's MIME message is exactly what ``email.policy.default`` writes: its header classes
are made once (``adapters.smtp.POLICY``), not once per header, and nothing else changes."""

from __future__ import annotations

import email.policy
import uuid
from datetime import UTC, datetime

import pytest
from aiosmtplib.email import flatten_message

from kairos_notification.adapters import smtp
from kairos_notification.adapters.smtp import SmtpMailer, SmtpSettings
from kairos_notification.domain.delivery import OutgoingEmail

CASES = [
    ("rgc@of.example", "Claude Petit", "Kairos : déclaration reçue après le délai"),
    ("elodie.muller@of.example", 'Élodie Müller-Noël, "RGC" (OF)', "Un sujet très long " * 10),
    ("x@exämple.fr", "O'Brien <x@y>", "=?utf-8?q?pas-encod=C3=A9?= ; Subject: injecté"),
]


@pytest.mark.parametrize(("address", "name", "subject"), CASES)
def test_the_message_is_the_default_policys_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch, address: str, name: str, subject: str
) -> None:
    mailer = SmtpMailer(SmtpSettings(sender_name='Équipe Kairos, "service"'))
    outgoing = OutgoingEmail(
        uuid.uuid4(), address, name, subject, "Bonjour é,\n" * 30 + "une ligne " * 40,
        "<p>Bonjour &amp; é</p>" * 40, datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )  # fmt: skip

    def flattened() -> bytes:
        message = mailer.compose(outgoing)
        message.set_boundary("boundary")
        return flatten_message(message)

    cached = flattened()
    assert flattened() == cached  # the classes made by the first message serve the second
    monkeypatch.setattr(smtp, "POLICY", email.policy.default)
    assert flattened() == cached
