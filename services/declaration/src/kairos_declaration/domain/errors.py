"""How a declaration is refused: every bad field at once, each named by its JSON path (K19).

A declaration that breaks a rule changes nothing and is answered with one problem per field
(K19), the field named as it appears in the request body (``trainee_id``, ``attended_hours``,
``meetings[1].starts_at``), so a form or a batch row can show each error where it belongs.
A life-cycle step that a declaration's state forbids (correcting a cancelled declaration, K20)
is a different failure: `DeclarationStateError`, not a field problem.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one field of a declaration, the field named by its JSON path."""

    field: str
    message: str

    def within(self, prefix: str) -> "FieldProblem":
        """The same problem with its field seen from an enclosing object: ``session`` gives
        ``session.action_number``, ``declarations[2]`` gives ``declarations[2].month``."""
        separator = "" if self.field.startswith("[") else "."
        return FieldProblem(f"{prefix}{separator}{self.field}", self.message)


class DeclarationRejected(ValueError):  # noqa: N818  # named for what the caller sees: a rejection, not a fault
    """A declaration refused with every problem found in it (K19); it changes nothing."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        found = tuple(problems)
        if not found:
            raise ValueError("a rejected declaration names at least one problem")
        super().__init__("; ".join(f"{problem.field}: {problem.message}" for problem in found))
        self.problems: tuple[FieldProblem, ...] = found

    @classmethod
    def of(cls, field: str, message: str) -> "DeclarationRejected":
        """A rejection for a single problem."""
        return cls((FieldProblem(field, message),))

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields at fault, in the order their problems were found."""
        return tuple(problem.field for problem in self.problems)

    def within(self, prefix: str) -> "DeclarationRejected":
        """The same rejection with its fields seen from an enclosing object (a batch row)."""
        return DeclarationRejected(problem.within(prefix) for problem in self.problems)


class DeclarationStateError(ValueError):
    """A step was asked of a declaration whose state forbids it: a cancelled declaration is
    neither corrected nor cancelled again (K20)."""


class Problems:
    """The problems found so far in one declaration, raised together (K19)."""

    def __init__(self) -> None:
        self._found: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        """Note that `field` is wrong, saying why."""
        self._found.append(FieldProblem(field, message))

    def absorb(self, rejected: DeclarationRejected) -> None:
        """Note every problem of a rejection raised by a parser or a nested check."""
        self._found.extend(rejected.problems)

    def __bool__(self) -> bool:
        return bool(self._found)

    def concern(self, field: str) -> bool:
        """Whether a problem was noted for `field` (later rules skip what depends on it)."""
        return any(problem.field == field for problem in self._found)

    def raise_if_any(self) -> None:
        """Raise `DeclarationRejected` with every problem noted, if there is one."""
        if self._found:
            raise DeclarationRejected(self._found)
