"""K23's e-mails: every kind renders in French from its variables, the variables each kind needs
are exactly what its templates use, markup is escaped in HTML only, no credential is ever asked
for, subjects are one short line, and times are shown in the organisation's zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, PackageLoader, meta
from markupsafe import escape

from kairos_notification.adapters.french import FILTERS
from kairos_notification.adapters.templates import (
    GLOBAL_NAMES,
    MAX_SUBJECT_LENGTH,
    MissingVariableError,
    TemplateRenderer,
    template_names,
)
from kairos_notification.domain.notifications import (
    NULLABLE_VARIABLES,
    REQUIRED_VARIABLES,
    VARIABLES,
    NotificationKind,
)
from kairos_shared.zones import Zone

KINDS = list(NotificationKind)
INSTANT = datetime(2026, 3, 23, 14, 0, tzinfo=UTC)
SAMPLE: dict[str, object] = {
    "recipient_name": "Marie Dupont",
    "organisation_name": "Centre de formation Horizon",
    "zone": Zone.METROPOLITAN,
    "siret": "73282932000074",
    "validated_at": INSTANT,
    "access_expires_at": datetime(2029, 3, 23, 14, 0, tzinfo=UTC),
    "expired_at": INSTANT,
    "renewed_at": INSTANT,
    "days_left": 3,
    "rgc_name": "Paul Martin",
    "provisional_until": INSTANT,
    "role": "user",
    "reset_at": INSTANT,
    "lapsed_at": INSTANT,
    "function": "formatrice",
    "authorisation_signed_by": "Jeanne Leroy",
    "authorisation_signed_on": date(2026, 3, 2),
    "granted_at": INSTANT,
    "reason": "Usage non conforme aux conditions générales",
    "end_reason": "departure",
    "vacancy_reason": "departure",
    "ended_at": INSTANT,
    "suspended_at": INSTANT,
    "vacated_at": INSTANT,
    "head_has_account": True,
    "rejected_at": INSTANT,
    "requested_at": INSTANT,
    "took_office_at": INSTANT,
    "year": 2026,
    "deadline_at": INSTANT,
    "habilitation_count": 12,
    "undecided_count": 2,
    "closed_at": INSTANT,
    "default_applied": "suspend",
    "demand_kind": "end_habilitations",
    "reinstated_at": INSTANT,
    "withdrawn_at": INSTANT,
    "declaration_kind": "entry",
    "action_number": "14_AF_0000012345",
    "session_number": "14_SE_0000123456",
    "due_on": date(2026, 3, 20),
    "declared_at": INSTANT,
    "month": "2026-02",
    "starts_at": INSTANT,
    "ends_at": datetime(2026, 3, 23, 18, 0, tzinfo=UTC),
    "title": "Nouvelle version des conditions générales d'utilisation",
    "message": "Les conditions générales évoluent.\nElles s'appliquent à tous les organismes.",
    "effective_at": INSTANT,
    "reporter_name": "Paul Martin",
    "reporter_email": "paul.martin@horizon.example",
    "reported_at": INSTANT,
    "summary": "Connexion suspecte",
    "description": "Un compte s'est connecté la nuit.\nJe l'ai signalé au responsable.",
    "organisation_id": "5d0c7f9e-3b1a-4c2e-9f0a-2b8c6d4e1a07",
    "sender_name": "Marie Dupont",
    "sender_email": "marie.dupont@horizon.example",
    "sent_at": INSTANT,
    "subject": "Levée de la suspension",
    "text": "Nous avons régularisé la situation.\nPouvez-vous lever la suspension ?",
    "flagged_at": INSTANT,
    "flagged_habilitations": [
        {"name": "Fanny Martin", "function": "formatrice", "habilitation_id": "h-1"},
        {"name": "Luc Petit", "function": "", "habilitation_id": "h-2"},
    ],
}
VARIANTS: list[tuple[NotificationKind, dict[str, object]]] = [
    *[
        (NotificationKind.PROVISIONAL_ACCESS_REMINDER, dict[str, object](role=role))
        for role in ("rgc", "head", "user")
    ],
    (NotificationKind.OPERATOR_DEMAND, {"demand_kind": "revoke_rgc", "habilitation_count": 0}),
    (NotificationKind.HABILITATION_ENDED, {"end_reason": "breach_of_terms"}),
    (NotificationKind.REVIEW_OVERDUE, {"default_applied": "flag_to_operator"}),
    (NotificationKind.RGC_POST_VACANT_HEAD_IN_CHARGE, {"head_has_account": False}),
    (
        NotificationKind.RGC_POST_VACANT_HEAD_IN_CHARGE,
        {"vacancy_reason": "provisional_account_lapsed"},
    ),
    (NotificationKind.RGC_DESIGNATION_REJECTED, {"role": "head"}),
    (NotificationKind.RGC_DESIGNATION_REQUESTED, {"role": "head"}),
    (NotificationKind.SERVICE_ANNOUNCEMENT, {"effective_at": None}),
    (NotificationKind.ADHESION_EXPIRING, {"days_left": 0}),
    (NotificationKind.REVIEW_REMINDER, {"days_left": 1, "undecided_count": 1}),
    (NotificationKind.DECLARATION_LATE, {"declaration_kind": "attendance"}),
    (NotificationKind.ACCOUNT_CREATED, {"zone": "la-reunion"}),
]
FREE_TEXT = (
    *("recipient_name", "organisation_name", "rgc_name", "function", "authorisation_signed_by"),
    *("reason", "title", "message", "reporter_name", "summary", "description"),
    *("sender_name", "subject", "text"),
)
CREDENTIAL_NAME = re.compile(r"pass|pwd|mdp|token|secret|credential|login|identifiant", re.I)
TEMPLATES = files("kairos_notification") / "templates"
renderer = TemplateRenderer()


def sample(kind: NotificationKind, **overrides: object) -> dict[str, object]:
    """The kind's variables from SAMPLE, with those of `overrides` that the kind uses."""
    needed = REQUIRED_VARIABLES[kind]
    return {name: overrides.get(name, SAMPLE[name]) for name in needed}


def used_variables(environment: Environment, name: str) -> set[str]:
    """Every variable the template `name` and the templates it extends, imports or includes use."""
    assert environment.loader is not None
    source = environment.loader.get_source(environment, name)[0]
    tree = environment.parse(source)
    used = set(meta.find_undeclared_variables(tree))
    for referenced in meta.find_referenced_templates(tree):
        assert referenced is not None, f"{name} names a template dynamically"
        used |= used_variables(environment, referenced)
    return used


def assert_written(kind: NotificationKind, variables: dict[str, object]) -> None:
    email = renderer.render(kind, variables)
    for part in (email.subject, email.text, email.html):
        assert part.strip()
        for leftover in ("{{", "}}", "{%", "%}", "None", "Undefined"):
            assert leftover not in part, f"{kind}: {leftover!r} left in {part!r}"
    assert "\n" not in email.subject
    assert len(email.subject) <= MAX_SUBJECT_LENGTH
    assert not re.search(r"<[a-zA-Z/!]", email.text), f"{kind}: markup in the text body"
    assert email.html.startswith("<!DOCTYPE html>")
    greeting = "Bonjour,"
    if "recipient_name" in variables:
        name = variables["recipient_name"]
        greeting = f"Bonjour {name}," if name else "Madame, Monsieur,"
    assert email.text.startswith(greeting)
    assert str(escape(greeting)) in email.html


def test_every_kind_has_its_three_templates_and_no_template_is_left_over() -> None:
    expected = {name for kind in KINDS for name in template_names(kind)}
    shared = {"layout.html", "layout.txt", "_macros.html", "_macros.txt"}
    present = {entry.name for entry in TEMPLATES.iterdir() if entry.is_file()}
    assert present == expected | shared


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_sample_data(kind: NotificationKind) -> None:
    assert_written(kind, sample(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_without_the_recipient_name(kind: NotificationKind) -> None:
    assert_written(kind, sample(kind, recipient_name=None))


@pytest.mark.parametrize(("kind", "overrides"), VARIANTS)
def test_every_variant_of_a_kind_renders(
    kind: NotificationKind, overrides: dict[str, object]
) -> None:
    assert_written(kind, sample(kind, **overrides))


@pytest.mark.parametrize("kind", KINDS)
def test_required_variables_are_exactly_what_the_templates_use(kind: NotificationKind) -> None:
    environment = Environment(loader=PackageLoader("kairos_notification", "templates"))
    environment.filters.update(FILTERS)
    used = set().union(*(used_variables(environment, name) for name in template_names(kind)))
    assert used - GLOBAL_NAMES == REQUIRED_VARIABLES[kind]


def test_every_variable_is_described_and_has_a_sample() -> None:
    used = set().union(*REQUIRED_VARIABLES.values())
    assert used == set(VARIABLES) == set(SAMPLE)
    assert set(REQUIRED_VARIABLES) == set(KINDS)
    assert used >= NULLABLE_VARIABLES


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_variable_is_named_and_nothing_is_written(kind: NotificationKind) -> None:
    variables = sample(kind)
    absent = sorted(variables)[:2]
    for name in absent:
        del variables[name]
    with pytest.raises(MissingVariableError) as raised:
        renderer.render(kind, variables)
    assert raised.value.kind is kind
    assert raised.value.names == tuple(absent)
    assert all(name in str(raised.value) for name in absent)


def test_a_none_where_a_value_is_needed_is_refused_not_printed() -> None:
    kind = NotificationKind.ORGANISATION_SUSPENDED
    with pytest.raises(ValueError, match="printed None"):
        renderer.render(kind, sample(kind, reason=None))


def test_extra_variables_are_ignored() -> None:
    kind = NotificationKind.ADHESION_EXPIRED
    variables = sample(kind)
    assert renderer.render(kind, variables | {"unused": "x"}) == renderer.render(kind, variables)


@given(
    kind=st.sampled_from(KINDS),
    value=st.text(min_size=1).map(lambda text: f'<script>alert("{text}")</script> & "Cie"'),
)
def test_markup_in_a_variable_is_escaped_in_html_and_intact_in_text(
    kind: NotificationKind, value: str
) -> None:
    names = [name for name in FREE_TEXT if name in REQUIRED_VARIABLES[kind]]
    assert names
    email = renderer.render(kind, sample(kind, **dict.fromkeys(names, value)))
    for name in names:
        assert value in email.text, name
    assert str(escape(value)) in email.html
    assert "<script>" not in email.html
    assert '"Cie"' not in email.html


def test_only_the_html_templates_escape() -> None:
    kind = NotificationKind.ORGANISATION_WITHDRAWN
    email = renderer.render(kind, sample(kind, organisation_name='A & B "<i>"'))
    assert 'A & B "<i>"' in email.subject
    assert 'A & B "<i>"' in email.text
    assert "A &amp; B &#34;&lt;i&gt;&#34;" in email.html


def test_no_template_asks_for_a_credential() -> None:
    for entry in TEMPLATES.iterdir():
        source = entry.read_text(encoding="utf-8")
        assert not re.search(r"mot de passe[^\n]*\{\{", source, re.I), entry.name
        assert not re.search(r"\{\{[^}]*(password|token|secret)", source, re.I), entry.name
    for name in set().union(*REQUIRED_VARIABLES.values()) | GLOBAL_NAMES:
        assert not CREDENTIAL_NAME.search(name), name


def test_text_templates_are_not_html_and_html_templates_share_the_layout() -> None:
    for kind in KINDS:
        _, text, html = (TEMPLATES / name for name in template_names(kind))
        assert not re.search(r"<[a-zA-Z/!]", text.read_text(encoding="utf-8")), text.name
        assert html.read_text(encoding="utf-8").startswith('{% extends "layout.html" %}')


@pytest.mark.parametrize("kind", KINDS)
def test_subjects_stay_one_line_within_120_characters(kind: NotificationKind) -> None:
    long = "Organisme de formation professionnelle\r\ncontinue " * 8
    email = renderer.render(kind, sample(kind, **dict.fromkeys(FREE_TEXT, long)))
    assert "\n" not in email.subject
    assert "\r" not in email.subject
    assert len(email.subject) <= MAX_SUBJECT_LENGTH


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (Zone.GUADELOUPE, "23 mars 2026 à 10 h 00 (heure de la Guadeloupe)"),
        (Zone.METROPOLITAN, "23 mars 2026 à 15 h 00 (heure de Paris)"),
        (Zone.LA_REUNION, "23 mars 2026 à 18 h 00 (heure de La Réunion)"),
        (Zone.GUYANE, "23 mars 2026 à 11 h 00 (heure de la Guyane)"),
    ],
)
def test_times_are_shown_in_the_organisation_zone(zone: Zone, expected: str) -> None:
    kind = NotificationKind.RGC_ACCOUNT_CREATED
    email = renderer.render(kind, sample(kind, zone=zone))
    assert f"Connectez-vous à Kairos avant le {expected}" in email.text
    assert expected in email.html


def test_a_deadline_after_midnight_utc_is_dated_by_the_zone() -> None:
    kind = NotificationKind.PROVISIONAL_ACCESS_REMINDER
    late_evening = datetime(2026, 4, 1, 2, 30, tzinfo=UTC)
    email = renderer.render(
        kind, sample(kind, zone=Zone.GUADELOUPE, provisional_until=late_evening)
    )
    assert email.subject == "Kairos : connectez-vous avant le mardi 31 mars 2026"
    assert "31 mars 2026 à 22 h 30 (heure de la Guadeloupe)" in email.text


def test_the_platform_address_is_in_the_footer_only_when_configured() -> None:
    kind = NotificationKind.ACCOUNT_CREATED
    configured = TemplateRenderer(platform_url="https://kairos.example")
    email = configured.render(kind, sample(kind))
    assert "Kairos : https://kairos.example" in email.text
    assert 'href="https://kairos.example"' in email.html
    assert "https://" not in renderer.render(kind, sample(kind)).text


def test_the_vacancy_email_to_a_head_without_an_account_names_what_kairos_lets_them_do() -> None:
    """K10: the head without an account is not sent to France Travail with nothing to ask for;
    the e-mail names the request Kairos takes without an account (SIRET, the head as declared)
    and what France Travail then does."""
    variables = sample(NotificationKind.RGC_POST_VACANT_HEAD_IN_CHARGE, head_has_account=False)
    email = renderer.render(NotificationKind.RGC_POST_VACANT_HEAD_IN_CHARGE, variables)
    for body in (email.text, " ".join(email.html.split())):
        assert "demandez-le à France Travail" not in body
        assert "Demander la désignation d'un RGC" in body
        assert "SIRET" in body
        assert "France Travail remet ses identifiants provisoires au nouveau RGC" in body


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (NotificationKind.ORGANISATION_SUSPENDED, "rgc"),
        (NotificationKind.ORGANISATION_WITHDRAWN, "rgc"),
        (NotificationKind.PROVISIONAL_ACCESS_REMINDER, "rgc"),
    ],
)
def test_emails_to_an_of_that_cannot_log_in_name_the_message_kairos_takes_without_an_account(
    kind: NotificationKind, role: str
) -> None:
    """Issue 16: nobody of a suspended or withdrawn OF, nor an RGC whose credentials never
    arrived, can log in to report an incident; the e-mail does not say « contactez France
    Travail » with no way to, it names « Écrire à France Travail » (no account, the SIRET and
    the head as the adhesion declared them)."""
    email = renderer.render(kind, sample(kind, role=role))
    for body in (email.text, " ".join(email.html.split())):
        flat = " ".join(body.split())
        assert "contactez France Travail" not in flat
        assert "adressez-vous à France Travail" not in flat
        assert "« Écrire à France Travail » sur Kairos, sans compte" in flat
        assert "SIRET" in flat
        assert "tels que déclarés dans la demande d'adhésion" in flat


def test_a_message_to_france_travail_reaches_the_operators_with_the_head_to_answer() -> None:
    """« Écrire à France Travail »: the operators read who wrote (the head as the adhesion
    declared it), for which organisation, the subject and text, and where to answer."""
    kind = NotificationKind.MESSAGE_TO_OPERATORS
    email = renderer.render(kind, sample(kind))
    assert "Levée de la suspension" in email.subject
    assert "Centre de formation Horizon" in email.subject
    for body in (email.text, " ".join(email.html.split())):
        assert "Marie Dupont" in body
        assert "SIRET 73282932000074" in body
        assert "Nous avons régularisé la situation." in body
        assert "marie.dupont@horizon.example" in body


def test_the_lapse_email_says_the_rgc_reissues_credentials_for_7_days() -> None:
    """K6: a person whose credentials lapsed, habilitation still active, gets new ones from the
    RGC (or the head while the post is vacant): the e-mail says so, and nothing else to ask."""
    written = renderer.render(
        NotificationKind.ACCOUNT_LAPSED, sample(NotificationKind.ACCOUNT_LAPSED)
    )
    for body in (written.text, written.html):
        flat = " ".join(body.split())
        assert "Votre habilitation reste valable" in flat
        assert "peut vous remettre de nouveaux identifiants provisoires dans Kairos" in flat
        assert "tant que le poste de RGC est vacant" in flat
        assert "valables 7 jours" in flat
    assert "France Travail" not in written.text.split("Cordialement")[0]  # nothing to ask them


@pytest.mark.parametrize(
    "kind", [NotificationKind.ACCOUNT_CREATED, NotificationKind.RGC_ACCOUNT_CREATED]
)
def test_an_account_whose_credentials_come_later_is_told_its_days_run_from_then(
    kind: NotificationKind,
) -> None:
    written = renderer.render(kind, sample(kind, provisional_until=None))
    days = "7" if kind is NotificationKind.ACCOUNT_CREATED else "21"
    for body in (written.text, written.html):
        assert f"vous avez {days} jours, jusqu'à la fin du {days}e jour" in " ".join(body.split())


def test_the_expiry_email_names_the_request_kairos_takes_after_the_access_ended() -> None:
    """K1, K2: once the access has ended nobody of the OF can log in, so the e-mail does not send
    them to France Travail with nothing to ask through: it names the new adhesion request the
    same SIRET may make."""
    written = renderer.render(
        NotificationKind.ADHESION_EXPIRED, sample(NotificationKind.ADHESION_EXPIRED)
    )
    for body in (written.text, " ".join(written.html.split())):
        assert "demandez dès que possible à France Travail" not in body
        assert "nouvelle demande d'adhésion à Kairos pour le même SIRET" in body
