"""Password policy (K7), provisional passwords (K6, K11) and the hashing port (K5).

The policy follows NIST SP 800-63B-4 §3.1.1.2 and CNIL deliberation 2022-100: length is what
counts (measured in Unicode characters after NFKC normalisation: at least 15 for a password used
alone, as every password here is, and at least 64 allowed), there is no composition rule, and a
password is refused when it is common or breached (zxcvbn's common passwords and a breach corpus,
:mod:`breached_passwords`, both checked offline), tied to the service or to the person, or
trivially guessable (one repeated group, a plain sequence). Problems are reported
all at once, each with a code and an English message that never repeats the password, since
messages may be logged.

Hashing (argon2id, K5) is I/O-free but belongs to an adapter: the domain only states the port,
`PasswordHasher`. What is hashed and verified is always `normalise_password(raw)`.
"""

import functools
import itertools
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from zxcvbn.frequency_lists import (  # type: ignore[import-untyped]  # zxcvbn ships no types
    FREQUENCY_LISTS,
)

from kairos_identity.domain.breached_passwords import breached_passwords
from kairos_identity.domain.text_folding import ascii_letters, fold, name_words

CONTEXT_WORDS: Final = frozenset(
    {"kairos", "francetravail", "poleemploi", "motdepasse", "password"}
)
"""Words tied to this service that make a password guessable (NIST's "context-specific words")."""

PROVISIONAL_PASSWORD_LENGTH: Final = 16
PROVISIONAL_PASSWORD_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105  # an alphabet, not a secret
"""Letters and digits without look-alikes (0 O o, 1 I i l): provisional passwords are copied
by hand from a screen or a letter (K6). 55 symbols, so 16 of them carry about 92 bits."""

NIST_MIN_LENGTH_FLOOR: Final = 8
NIST_MAX_LENGTH_FLOOR: Final = 64
"""NIST SP 800-63B-4: never fewer than 8 characters required, at least 64 allowed."""
SINGLE_FACTOR_MIN_LENGTH: Final = 15
"""NIST SP 800-63B-4 §3.1.1.2: at least 15 characters for a password used alone (8 only as part
of multi-factor authentication, which this platform does not have)."""

MIN_WORD_LENGTH: Final = 3
"""Shorter names, login ids and letter groups are too frequent inside words to be refused."""
MIN_COMMON_SKELETON: Final = 4
"""A common word hidden among digits and symbols is refused only when it has 4 letters or more."""
_CHECKED_PATTERN_LENGTH: Final = 3
_MAX_REPEATED_UNIT: Final = 4
_SEQUENCES: Final = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertyuiopasdfghjklzxcvbnm",
)
_GENERATION_ATTEMPTS: Final = 100


class PasswordProblemCode(StrEnum):
    """Why a password is refused; clients may translate these codes."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_LOGIN_ID = "contains_login_id"
    CONTAINS_NAME = "contains_name"
    REPETITIVE = "repetitive"
    SEQUENCE = "sequence"


@dataclass(frozen=True, slots=True)
class PasswordProblem:
    """One reason a password is refused: a stable code and an English message."""

    code: PasswordProblemCode
    message: str


class UnacceptablePasswordError(ValueError):
    """A password breaks the policy; `problems` lists every reason, never the password."""

    def __init__(self, problems: Sequence[PasswordProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(problem.message for problem in self.problems))


class PasswordHasher(Protocol):
    """The port to the password hashing adapter (argon2id, K5).

    Callers hand it `normalise_password(raw)`, both when setting and when verifying.
    """

    def hash(self, password: str) -> str:
        """Return a self-describing encoded hash (algorithm, parameters and salt included)."""
        ...

    def verify(self, encoded_hash: str, password: str) -> bool:
        """Say whether `password` matches; False also for a hash this hasher cannot read."""
        ...

    def needs_rehash(self, encoded_hash: str) -> bool:
        """Say whether the hash was made with weaker parameters than the current ones."""
        ...


def normalise_password(password: str) -> str:
    """NFKC form of `password`: what is measured, checked and hashed (NIST SP 800-63B-4).

    Without it, the same password typed on two keyboards (composed "é" or "e" + accent) would
    be two passwords.
    """
    return unicodedata.normalize("NFKC", password)


@functools.cache
def _blocked_words() -> frozenset[str]:
    """zxcvbn's 30 000 most common passwords (lowercase), the breach corpus and the context
    words."""
    common: list[str] = FREQUENCY_LISTS["passwords"]
    return frozenset(word.casefold() for word in common) | breached_passwords() | CONTEXT_WORDS


def _is_common(folded: str) -> bool:
    """A block-listed word as it stands, or decorated with digits and symbols ("Kairos2024!")."""
    blocked = _blocked_words()
    skeleton = ascii_letters(folded)
    return folded in blocked or (len(skeleton) >= MIN_COMMON_SKELETON and skeleton in blocked)


def _is_repetitive(folded: str) -> bool:
    """One character or a group of at most 4 repeated: "aaaaaaaaaaaa", "abcabcabcabc"."""
    if len(folded) < _CHECKED_PATTERN_LENGTH:
        return False
    return any(
        len(folded) >= 2 * unit and all(folded[i] == folded[i % unit] for i in range(len(folded)))
        for unit in range(1, _MAX_REPEATED_UNIT + 1)
    )


def _follows(sequence: str, text: str, step: int) -> bool:
    """Whether each character of `text` comes `step` places after the previous in `sequence`."""
    places = [sequence.find(char) for char in text]
    if -1 in places:
        return False
    size = len(sequence)
    return all((here - before) % size == step % size for before, here in itertools.pairwise(places))


def _is_sequence(folded: str) -> bool:
    """Digits, letters or keyboard keys in a row, either way, wrapping: "123456789012"."""
    if len(folded) < _CHECKED_PATTERN_LENGTH:
        return False
    return any(_follows(seq, folded, step) for seq in _SEQUENCES for step in (1, -1))


def _alphanumerics(folded: str) -> str:
    return "".join(char for char in folded if char.isalnum())


def _contains_login_id(folded: str, login_id: str) -> bool:
    """The login id, or its letters without the numbering suffix ("jdupont" of "jdupont2")."""
    login = _alphanumerics(fold(login_id))
    login_letters = ascii_letters(login_id)
    return (len(login) >= MIN_WORD_LENGTH and login in _alphanumerics(folded)) or (
        len(login_letters) >= MIN_WORD_LENGTH and login_letters in ascii_letters(folded)
    )


def _contains_name(folded: str, names: Iterable[str]) -> bool:
    """Any word of 3 letters or more of the person's names, accents and case ignored."""
    letters = ascii_letters(folded)
    return any(
        word in letters
        for name in names
        for word in name_words(name)
        if len(word) >= MIN_WORD_LENGTH
    )


_CONTENT_MESSAGES: Final = {
    PasswordProblemCode.COMMON: (
        "Password is too common: it is a well-known or breached password or a word tied to this "
        "service, possibly with digits or symbols added."
    ),
    PasswordProblemCode.CONTAINS_LOGIN_ID: "Password must not contain your login id.",
    PasswordProblemCode.CONTAINS_NAME: "Password must not contain your first or last name.",
    PasswordProblemCode.REPETITIVE: (
        "Password must not be one character or a short group of characters repeated."
    ),
    PasswordProblemCode.SEQUENCE: (
        "Password must not be a simple sequence such as 123456 or abcdef."
    ),
}


def _content_problems(
    folded: str, *, login_id: str, names: Iterable[str]
) -> list[PasswordProblemCode]:
    """The codes of the content rules (everything but length) that `folded` breaks."""
    broken = {
        PasswordProblemCode.COMMON: _is_common(folded),
        PasswordProblemCode.CONTAINS_LOGIN_ID: _contains_login_id(folded, login_id),
        PasswordProblemCode.CONTAINS_NAME: _contains_name(folded, names),
        PasswordProblemCode.REPETITIVE: _is_repetitive(folded),
        PasswordProblemCode.SEQUENCE: _is_sequence(folded),
    }
    return [code for code, is_broken in broken.items() if is_broken]


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Length bounds of the policy (K7); the other rules are fixed by NIST and CNIL guidance.

    `min_length` defaults to NIST's 15 for a password used alone; it may not go below NIST's
    floor of 8 (only for a password that is one factor of several) and `max_length` below 64.
    """

    min_length: int = SINGLE_FACTOR_MIN_LENGTH
    max_length: int = 128

    def __post_init__(self) -> None:
        if self.min_length < NIST_MIN_LENGTH_FLOOR:
            raise ValueError(
                f"min_length must be at least {NIST_MIN_LENGTH_FLOOR}, got {self.min_length}"
            )
        if self.max_length < max(NIST_MAX_LENGTH_FLOOR, self.min_length):
            raise ValueError(
                f"max_length must be at least {NIST_MAX_LENGTH_FLOOR} and at least min_length, "
                f"got {self.max_length}"
            )

    def check(self, password: str, *, login_id: str, names: Iterable[str]) -> list[PasswordProblem]:
        """Every reason `password` is refused for this person; empty when it is acceptable."""
        normalised = normalise_password(password)
        problems: list[PasswordProblem] = []
        if len(normalised) < self.min_length:
            problems.append(
                PasswordProblem(
                    PasswordProblemCode.TOO_SHORT,
                    f"Password must be at least {self.min_length} characters long.",
                )
            )
        if len(normalised) > self.max_length:
            problems.append(
                PasswordProblem(
                    PasswordProblemCode.TOO_LONG,
                    f"Password must be at most {self.max_length} characters long.",
                )
            )
        codes = _content_problems(fold(normalised), login_id=login_id, names=names)
        problems.extend(PasswordProblem(code, _CONTENT_MESSAGES[code]) for code in codes)
        return problems

    def require_acceptable(self, password: str, *, login_id: str, names: Iterable[str]) -> str:
        """Return the normalised password, the form to hash; raise if the policy refuses it."""
        problems = self.check(password, login_id=login_id, names=names)
        if problems:
            raise UnacceptablePasswordError(problems)
        return normalise_password(password)


DEFAULT_PASSWORD_POLICY: Final = PasswordPolicy()


def generate_provisional_password(
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
    *,
    login_id: str = "",
    names: Sequence[str] = (),
) -> str:
    """A random provisional password (K6, K11) that `policy` accepts for this person.

    16 characters (more if the policy asks for more) drawn with `secrets` from an alphabet
    without look-alikes. A draw the policy refuses (it may, by chance, spell a name) is drawn
    again, so the result always passes.
    """
    length = max(PROVISIONAL_PASSWORD_LENGTH, policy.min_length)
    for _ in range(_GENERATION_ATTEMPTS):
        candidate = "".join(secrets.choice(PROVISIONAL_PASSWORD_ALPHABET) for _ in range(length))
        if not policy.check(candidate, login_id=login_id, names=names):
            return candidate
    raise RuntimeError(f"no acceptable password in {_GENERATION_ATTEMPTS} draws; check the policy")
