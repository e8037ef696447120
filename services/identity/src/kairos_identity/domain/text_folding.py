"""Folding of people's names and passwords to plain lowercase letters, for comparisons.

Login ids are built from names (K11) and passwords must not contain them (K7); both need "Éloïse"
and "eloise" to be the same word. Folding decomposes accents (NFKD) and drops the marks, maps the
few Latin letters that do not decompose (ß, æ, œ, ø, ł, đ, þ, ð), and lowercases.
"""

import unicodedata

_UNDECOMPOSABLE = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
    }
)


def fold(text: str) -> str:
    """Lowercase `text` and strip its accents; characters of other scripts are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold()


def ascii_letters(text: str) -> str:
    """The folded `text` reduced to its letters a-z, in order (the rest is dropped)."""
    return "".join(char for char in fold(text) if "a" <= char <= "z")


def name_words(name: str) -> list[str]:
    """The words of a name, folded to a-z: "Jean-Pierre" gives ["jean", "pierre"]."""
    words: list[str] = []
    current: list[str] = []
    for char in fold(name) + " ":
        if "a" <= char <= "z":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    return words
