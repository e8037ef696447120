"""Consistency of the declarations about a session as a whole (K16.1-K16.3, K19).

- interruption: it ends on or after its start and lasts more than 15 days, both ends counted
  (``ends_on``: 16 days at least), within the session's dates (``starts_on``, ``ends_on``),
  with a reason of 1 to 500 characters (``reason``); an interruption may be announced before
  it begins;
- correspondent: a first and last name (``first_name``, ``last_name``), an e-mail address
  (``email``) and a phone number of 6 to 20 digits, spaces or dots after an optional ``+``
  with at least 6 digits (``phone``);
- information meetings: at least one (``meetings``), each with its own id of 1 to 40
  characters (``meetings[i].meeting_id``), a kind (``meetings[i].meeting_kind``), a start with a
  UTC offset (``meetings[i].starts_at``) and a place of 1 to 200 characters
  (``meetings[i].place``).

Each check raises `DeclarationRejected` with every problem found (K19).
"""

import re
from typing import Final

from kairos_declaration.domain.declarations import (
    Correspondent,
    InformationMeetings,
    Interruption,
    Meeting,
    MeetingKind,
)
from kairos_declaration.domain.errors import Problems
from kairos_declaration.domain.sessions import TrainingSession
from kairos_shared.email_addresses import is_email_address

LONGEST_UNREPORTED_INTERRUPTION: Final = 15
REASON_MAX_LENGTH: Final = 500
MEETING_ID_MAX_LENGTH: Final = 40
PLACE_MAX_LENGTH: Final = 200
PHONE_MIN_DIGITS: Final = 6
_PHONE: Final = re.compile(r"\+?[0-9 .]{6,20}")


def check_interruption(session: TrainingSession, interruption: Interruption) -> None:
    """Refuse `interruption` unless it lasts more than 15 days within `session`'s dates and
    says why (K16.1, K19)."""
    problems = Problems()
    if interruption.ends_on < interruption.starts_on:
        problems.add(
            "ends_on",
            f"the interruption cannot end ({interruption.ends_on}) before it starts "
            f"({interruption.starts_on})",
        )
    elif interruption.days <= LONGEST_UNREPORTED_INTERRUPTION:
        problems.add("ends_on", f"an interruption must exceed 15 days (here {interruption.days})")
    for field, day in (("starts_on", interruption.starts_on), ("ends_on", interruption.ends_on)):
        if not session.covers(day):
            problems.add(field, f"{day} is outside the session ({session.dates})")
    _check_text(interruption.reason, "reason", REASON_MAX_LENGTH, problems)
    problems.raise_if_any()


def check_correspondent(correspondent: Correspondent) -> None:
    """Refuse a correspondent without names, e-mail address or phone number (K16.2)."""
    problems = Problems()
    for field in ("first_name", "last_name"):
        if not getattr(correspondent, field).strip():
            problems.add(field, "is required")
    if not is_email_address(correspondent.email):
        problems.add(
            "email", f"{correspondent.email!r} is not an e-mail address (e.g. name@example.fr)"
        )
    phone = correspondent.phone
    if not _PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < PHONE_MIN_DIGITS:
        problems.add(
            "phone",
            f"a phone number is 6 to 20 digits, spaces or dots after an optional '+', "
            f"with at least 6 digits (e.g. +33 1 23 45 67 89); {phone!r} is not",
        )
    problems.raise_if_any()


def check_meetings(information_meetings: InformationMeetings) -> None:
    """Refuse a calendar without meetings, or whose meetings share an id, start at a time
    without a UTC offset or have no place (K16.3)."""
    problems = Problems()
    meetings = information_meetings.meetings
    if not meetings:
        problems.add("meetings", "at least one meeting or appointment is required")
    first_use: dict[str, int] = {}
    for index, meeting in enumerate(meetings):
        path = f"meetings[{index}]"
        meeting_id = meeting.meeting_id
        earlier = first_use.setdefault(meeting_id, index)
        if earlier != index:
            problems.add(
                f"{path}.meeting_id",
                f"meeting id {meeting_id!r} is used by meetings[{earlier}] already: "
                "each meeting has its own id",
            )
        _check_meeting(meeting, path, problems)
    problems.raise_if_any()


def _check_meeting(meeting: Meeting, path: str, problems: Problems) -> None:
    _check_text(meeting.meeting_id, f"{path}.meeting_id", MEETING_ID_MAX_LENGTH, problems)
    if meeting.meeting_kind not in {kind.value for kind in MeetingKind}:
        problems.add(f"{path}.meeting_kind", "the kind is collective or individual")
    if meeting.starts_at.utcoffset() is None:
        problems.add(
            f"{path}.starts_at",
            f"{meeting.starts_at.isoformat()} has no UTC offset (e.g. "
            "2025-03-03T09:00:00+01:00): without one it names no instant",
        )
    _check_text(meeting.place, f"{path}.place", PLACE_MAX_LENGTH, problems)


def _check_text(text: str, field: str, longest: int, problems: Problems) -> None:
    if not text.strip():
        problems.add(field, "is required")
    elif len(text) > longest:
        problems.add(field, f"at most {longest} characters; got {len(text)}")
