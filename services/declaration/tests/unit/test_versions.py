"""K20: a declaration is corrected or cancelled by its next version; a cancelled one is final;
a correction cannot change what identifies the declaration."""

import pytest

from kairos_declaration.domain.declarations import Kind
from kairos_declaration.domain.errors import (
    DeclarationRejected,
    DeclarationStateError,
    FieldProblem,
)
from kairos_declaration.domain.versions import (
    DeclarationIdentity,
    VersionHead,
    cancellation_version,
    correction_version,
    next_version,
)

IDENTITY = DeclarationIdentity(Kind.ATTENDANCE, "14_AF_1", "14_SE_1", "1234567A")
HEAD = VersionHead("decl-1", IDENTITY, version=2)
CANCELLED = VersionHead("decl-1", IDENTITY, version=3, cancelled=True)


def test_each_new_version_follows_the_current_one() -> None:
    assert next_version(1, cancelled=False) == 2
    assert next_version(7, cancelled=False) == 8
    assert correction_version(HEAD, IDENTITY, "heures corrigées") == 3
    assert cancellation_version(HEAD, "déclarée par erreur") == 3


def test_a_cancelled_declaration_is_neither_corrected_nor_cancelled_again() -> None:
    message = (
        "the declaration was cancelled (version 3): it can be neither corrected nor cancelled again"
    )
    with pytest.raises(DeclarationStateError) as refused:
        next_version(3, cancelled=True)
    assert str(refused.value) == message
    with pytest.raises(DeclarationStateError):
        correction_version(CANCELLED, IDENTITY, "x")
    with pytest.raises(DeclarationStateError):
        cancellation_version(CANCELLED, "x")


def test_the_state_is_told_before_the_fields() -> None:
    other = DeclarationIdentity(Kind.ENTRY, "B", "C", None)
    with pytest.raises(DeclarationStateError):
        correction_version(CANCELLED, other, None)


def test_versions_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1, not 0"):
        next_version(0, cancelled=False)


def test_a_correction_cannot_change_what_identifies_the_declaration() -> None:
    other = DeclarationIdentity(Kind.ENTRY, "14_AF_2", "14_SE_2", "7654321B")
    with pytest.raises(DeclarationRejected) as refused:
        correction_version(HEAD, other, "x")
    tail = "; cancel it and declare anew instead"
    assert refused.value.problems == (
        FieldProblem(
            "kind",
            "a correction cannot change what identifies the declaration: kind is attendance, "
            "not entry" + tail,
        ),
        FieldProblem(
            "session.action_number",
            "a correction cannot change what identifies the declaration: session.action_number "
            "is 14_AF_1, not 14_AF_2" + tail,
        ),
        FieldProblem(
            "session.session_number",
            "a correction cannot change what identifies the declaration: "
            "session.session_number is 14_SE_1, not 14_SE_2" + tail,
        ),
        FieldProblem(
            "trainee_id",
            "a correction cannot change what identifies the declaration: trainee_id is "
            "1234567A, not 7654321B" + tail,
        ),
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_correction_and_a_cancellation_say_why(reason: str | None) -> None:
    with pytest.raises(DeclarationRejected) as refused:
        correction_version(HEAD, IDENTITY, reason)
    assert refused.value.problems == (
        FieldProblem("correction_reason", "say why (1 to 500 characters)"),
    )
    with pytest.raises(DeclarationRejected) as refused:
        cancellation_version(HEAD, reason)
    assert refused.value.problems == (FieldProblem("reason", "say why (1 to 500 characters)"),)


def test_a_reason_has_at_most_500_characters() -> None:
    with pytest.raises(DeclarationRejected) as refused:
        cancellation_version(HEAD, "x" * 501)
    assert refused.value.problems == (FieldProblem("reason", "at most 500 characters; got 501"),)
    assert correction_version(HEAD, IDENTITY, "x" * 500) == 3


def test_a_session_declaration_has_no_trainee() -> None:
    identity = DeclarationIdentity(Kind.INTERRUPTION, "14_AF_1", "14_SE_1")
    head = VersionHead("decl-2", identity, version=1)
    assert correction_version(head, identity, "dates") == 2
