"""K5-K7: the password policy, provisional passwords and the hashing port."""

import secrets
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos_identity.domain.breached_passwords import breached_passwords
from kairos_identity.domain.passwords import (
    CONTEXT_WORDS,
    DEFAULT_PASSWORD_POLICY,
    PROVISIONAL_PASSWORD_ALPHABET,
    PasswordHasher,
    PasswordPolicy,
    PasswordProblem,
    PasswordProblemCode,
    UnacceptablePasswordError,
    generate_provisional_password,
    normalise_password,
)

Code = PasswordProblemCode
LOGIN_ID = "jdupont2"
NAMES = ("Jean-Pierre", "Dupont")
MESSAGES = {
    Code.TOO_SHORT: "Password must be at least 15 characters long.",
    Code.TOO_LONG: "Password must be at most 128 characters long.",
    Code.COMMON: (
        "Password is too common: it is a well-known or breached password or a word tied to this "
        "service, possibly with digits or symbols added."
    ),
    Code.CONTAINS_LOGIN_ID: "Password must not contain your login id.",
    Code.CONTAINS_NAME: "Password must not contain your first or last name.",
    Code.REPETITIVE: "Password must not be one character or a short group of characters repeated.",
    Code.SEQUENCE: "Password must not be a simple sequence such as 123456 or abcdef.",
}


def codes_of(
    password: str, *, login_id: str = LOGIN_ID, names: tuple[str, ...] = NAMES
) -> set[Code]:
    problems = DEFAULT_PASSWORD_POLICY.check(password, login_id=login_id, names=names)
    return {problem.code for problem in problems}


# policy bounds


def test_the_default_policy_asks_15_to_128_characters() -> None:
    # NIST SP 800-63B-4: 15 characters for a password used alone, as every password here is.
    assert PasswordPolicy() == PasswordPolicy(min_length=15, max_length=128)


@pytest.mark.parametrize(
    ("min_length", "max_length", "message"),
    [
        (7, 128, "min_length must be at least 8, got 7"),
        (12, 63, "max_length must be at least 64 and at least min_length, got 63"),
        (80, 70, "max_length must be at least 64 and at least min_length, got 70"),
    ],
)
def test_a_policy_below_nist_floors_is_refused(
    min_length: int, max_length: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PasswordPolicy(min_length=min_length, max_length=max_length)


def test_a_longer_minimum_is_allowed() -> None:
    policy = PasswordPolicy(min_length=20)

    problems = policy.check("vqx7-Mørk-zieltw", login_id=LOGIN_ID, names=NAMES)

    assert problems == [
        PasswordProblem(Code.TOO_SHORT, "Password must be at least 20 characters long.")
    ]


# length


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Zébulon-Quartz7", "vqx7-Mørk-zieltw"]
)
def test_a_long_unremarkable_password_is_accepted(password: str) -> None:
    assert codes_of(password) == set()


def test_no_composition_rule_applies() -> None:
    assert codes_of("gentle otter under snow") == set()
    assert codes_of("7349 2816 5093 1") == set()


def test_a_short_password_is_refused() -> None:
    short = "vqx7-Mørk-ziel"  # 14 characters: enough only as one factor of several (NIST)
    assert DEFAULT_PASSWORD_POLICY.check(short, login_id=LOGIN_ID, names=NAMES) == [
        PasswordProblem(Code.TOO_SHORT, MESSAGES[Code.TOO_SHORT])
    ]


def test_length_is_counted_in_characters_after_nfkc_normalisation() -> None:
    decomposed = "vqx7-Mørk-zelte\u0301"  # 16 code points, 15 characters once composed
    assert len(decomposed) == 16

    assert codes_of(decomposed) == set()
    assert codes_of("vqx7-Mørk-lte\u0301") == {Code.TOO_SHORT}


def test_non_latin_characters_and_emoji_count_as_one_each() -> None:
    assert codes_of("鍵🔑と月の光🌙が静かな夜の海辺") == set()
    assert codes_of("鍵🔑と月の光🌙が静かな夜の海") == {Code.TOO_SHORT}


def test_passwords_up_to_the_maximum_are_accepted_and_longer_refused() -> None:
    phrase = "the quiet otter sleeps under snow while "
    assert codes_of((phrase * 4)[:64]) == set()
    assert codes_of((phrase * 4)[:128]) == set()
    assert codes_of((phrase * 4)[:129]) == {Code.TOO_LONG}


# block-list


@pytest.mark.parametrize("password", ["migrationschool", "MigrationSchool", "Demon1q2w3e4r5t"])
def test_a_breached_password_of_the_corpus_is_refused(password: str) -> None:
    # Long enough and in no other list: only the breach corpus (shipped by Django) knows them.
    assert codes_of(password, login_id="zz", names=()) == {Code.COMMON}


def test_the_breach_corpus_is_read_offline_from_the_installed_package() -> None:
    corpus = breached_passwords()
    assert len(corpus) > 19_000
    assert "migrationschool" in corpus


@pytest.mark.parametrize(
    "password", ["leavemealone", "LeaveMeAlone", "1qaz2wsx3edc", "qwerty123456", "finalfantasy"]
)
def test_a_common_password_is_refused_whatever_its_case(password: str) -> None:
    assert Code.COMMON in codes_of(password)


@pytest.mark.parametrize(
    "password", ["Sunshine2024!", "password1234", "!!Dragon!!2024", "d8r3a7g1o9n5"]
)
def test_a_common_password_decorated_with_digits_and_symbols_is_refused(password: str) -> None:
    assert Code.COMMON in codes_of(password)


@pytest.mark.parametrize(
    "password",
    ["Kairos2024!!", "FranceTravail!1", "Pôle-Emploi 2025", "MotDePasse2024!", "PASSWORD-2024"],
)
def test_a_context_word_with_digits_and_symbols_is_refused(password: str) -> None:
    assert Code.COMMON in codes_of(password)


def test_the_context_words_are_those_of_the_service() -> None:
    assert {"kairos", "francetravail", "poleemploi", "motdepasse", "password"} == CONTEXT_WORDS


def test_a_common_word_among_many_other_characters_is_not_refused() -> None:
    assert codes_of("7349-dog-2816-5093") == set()


# personal information


@pytest.mark.parametrize("password", ["my-JDupont2-secret", "xx-jdupont-99-yy", "JDUPONT2 rocks!"])
def test_a_password_containing_the_login_id_is_refused(password: str) -> None:
    assert Code.CONTAINS_LOGIN_ID in codes_of(password)


@pytest.mark.parametrize(
    ("password", "names"),
    [
        ("ELOISE-rides-bikes", ("Éloïse", "Martin")),
        ("une pierre qui roule", ("Jean-Pierre", "Dupont")),
        ("Dü-pont over the river", ("Jean", "Dupont")),
        ("meet Ann at eight", ("Ann", "Lee")),
    ],
)
def test_a_password_containing_a_name_is_refused(password: str, names: tuple[str, ...]) -> None:
    assert Code.CONTAINS_NAME in codes_of(password, login_id="zz", names=names)


def test_names_shorter_than_three_letters_are_not_checked() -> None:
    assert codes_of("lighthouse keeper 42", login_id="xy", names=("Li", "Wu")) == set()


def test_a_login_id_shorter_than_three_characters_is_not_checked() -> None:
    assert codes_of("lighthouse keeper 42", login_id="li", names=()) == set()


# repetition and sequences


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "AAAAaaaaAAAA", "abababababab", "123123123123", "abcdabcdabcd"]
)
def test_a_repeated_character_or_short_group_is_refused(password: str) -> None:
    assert Code.REPETITIVE in codes_of(password, login_id="zz", names=())


def test_a_group_longer_than_four_repeated_is_not_refused_as_repetitive() -> None:
    assert Code.REPETITIVE not in codes_of("vqx7mvqx7mvqx7m", login_id="zz", names=())


@pytest.mark.parametrize(
    "password",
    [
        "123456789012",
        "987654321098",
        "abcdefghijkl",
        "ABCDEFGHIJKL",
        "lkjihgfedcba",
        "xyzabcdefghi",
        "azertyuiopqs",
        "qwertyuiopas",
    ],
)
def test_a_simple_sequence_is_refused(password: str) -> None:
    assert Code.SEQUENCE in codes_of(password, login_id="zz", names=())


def test_patterns_are_not_reported_on_passwords_of_fewer_than_three_characters() -> None:
    assert codes_of("qq", login_id="zz", names=()) == {Code.TOO_SHORT}
    assert codes_of("ab", login_id="zz", names=()) == {Code.TOO_SHORT}


# reporting


def test_every_problem_is_reported_at_once_in_rule_order() -> None:
    problems = DEFAULT_PASSWORD_POLICY.check(
        "brouzvald", login_id="brouzvald", names=("Jean", "Brouzvald")
    )

    assert [problem.code for problem in problems] == [
        Code.TOO_SHORT,
        Code.CONTAINS_LOGIN_ID,
        Code.CONTAINS_NAME,
    ]


def test_each_problem_has_its_fixed_english_message() -> None:
    assert DEFAULT_PASSWORD_POLICY.check("x" * 129, login_id="zz", names=()) == [
        PasswordProblem(Code.TOO_LONG, MESSAGES[Code.TOO_LONG]),
        PasswordProblem(Code.REPETITIVE, MESSAGES[Code.REPETITIVE]),
    ]
    assert DEFAULT_PASSWORD_POLICY.check("abcdefghijklmnop", login_id="zz", names=()) == [
        PasswordProblem(Code.SEQUENCE, MESSAGES[Code.SEQUENCE])
    ]
    assert DEFAULT_PASSWORD_POLICY.check("Kairos2024!!!!!!", login_id="zz", names=()) == [
        PasswordProblem(Code.COMMON, MESSAGES[Code.COMMON])
    ]


@given(st.text(max_size=140), st.text(max_size=20), st.lists(st.text(max_size=20), max_size=3))
def test_messages_never_depend_on_the_password(
    password: str, login_id: str, names: list[str]
) -> None:
    for problem in DEFAULT_PASSWORD_POLICY.check(password, login_id=login_id, names=names):
        assert problem.message == MESSAGES[problem.code]


def test_require_acceptable_returns_the_normalised_password_to_hash() -> None:
    decomposed = "vqx7-Mørk-zelte\u0301"

    accepted = DEFAULT_PASSWORD_POLICY.require_acceptable(decomposed, login_id="zz", names=())

    assert accepted == unicodedata.normalize("NFKC", decomposed)
    assert accepted == normalise_password(decomposed)


def test_require_acceptable_raises_with_every_problem_and_never_the_password() -> None:
    with pytest.raises(UnacceptablePasswordError) as caught:
        DEFAULT_PASSWORD_POLICY.require_acceptable("jdupont2!", login_id=LOGIN_ID, names=NAMES)

    error = caught.value
    assert [problem.code for problem in error.problems] == [
        Code.TOO_SHORT,
        Code.CONTAINS_LOGIN_ID,
        Code.CONTAINS_NAME,
    ]
    assert str(error) == " ".join(
        MESSAGES[code] for code in (Code.TOO_SHORT, Code.CONTAINS_LOGIN_ID, Code.CONTAINS_NAME)
    )
    assert "jdupont2!" not in str(error)
    assert isinstance(error, ValueError)


def test_normalisation_is_nfkc() -> None:
    assert normalise_password("ﬁne e\u0301te\u0301") == "fine été"


# provisional passwords


def test_a_provisional_password_is_16_characters_without_look_alikes() -> None:
    password = generate_provisional_password()

    assert len(password) == 16
    assert set(password) <= set(PROVISIONAL_PASSWORD_ALPHABET)
    assert not set("0Oo1Iil") & set(PROVISIONAL_PASSWORD_ALPHABET)
    assert len(PROVISIONAL_PASSWORD_ALPHABET) == 55


def test_a_provisional_password_is_as_long_as_a_longer_policy_asks() -> None:
    assert len(generate_provisional_password(PasswordPolicy(min_length=20))) == 20


def test_provisional_passwords_differ() -> None:
    assert len({generate_provisional_password() for _ in range(50)}) == 50


@given(
    st.text(alphabet="abcdefghjkmnpqrstuvwxyz23456789", min_size=3, max_size=12),
    st.lists(st.text(min_size=1, max_size=12), max_size=3),
)
def test_generated_provisional_passwords_always_pass_the_policy(
    login_id: str, names: list[str]
) -> None:
    password = generate_provisional_password(login_id=login_id, names=names)

    assert DEFAULT_PASSWORD_POLICY.check(password, login_id=login_id, names=names) == []


def test_generation_gives_up_rather_than_loop_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "choice", lambda alphabet: alphabet[0])

    with pytest.raises(RuntimeError, match="no acceptable password in 100 draws"):
        generate_provisional_password()


# hashing port


class _ReversingHasher:
    """A stand-in that satisfies the port structurally (never use such a thing for real)."""

    def hash(self, password: str) -> str:
        return "$rev$" + password[::-1]

    def verify(self, encoded_hash: str, password: str) -> bool:
        return encoded_hash == self.hash(password)

    def needs_rehash(self, encoded_hash: str) -> bool:
        return not encoded_hash.startswith("$rev$")


def test_the_hasher_port_is_structural() -> None:
    hasher: PasswordHasher = _ReversingHasher()
    password = DEFAULT_PASSWORD_POLICY.require_acceptable(
        "gentle otter under snow", login_id="zz", names=()
    )

    encoded = hasher.hash(password)

    assert hasher.verify(encoded, password)
    assert not hasher.verify(encoded, "another password")
    assert not hasher.needs_rehash(encoded)
