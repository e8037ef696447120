"""A form's errors as a page shows them: a summary at the top (each entry a link to its field)
and a message beside each field, or on the row and column of a grid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kairos_portal.domain.problems import ServiceProblem


def field_id(name: str) -> str:
    """The HTML id of the input named ``name`` (``person.email`` → ``champ-person-email``)."""
    return "champ-" + "".join(c if c.isalnum() else "-" for c in name)


def cell_id(row: int, column: str) -> str:
    return f"ligne-{row + 1}-{field_id(column)[6:]}"


@dataclass(frozen=True)
class SummaryItem:
    text: str
    anchor: str | None


@dataclass
class FormErrors:
    """What a refused submission shows: empty when nothing was refused."""

    title: str = ""
    detail: str = ""
    summary: list[SummaryItem] = field(default_factory=list)
    by_field: dict[str, str] = field(default_factory=dict)
    by_row: dict[int, dict[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.title or self.summary)

    @classmethod
    def of(cls, problem: ServiceProblem, labels: Mapping[str, str]) -> FormErrors:
        """Place each of the service's field errors on the field ``labels`` names (the form's
        fields, in its order); an error about a field the form does not show goes to the
        summary only."""
        errors = cls(title=problem.french_title, detail=problem.french_detail)
        for error in problem.errors:
            row = error.row
            if row is not None:
                label = labels.get(error.column, error.column)
                errors.by_row.setdefault(row, {})[error.column] = error.message
                errors.summary.append(
                    SummaryItem(
                        f"Ligne {row + 1}, colonne « {label.lower()} » : {error.message}",
                        cell_id(row, error.column) if error.column in labels else None,
                    )
                )
            elif error.path in labels:
                before = errors.by_field.get(error.path)
                errors.by_field[error.path] = (
                    f"{before} {error.message}" if before else error.message
                )
                errors.summary.append(
                    SummaryItem(f"{labels[error.path]} : {error.message}", field_id(error.path))
                )
            else:
                where = f"{error.path} : " if error.path else ""
                errors.summary.append(SummaryItem(f"{where}{error.message}", None))
        return errors

    @classmethod
    def message(cls, title: str, detail: str = "") -> FormErrors:
        return cls(title=title, detail=detail)
