"""The attendance grid: only filled rows are sent, each remembered by its grid row so the
service's ``rows[i]`` lands back on the right one."""

from __future__ import annotations

from datetime import date

from kairos_portal.domain.attendance import GridRow, batch_rows, csv_rows, previous_month


def test_blank_rows_are_not_sent_and_positions_map_sent_rows_back_to_the_grid() -> None:
    grid = [
        GridRow("1111111A", {}),
        GridRow("2222222B", {"attended_hours": "70", "justified_absence_hours": "3,5"}),
        GridRow("3333333C", {"attended_hours": "x"}),
    ]
    rows, positions = batch_rows(grid, "AF1", "SE1", "2027-01")

    assert positions == [1, 2]
    assert rows[0] == {
        "session": {"action_number": "AF1", "session_number": "SE1"},
        "trainee_id": "2222222B", "month": "2027-01",
        "attended_hours": 70.0, "justified_absence_hours": 3.5,
    }  # fmt: skip
    assert rows[1]["attended_hours"] == "x"  # sent as typed: the service names what is wrong


def test_csv_rows_are_read_as_typed() -> None:
    rows = csv_rows("trainee_id,month,attended_hours\n1234567A,2027-01,70\n1234567A,2027-13,\n")
    assert rows == [
        {"trainee_id": "1234567A", "month": "2027-01", "attended_hours": "70"},
        {"trainee_id": "1234567A", "month": "2027-13", "attended_hours": ""},
    ]


def test_the_default_month_is_the_previous_one() -> None:
    assert previous_month(date(2027, 1, 12)) == "2026-12"
