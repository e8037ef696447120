"""Monthly attendance as a grid (one row per trainee of a session) or a CSV file: the rows
sent to the declaration service's batch, and the rows shown back with the errors it named."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

HOURS_COLUMNS = ("attended_hours", "justified_absence_hours", "unjustified_absence_hours")
CSV_HEADER = (
    "trainee_id", "action_number", "session_number", "month", *HOURS_COLUMNS,
)  # fmt: skip
MAX_CSV_ROWS = 5000


@dataclass
class GridRow:
    trainee_id: str
    hours: dict[str, str] = field(default_factory=dict)

    def filled(self) -> bool:
        return any(self.hours.get(c, "").strip() for c in HOURS_COLUMNS)


def previous_month(today: date) -> str:
    return f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}"


def _number(text: str) -> float | str:
    """A French or English decimal (``3,5`` or ``3.5``); left as typed if it is not one, so
    the service names it."""
    cleaned = text.strip().replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return text.strip()


def hours(text: str) -> float | str:
    """Hours as typed in a form (``3,5`` or ``3.5``), for the service to judge."""
    return _number(text)


def batch_rows(
    rows: list[GridRow], action_number: str, session_number: str, month: str
) -> tuple[list[dict[str, object]], list[int]]:
    """The filled rows as the batch's JSON rows, and the grid's index of each one (to place
    the service's ``rows[i]`` back on its grid row)."""
    sent: list[dict[str, object]] = []
    positions: list[int] = []
    for index, row in enumerate(rows):
        if not row.filled():
            continue
        body: dict[str, object] = {
            "session": {"action_number": action_number, "session_number": session_number},
            "trainee_id": row.trainee_id,
            "month": month,
        }
        for column in HOURS_COLUMNS:
            value = row.hours.get(column, "").strip()
            if value or column == "attended_hours":
                body[column] = _number(value)
        sent.append(body)
        positions.append(index)
    return sent, positions


def csv_rows(content: str) -> list[dict[str, str]]:
    """The CSV's rows as typed (for showing them back beside the service's errors)."""
    reader = csv.DictReader(io.StringIO(content))
    rows: list[dict[str, str]] = []
    for record in reader:
        if len(rows) >= MAX_CSV_ROWS:
            break
        rows.append({k: (v or "") for k, v in record.items() if k})
    return rows
