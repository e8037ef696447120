"""A trainee's history in one session: the live declarations the consistency rules read (K19).

Live means the latest version of a declaration that is not cancelled (K20): a cancelled entry
no longer counts as an entry. The history holds the trainee's live entry, exit and monthly
attendance statements; when a declaration is corrected, the rules check the new version against
the history *without* the version it replaces (`without`), so a correction never collides
with itself.
"""

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from kairos_declaration.domain.declarations import Attendance, Entry, Exit
from kairos_declaration.domain.months import Month
from kairos_declaration.domain.sessions import TrainingSession

_Kind = TypeVar("_Kind", Entry, Exit, Attendance)


@dataclass(frozen=True, slots=True)
class LiveDeclaration:
    """The live version of one of the trainee's declarations, by its stable id."""

    declaration_id: str
    declaration: Entry | Exit | Attendance


@dataclass(frozen=True, slots=True)
class TrainingSpan:
    """The days a trainee is in training: from the entry to the exit, or to the session's
    end while no exit is declared (both inclusive)."""

    first_day: date
    last_day: date

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}"


@dataclass(frozen=True, slots=True)
class TraineeHistory:
    """The live entry, exit and attendance statements of one trainee in one session."""

    declarations: tuple[LiveDeclaration, ...] = ()

    @property
    def entry(self) -> Entry | None:
        """The trainee's live entry, if one is declared."""
        return next(iter(self._of(Entry)), None)

    @property
    def exit(self) -> Exit | None:
        """The trainee's live exit, if one is declared."""
        return next(iter(self._of(Exit)), None)

    @property
    def attendance(self) -> tuple[Attendance, ...]:
        """The trainee's live monthly attendance statements, by month."""
        return tuple(sorted(self._of(Attendance), key=lambda statement: statement.month))

    def attendance_in(self, month: Month) -> Attendance | None:
        """The live attendance statement for `month`, if one is declared."""
        return next((s for s in self._of(Attendance) if s.month == month), None)

    def span(self, session: TrainingSession) -> TrainingSpan | None:
        """The trainee's days in training, None while no entry is declared."""
        entry = self.entry
        if entry is None:
            return None
        left = self.exit
        return TrainingSpan(entry.entered_on, session.ends_on if left is None else left.exited_on)

    def without(self, declaration_id: str) -> "TraineeHistory":
        """The history less the declaration `declaration_id` (the one being corrected)."""
        return TraineeHistory(
            tuple(d for d in self.declarations if d.declaration_id != declaration_id)
        )

    def _of(self, kind: type[_Kind]) -> list[_Kind]:
        return [d.declaration for d in self.declarations if isinstance(d.declaration, kind)]
