"""The services' English field messages, shown in French: by pydantic's error type when the
problem carries it, else by recognising pydantic's own wording, else the service's text."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import pydantic
import pydantic_core
import pytest

from kairos_portal.domain import labels
from kairos_portal.domain.field_messages import _TEMPLATES, french_message
from kairos_portal.domain.forms import FormErrors
from kairos_portal.domain.problems import parse_problem


class _Row(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    attended_hours: Annotated[int, pydantic.Field(ge=0, le=744)]
    month: dt.date
    kind: Literal["completed", "abandoned", "dismissed"]
    name: Annotated[str, pydantic.Field(min_length=2, max_length=5)]


def _pydantic_errors(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with pytest.raises(pydantic.ValidationError) as raised:
        _Row.model_validate(data)
    return {str(e["loc"][0]): dict(e) for e in raised.value.errors()}


_GOOD = {"attended_hours": 3, "month": "2027-01-01", "kind": "completed", "name": "abc"}


@pytest.mark.parametrize(
    ("field", "value", "french"),
    [
        ("attended_hours", 745, "La valeur doit être inférieure ou égale à 744."),
        ("attended_hours", -1, "La valeur doit être supérieure ou égale à 0."),
        ("attended_hours", "douze", "Saisissez un nombre entier."),
        ("attended_hours", 1.5, "Saisissez un nombre entier, sans décimales."),
        ("month", "2027-13-01", "Saisissez une date valide (jj/mm/aaaa)."),
        ("month", "janvier", "Saisissez une date valide (jj/mm/aaaa)."),
        ("kind", "other", "Choisissez parmi : 'completed', 'abandoned' ou 'dismissed'."),
        ("name", "a", "Saisissez au moins 2 caractère(s)."),
        ("name", "abcdef", "Saisissez au plus 5 caractère(s)."),
        ("extra", 1, "Ce champ n'est pas attendu."),
    ],
)
def test_pydantic_wording_is_said_in_french_from_the_message_alone(
    field: str, value: object, french: str
) -> None:
    error = _pydantic_errors({**_GOOD, field: value})[field]
    assert french_message(error["msg"]) == french
    assert french_message(error["msg"], error["type"], error.get("ctx")) == french


def test_a_missing_field_is_obligatory() -> None:
    good = dict(_GOOD)
    del good["month"]
    error = _pydantic_errors(good)["month"]
    assert french_message(error["msg"]) == "Ce champ est obligatoire."


def test_the_type_and_its_context_win_over_the_english_text() -> None:
    assert (
        french_message("anything", "less_than_equal", {"le": 744})
        == "La valeur doit être inférieure ou égale à 744."
    )
    # A type whose context is missing falls back to recognising the text.
    assert french_message("Input should be greater than 3", "greater_than", None) == (
        "La valeur doit être supérieure à 3."
    )


def test_a_rule_of_the_service_in_a_value_error_is_kept_without_the_prefix() -> None:
    assert french_message("Value error, exit before the entry") == "exit before the entry"
    assert french_message("Value error, must be in the future") == "La date doit être à venir."


def test_the_services_own_recurring_sentences_are_in_french() -> None:
    assert french_message("between 1 and 200") == ("La valeur doit être comprise entre 1 et 200.")
    assert french_message("wrong current password") == "Le mot de passe actuel est incorrect."


def test_an_unknown_message_is_shown_as_the_service_wrote_it() -> None:
    for text in ("a live entry declaration exists already", "", "Input should be"):
        assert french_message(text) == text


def test_a_long_message_is_matched_in_linear_time() -> None:
    text = "Input should be less than or equal to " + "9" * 1900
    assert french_message(text).startswith("La valeur doit être inférieure ou égale à 999")


def test_the_english_templates_are_pydantics_own() -> None:
    """A pydantic upgrade rewording a message fails here, not silently on a page."""
    listed = pydantic_core._pydantic_core.list_all_errors()
    theirs = {e["type"]: e["message_template_python"] for e in listed}
    ours = {t.type: t.english for t in _TEMPLATES if not t.type.startswith("service:")}
    assert {k: theirs.get(k) for k in ours} == ours


def test_a_refused_grid_row_shows_its_french_message_on_its_row_and_in_the_summary() -> None:
    problem = parse_problem(
        422,
        {
            "type": "https://kairos.example/problems/invalid-request", "title": "Invalid request",
            "status": 422, "detail": "rows[2].attended_hours: Input should be less than or "
            "equal to 744",
            "errors": [{"field": "rows[2].attended_hours",
                        "message": "Input should be less than or equal to 744"}],
        },
    )  # fmt: skip
    errors = FormErrors.of(problem, labels.ATTENDANCE_COLUMNS)

    french = "La valeur doit être inférieure ou égale à 744."
    assert errors.by_row == {2: {"attended_hours": french}}
    assert [i.text for i in errors.summary] == [f"Ligne 3, colonne « heures suivies » : {french}"]
    assert errors.detail == ""  # the English detail only repeated the fields
