"""The services' per-field messages in French.

The services validate with pydantic and answer its English wording (« Input should be less than
or equal to 744 »). Their problems' ``errors`` carry ``field`` and ``message`` only today; when an
error also carries pydantic's ``type`` (and ``ctx``), the French sentence is chosen by that type;
otherwise the English message is recognised against pydantic's own templates (literal parts
found left to right: linear time, no regex); anything else — a rule's own sentence — is shown as
the service wrote it. The portal changes the words, never the meaning: the limits quoted are the
service's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_VALUE = 200
"""The longest context value quoted back (a pattern, a list of allowed values)."""


@dataclass(frozen=True)
class _Template:
    type: str
    english: str
    """pydantic's template (pydantic-core's ``message_template_python``), placeholders in braces."""
    french: str
    """The French sentence; it may quote the same placeholders."""


_TEMPLATES: tuple[_Template, ...] = (
    _Template("missing", "Field required", "Ce champ est obligatoire."),
    _Template("extra_forbidden", "Extra inputs are not permitted", "Ce champ n'est pas attendu."),
    _Template("greater_than", "Input should be greater than {gt}",
              "La valeur doit être supérieure à {gt}."),
    _Template("greater_than_equal", "Input should be greater than or equal to {ge}",
              "La valeur doit être supérieure ou égale à {ge}."),
    _Template("less_than", "Input should be less than {lt}",
              "La valeur doit être inférieure à {lt}."),
    _Template("less_than_equal", "Input should be less than or equal to {le}",
              "La valeur doit être inférieure ou égale à {le}."),
    _Template("multiple_of", "Input should be a multiple of {multiple_of}",
              "La valeur doit être un multiple de {multiple_of}."),
    _Template("finite_number", "Input should be a finite number", "Saisissez un nombre fini."),
    _Template("too_short",
              "{field_type} should have at least {min_length} item{expected_plural} after "
              "validation, not {actual_length}",
              "Indiquez au moins {min_length} élément(s) ({actual_length} reçu(s))."),
    _Template("too_long",
              "{field_type} should have at most {max_length} item{expected_plural} after "
              "validation, not {actual_length}",
              "Indiquez au plus {max_length} élément(s) ({actual_length} reçu(s))."),
    _Template("string_type", "Input should be a valid string", "Saisissez un texte."),
    _Template("string_too_short", "String should have at least {min_length} "
              "character{expected_plural}", "Saisissez au moins {min_length} caractère(s)."),
    _Template("string_too_long", "String should have at most {max_length} "
              "character{expected_plural}", "Saisissez au plus {max_length} caractère(s)."),
    _Template("string_pattern_mismatch", "String should match pattern '{pattern}'",
              "Le format n'est pas celui attendu."),
    _Template("string_not_ascii", "String should contain only ASCII characters",
              "Utilisez seulement des caractères sans accent (ASCII)."),
    _Template("enum", "Input should be {expected}", "Choisissez parmi : {expected}."),
    _Template("bool_type", "Input should be a valid boolean", "Répondez par oui ou non."),
    _Template("bool_parsing", "Input should be a valid boolean, unable to interpret input",
              "Répondez par oui ou non."),
    _Template("int_type", "Input should be a valid integer", "Saisissez un nombre entier."),
    _Template("int_parsing",
              "Input should be a valid integer, unable to parse string as an integer",
              "Saisissez un nombre entier."),
    _Template("int_from_float", "Input should be a valid integer, got a number with a "
              "fractional part", "Saisissez un nombre entier, sans décimales."),
    _Template("float_type", "Input should be a valid number", "Saisissez un nombre."),
    _Template("float_parsing", "Input should be a valid number, unable to parse string as a "
              "number", "Saisissez un nombre."),
    _Template("decimal_parsing", "Input should be a valid decimal", "Saisissez un nombre."),
    _Template("decimal_max_places", "Decimal input should have no more than {decimal_places} "
              "decimal place{expected_plural}",
              "Saisissez au plus {decimal_places} décimale(s)."),
    _Template("decimal_max_digits", "Decimal input should have no more than {max_digits} "
              "digit{expected_plural} in total", "Saisissez au plus {max_digits} chiffre(s)."),
    _Template("list_type", "Input should be a valid list", "Une liste est attendue."),
    _Template("dict_type", "Input should be a valid dictionary", "Un objet est attendu."),
    _Template("model_type", "Input should be a valid dictionary or instance of {class_name}",
              "Un objet est attendu."),
    _Template("date_type", "Input should be a valid date", "Saisissez une date."),
    _Template("date_parsing", "Input should be a valid date in the format YYYY-MM-DD, {error}",
              "Saisissez une date valide (jj/mm/aaaa)."),
    _Template("date_from_datetime_parsing", "Input should be a valid date or datetime, {error}",
              "Saisissez une date valide (jj/mm/aaaa)."),
    _Template("date_from_datetime_inexact", "Datetimes provided to dates should have zero time "
              "- e.g. be exact dates", "Saisissez une date sans heure."),
    _Template("date_past", "Date should be in the past", "La date doit être passée."),
    _Template("date_future", "Date should be in the future", "La date doit être à venir."),
    _Template("datetime_type", "Input should be a valid datetime",
              "Saisissez une date et une heure."),
    _Template("datetime_parsing", "Input should be a valid datetime, {error}",
              "Saisissez une date et une heure valides."),
    _Template("datetime_from_date_parsing", "Input should be a valid datetime or date, {error}",
              "Saisissez une date valide."),
    _Template("datetime_past", "Input should be in the past", "La date doit être passée."),
    _Template("datetime_future", "Input should be in the future", "La date doit être à venir."),
    _Template("time_parsing", "Input should be in a valid time format, {error}",
              "Saisissez une heure valide (hh:mm)."),
    _Template("timezone_aware", "Input should have timezone info",
              "Indiquez le fuseau horaire."),
    _Template("uuid_type", "UUID input should be a string, bytes or UUID object",
              "Identifiant invalide."),
    _Template("uuid_parsing", "Input should be a valid UUID, {error}", "Identifiant invalide."),
    _Template("url_parsing", "Input should be a valid URL, {error}",
              "Saisissez une adresse web valide."),
    _Template("json_invalid", "Invalid JSON: {error}", "Le contenu envoyé n'est pas lisible."),
    _Template("value_error", "Value error, {error}", "{error}"),
    _Template("assertion_error", "Assertion failed, {error}", "{error}"),
    # The services' own sentences that recur on forms (kairos_shared and the services' routes).
    _Template("service:not-json", "not JSON", "Le contenu envoyé n'est pas lisible."),
    _Template("service:one-of", "must be one of {allowed}", "Choisissez parmi : {allowed}."),
    _Template("service:between", "between {low} and {high}",
              "La valeur doit être comprise entre {low} et {high}."),
    _Template("service:future", "must be in the future", "La date doit être à venir."),
    _Template("service:wrong-password", "wrong current password",
              "Le mot de passe actuel est incorrect."),
    _Template("service:same-password", "must differ from the current password",
              "Le nouveau mot de passe doit être différent de l'actuel."),
    _Template("service:cursor", "not a cursor this API returned",
              "Cette page de résultats n'existe plus : reprenez depuis la première."),
)  # fmt: skip

_BY_TYPE = {t.type: t for t in _TEMPLATES}
_VALUE_TYPES = {"value_error", "assertion_error"}


def _pieces(template: str) -> list[tuple[str, str | None]]:
    """``"a {x} b"`` → ``[("a ", "x"), (" b", None)]``: each literal and the placeholder after
    it."""
    pieces: list[tuple[str, str | None]] = []
    rest = template
    while "{" in rest:
        literal, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        pieces.append((literal, name))
    pieces.append((rest, None))
    return pieces


def _match(template: str, message: str) -> dict[str, str] | None:
    """The placeholders' values when ``message`` is ``template`` filled in, else None. Each
    literal is searched once, left to right (linear in the message's length)."""
    pieces = _pieces(template)
    first, name = pieces[0]
    if not message.startswith(first):
        return None
    at = len(first)
    values: dict[str, str] = {}
    for literal, next_name in pieces[1:]:
        if name is None:  # pragma: no cover - only the last piece has no placeholder
            return None
        if next_name is None:
            if not message.endswith(literal) or len(message) - len(literal) < at:
                return None
            end = len(message) - len(literal)
        else:
            end = message.find(literal, at) if literal else at
            if end < 0:
                return None
        values[name] = message[at:end]
        at, name = end + len(literal), next_name
    if name is None and at != len(message):
        return None
    return values


def _literal_length(template: str) -> int:
    return sum(len(literal) for literal, _ in _pieces(template))


# The most specific first: templates without placeholders, then the longest literal text (so
# « Input should be {expected} » is tried after every other « Input should be … »).
_RECOGNISED = sorted(
    _TEMPLATES,
    key=lambda t: ("{" in t.english, -_literal_length(t.english)),
)


def _french_value(value: object) -> str:
    text = str(value)[:MAX_VALUE]
    return (
        text.replace(" or ", " ou ").replace("'", "« ", 1).replace("'", " »", 1)
        if (
            text.count("'") == 2  # noqa: PLR2004 - a single quoted value: 'a'
        )
        else text.replace(" or ", " ou ")
    )


def _fill(template: _Template, values: Mapping[str, object]) -> str:
    french = template.french
    for name, value in values.items():
        french = french.replace("{" + name + "}", _french_value(value))
    if "{" in french:  # a placeholder the context did not give: say it without the value
        return ""
    return french


def french_message(message: str, type_: str | None = None, ctx: Any = None) -> str:
    """The French for a service's field message: by pydantic's ``type`` and ``ctx`` when the
    service sent them, else by recognising its English template, else the message itself."""
    if type_ and type_ in _BY_TYPE and type_ not in _VALUE_TYPES:
        french = _fill(_BY_TYPE[type_], ctx if isinstance(ctx, dict) else {})
        if french:
            return french
    for template in _RECOGNISED:
        values = _match(template.english, message)
        if values is None:
            continue
        if template.type in _VALUE_TYPES:
            inner = values["error"]
            return french_message(inner) if inner else message
        return _fill(template, values) or message
    return message
