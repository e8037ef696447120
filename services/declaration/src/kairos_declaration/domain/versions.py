"""A declaration's chain of versions: corrected or cancelled by a new, linked version (K20).

A declaration keeps a stable id; version 1 is the original, and each correction or
cancellation adds the next version, so nothing is overwritten and the whole history stays
readable (K20). A cancelled declaration is final: it is neither corrected nor cancelled again
(`DeclarationStateError`). A correction restates the whole declaration but cannot change what
identifies it, its kind, session and trainee (`DeclarationRejected` naming ``kind``,
``session.action_number``, ``session.session_number`` or ``trainee_id``); it gives a reason
(``correction_reason``), as a cancellation does (``reason``), of 1 to 500 characters.
"""

from dataclasses import dataclass
from typing import Final

from kairos_declaration.domain.declarations import Kind
from kairos_declaration.domain.errors import DeclarationStateError, Problems

__all__ = [
    "FIRST_VERSION",
    "DeclarationIdentity",
    "DeclarationStateError",
    "VersionHead",
    "cancellation_version",
    "correction_version",
    "next_version",
]

FIRST_VERSION: Final = 1
REASON_MAX_LENGTH: Final = 500


@dataclass(frozen=True, slots=True)
class DeclarationIdentity:
    """What a declaration is about, which no correction may change: its kind, its session's
    Carif-Oref numbers and, for a trainee's declaration, the trainee."""

    kind: Kind
    action_number: str
    session_number: str
    trainee_id: str | None = None


@dataclass(frozen=True, slots=True)
class VersionHead:
    """The latest version of a declaration: what a correction or cancellation follows."""

    declaration_id: str
    identity: DeclarationIdentity
    version: int
    cancelled: bool = False


def next_version(current: int, cancelled: bool) -> int:
    """The version that follows `current`, unless the declaration is cancelled (K20)."""
    if current < FIRST_VERSION:
        raise ValueError(f"versions are numbered from 1, not {current}")
    if cancelled:
        raise DeclarationStateError(
            f"the declaration was cancelled (version {current}): it can be neither corrected "
            "nor cancelled again"
        )
    return current + 1


def correction_version(
    head: VersionHead, correction: DeclarationIdentity, correction_reason: str | None
) -> int:
    """The version a correction of `head` takes, once it is about the same declaration and
    says why (K20)."""
    version = next_version(head.version, head.cancelled)
    problems = Problems()
    current = head.identity
    for field, was, now in (
        ("kind", current.kind, correction.kind),
        ("session.action_number", current.action_number, correction.action_number),
        ("session.session_number", current.session_number, correction.session_number),
        ("trainee_id", current.trainee_id, correction.trainee_id),
    ):
        if was != now:
            problems.add(
                field,
                f"a correction cannot change what identifies the declaration: {field} is "
                f"{was}, not {now}; cancel it and declare anew instead",
            )
    _check_reason(correction_reason, "correction_reason", problems)
    problems.raise_if_any()
    return version


def cancellation_version(head: VersionHead, reason: str | None) -> int:
    """The version a cancellation of `head` takes, once it says why (K20)."""
    version = next_version(head.version, head.cancelled)
    problems = Problems()
    _check_reason(reason, "reason", problems)
    problems.raise_if_any()
    return version


def _check_reason(reason: str | None, field: str, problems: Problems) -> None:
    if reason is None or not reason.strip():
        problems.add(field, "say why (1 to 500 characters)")
    elif len(reason) > REASON_MAX_LENGTH:
        problems.add(field, f"at most 500 characters; got {len(reason)}")
