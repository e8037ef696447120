"""The services' problems, read for a page: French titles, and each field error placed on the
field (or grid row and column) it names."""

from __future__ import annotations

from kairos_portal.domain import labels
from kairos_portal.domain.forms import FormErrors, cell_id, field_id
from kairos_portal.domain.problems import FieldError, parse_problem


def _invalid(*errors: tuple[str, str]) -> dict[str, object]:
    return {
        "type": "https://kairos.example/problems/invalid-request", "title": "Invalid request",
        "status": 422, "detail": "bad", "errors": [{"field": f, "message": m} for f, m in errors],
    }  # fmt: skip


def test_a_batch_row_error_names_the_row_from_one_and_the_column_in_french() -> None:
    problem = parse_problem(422, _invalid(("rows[3].month", "not a month")))
    errors = FormErrors.of(problem, labels.ATTENDANCE_COLUMNS)

    assert errors.by_row == {3: {"month": "not a month"}}
    assert [item.text for item in errors.summary] == ["Ligne 4, colonne « mois » : not a month"]
    assert errors.summary[0].anchor == cell_id(3, "month") == "ligne-4-month"


def test_a_session_field_of_a_batch_row_is_its_column() -> None:
    error = FieldError("rows[0].session.action_number", "unknown session")
    assert (error.row, error.column) == (0, "action_number")


def test_the_body_prefix_is_dropped_so_the_error_lands_on_the_form_field() -> None:
    problem = parse_problem(422, _invalid(("body.person.email", "not an e-mail")))
    errors = FormErrors.of(problem, labels.HABILITATION)

    assert errors.by_field == {"person.email": "not an e-mail"}
    assert errors.summary[0].text == "Adresse électronique : not an e-mail"
    assert errors.summary[0].anchor == field_id("person.email") == "champ-person-email"


def test_several_errors_on_one_field_are_all_kept() -> None:
    problem = parse_problem(
        422, _invalid(("new_password", "too short."), ("new_password", "too common."))
    )
    errors = FormErrors.of(problem, labels.PASSWORD_CHANGE)
    assert errors.by_field["new_password"] == "too short. too common."
    assert len(errors.summary) == 2


def test_an_error_on_a_field_the_form_does_not_show_still_reaches_the_summary() -> None:
    errors = FormErrors.of(parse_problem(422, _invalid(("limit", "too big"))), labels.SESSION)
    assert errors.by_field == {}
    assert [(i.text, i.anchor) for i in errors.summary] == [("limit : too big", None)]


def test_refusals_get_french_titles_and_keep_the_services_detail() -> None:
    refused = parse_problem(
        403, {"type": "https://kairos.example/problems/not-habilitated", "title": "Not habilitated",
              "status": 403, "detail": "the habilitation ended"},
    )  # fmt: skip
    assert refused.french_title.startswith("Vous n'êtes pas (ou plus) habilité")
    assert refused.detail == "the habilitation ended"
    locked = parse_problem(429, {"type": "https://kairos.example/problems/login-throttled",
                                 "locked": True, "retry_after": "2027-01-04T09:15:00+00:00"},
                           "120")  # fmt: skip
    assert locked.french_title.startswith("Compte verrouillé")
    assert locked.retry_after_seconds == 120
    assert (
        locked.french_detail == "Vous pourrez réessayer à partir du lundi 4 janvier 2027 à 10:15."
    )


def test_a_503_with_retry_after_is_an_activation_in_progress_not_an_error() -> None:
    pending = parse_problem(503, {"title": "Service Unavailable"}, "7")
    assert pending.is_activation_pending
    assert pending.french_title == "Votre organisme est en cours d'activation"
    assert not parse_problem(503, {"title": "down"}).is_activation_pending


def test_whatever_a_service_answered_is_read_without_failing() -> None:
    for body in (None, "text", [], {"errors": "nope"}, {"errors": [1, {"field": 2}]}):
        problem = parse_problem(500, body)
        assert problem.status == 500
