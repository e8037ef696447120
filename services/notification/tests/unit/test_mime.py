"""The mailer's MIME message is exactly what ``email.policy.default`` writes: its header classes
are made once (``adapters.smtp.POLICY``), not once per header, and nothing else changes."""

from __future__ import annotations

import email
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


SUBJECTS = [
    "Kairos : le poste de RGC de l'organisme Organisme de démonstration est vacant",
    "Kairos : votre habilitation pour l'organisme Organisme de démonstration a pris fin",
    "Kairos : votre compte de RGC pour l'organisme Organisme de démonstration est désactivé",
    "Kairos : revue des habilitations de l'organisme Organisme de démonstration non terminée",
    "Kairos : l'adhésion de l'organisme Établissement régional d'études supérieures est validée",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_long_french_subjects_read_back_exactly_with_the_standard_parser(subject: str) -> None:
    """What the SMTP server receives (`wire_bytes`), read by `email` with `policy.default` (as
    the SMTP sink and Mailpit do), has the subject and names it was written with: no doubled
    space where a header was folded before an encoded word, no leading space."""
    outgoing = OutgoingEmail(
        uuid.uuid4(), "ines.roux@of.example", "Inès Roux-Lefèvre de la Châtaigneraie", subject,
        "Bonjour,\n", "<p>Bonjour</p>", datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    raw = smtp.wire_bytes(SmtpMailer(SmtpSettings()).compose(outgoing))
    read = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(read["Subject"]) == subject
    assert read["To"].addresses[0].display_name == "Inès Roux-Lefèvre de la Châtaigneraie"
    assert b"\r\n" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert raw.isascii()  # 7-bit: whether or not the server offers SMTPUTF8 or 8BITMIME
