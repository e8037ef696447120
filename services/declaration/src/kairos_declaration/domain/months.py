"""Calendar months, as an attendance statement covers one (K16.6) and is due in the next (K18).

A month is written ``YYYY-MM`` in requests and events (``2024-02``); it runs from its 1st to
its last day inclusive (29 February in a leap year).
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from kairos_declaration.domain.errors import DeclarationRejected

MONTHS_PER_YEAR: Final = 12
_YEAR_MONTH: Final = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """One calendar month: ``Month(2024, 2)`` is February 2024."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= MONTHS_PER_YEAR:
            raise ValueError(f"a month is numbered 1 to 12, not {self.month}")
        if not date.min.year <= self.year <= date.max.year:
            raise ValueError(f"year {self.year} is outside the calendar")

    @classmethod
    def parse(cls, text: str, field: str = "month") -> "Month":
        """The month written ``YYYY-MM``, or `DeclarationRejected` naming `field`."""
        found = _YEAR_MONTH.fullmatch(text.strip())
        if found is None or found.group(1) == "0000":
            raise DeclarationRejected.of(
                field, f"a month is written YYYY-MM (e.g. 2025-03); {text!r} is not"
            )
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> "Month":
        """The month `day` is in."""
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        """The month's 1st."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The month's last day (28, 29, 30 or 31)."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> "Month":
        """The month after this one (January after December)."""
        if self.month == MONTHS_PER_YEAR:
            return Month(self.year + 1, 1)
        return Month(self.year, self.month + 1)

    def overlaps(self, first: date, last: date) -> bool:
        """Whether some day of the month lies between `first` and `last` inclusive."""
        return self.first_day <= last and first <= self.last_day

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
