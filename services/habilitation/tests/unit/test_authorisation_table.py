"""The README's authorisation table lists every endpoint of the habilitation service, and
nothing that does not exist (it is the contract OF staff and operators read)."""

import re
from pathlib import Path

from kairos_habilitation.bootstrap import create_app
from kairos_habilitation.config import HabilitationSettings

README = Path(__file__).parents[4] / "README.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|PATCH) (/v1/[^`?]+)(?:\?[^`]*)?`")


def _documented() -> set[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### habilitation (port 8002)", 1)[1].split("\n### ", 1)[0]
    return {(m[1], m[2]) for line in section.splitlines() if (m := ROW.match(line))}


def _served() -> set[tuple[str, str]]:
    app = create_app(HabilitationSettings(database_url="postgresql://unused@127.0.0.1/unused"))
    schema = app.openapi()
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in schema["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }


def test_every_endpoint_is_in_the_readme_table_and_only_those() -> None:
    documented = {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in _documented()}
    assert documented == _served()
