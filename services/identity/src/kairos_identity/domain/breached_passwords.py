"""The breached-password corpus of the block-list (K7, NIST SP 800-63B-4 §3.1.1.2: "passwords
obtained from previous breach corpuses").

The corpus is the one Django ships with its ``CommonPasswordValidator``: the 20 000 passwords
seen most often in Troy Hunt's Pwned Passwords (a breach corpus), as compiled by Royce Williams,
lowercased and deduplicated by Django. It is read from the installed ``django`` package, offline
(nothing is asked of any network at run time), once per process; Django itself is never set up
or imported beyond its package. A maintained package keeps it current: upgrading Django upgrades
the list.
"""

import functools
import gzip
from importlib.resources import files
from typing import Final

CORPUS_PACKAGE: Final = "django"
CORPUS_PATH: Final = "contrib/auth/common-passwords.txt.gz"


@functools.cache
def breached_passwords() -> frozenset[str]:
    """The corpus, casefolded: one entry per breached password."""
    compressed = (files(CORPUS_PACKAGE) / CORPUS_PATH).read_bytes()
    text = gzip.decompress(compressed).decode("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())
