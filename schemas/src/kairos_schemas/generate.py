"""Write the committed contract files from the event registry.

    python -m kairos_schemas.generate            # (re)write them
    python -m kairos_schemas.generate --check    # exit 1, naming each file out of date

The files, under `schemas/`: `jsonschema/<event type>.json` for each registered type, an index
`jsonschema/README.md`, and `asyncapi.yaml`. `render_all` is a pure function of the event
classes, so tests can render a registry of their own; the command renders `registered_events()`,
the platform registry, which only takes classes defined in `kairos_schemas`: test-only events
never reach the committed files.
"""

import argparse
import difflib
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from kairos_schemas.asyncapi import asyncapi_document
from kairos_schemas.events import JSON_SCHEMA_FOLDER, Event, registered_events, schema_path
from kairos_schemas.json_schemas import render_json_schema
from kairos_schemas.topics import PLATFORM_TOPICS

#: `schemas/`: this file is schemas/src/kairos_schemas/generate.py
SCHEMAS_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_FILE = "asyncapi.yaml"
INDEX_FILE = f"{JSON_SCHEMA_FOLDER}/README.md"
REGENERATE = "run `make schemas` (python -m kairos_schemas.generate) and commit the result"
_DIFF_LINES = 40


def render_all(
    events: Sequence[type[Event]],
    topics: Sequence[str] = PLATFORM_TOPICS,
    version: str | None = None,
) -> dict[str, str]:
    """Every generated file's text by its path relative to `schemas/`."""
    files = {schema_path(cls.event_type): render_json_schema(cls) for cls in events}
    files[INDEX_FILE] = render_index(events)
    document = asyncapi_document(events, topics, version or metadata.version("kairos-schemas"))
    files[ASYNCAPI_FILE] = render_yaml(document)
    return dict(sorted(files.items()))


def render_index(events: Sequence[type[Event]]) -> str:
    """The README of `jsonschema/`: what the files are, and one line per event type."""
    lines = [
        "# JSON Schemas of the Kairos events",
        "",
        "Generated from the event classes of `kairos_schemas` by `make schemas`: do not edit.",
        "One file per CloudEvents type (`ce_type`), identified by the events' `ce_dataschema`",
        "(`schemas/jsonschema/<type>.json`). Consumers must ignore properties they do not know:",
        "a published type only gains optional ones.",
        "",
    ]
    if not events:
        return "\n".join([*lines, "No event type is published yet.", ""])
    lines += ["| type | topic | class |", "|---|---|---|"]
    lines += [
        f"| [`{cls.event_type}`]({cls.event_type}.json) | `{cls.topic}` | `{cls.__name__}` |"
        for cls in events
    ]
    return "\n".join([*lines, ""])


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (descriptions read as written), no anchors."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 -- the signature is PyYAML's
        return True


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    )


_Dumper.add_representer(str, _represent_text)


def render_yaml(document: dict[str, Any]) -> str:
    """Deterministic YAML: keys in the order the document was built, no line folding."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)


def existing_files(root: Path) -> set[str]:
    """The generated files present on disk, relative to `root` (the `schemas/` folder)."""
    found = {ASYNCAPI_FILE} if (root / ASYNCAPI_FILE).is_file() else set()
    folder = root / JSON_SCHEMA_FOLDER
    if folder.is_dir():
        found |= {path.relative_to(root).as_posix() for path in folder.iterdir() if path.is_file()}
    return found


def out_of_date(root: Path, rendered: dict[str, str]) -> list[str]:
    """One diff-like report per file that is missing, stale or extra; empty when up to date."""
    reports = []
    for path, text in rendered.items():
        target = root / path
        if not target.is_file():
            reports.append(f"missing: {target}")
        elif (current := target.read_text(encoding="utf-8")) != text:
            reports.append(f"stale: {target}\n{_diff(path, current, text)}")
    reports += [f"extra: {root / path}" for path in sorted(existing_files(root) - set(rendered))]
    return reports


def _diff(path: str, current: str, expected: str) -> str:
    lines = list(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{path} (on disk)",
            tofile=f"{path} (generated)",
        )
    )
    shown = "".join(lines[:_DIFF_LINES])
    hidden = len(lines) - _DIFF_LINES
    return shown + (f"... {hidden} more diff lines\n" if hidden > 0 else "")


def write_all(root: Path, rendered: dict[str, str]) -> list[str]:
    """Write what changed and remove extra files; say what was done, one line per file."""
    changes = []
    for path, text in rendered.items():
        target = root / path
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        changes.append(f"wrote {target}")
    for path in sorted(existing_files(root) - set(rendered)):
        (root / path).unlink()
        changes.append(f"removed {root / path}")
    return changes


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: write the files, or with `--check` only report what is out of date."""
    parser = argparse.ArgumentParser(prog="python -m kairos_schemas.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=SCHEMAS_ROOT, help="the schemas/ folder")
    arguments = parser.parse_args(argv)
    rendered = render_all(registered_events())
    if arguments.check:
        reports = out_of_date(arguments.root, rendered)
        if reports:
            sys.stderr.write(
                "\n".join(reports) + f"\ncontract files are out of date: {REGENERATE}\n"
            )
            return 1
        sys.stdout.write(f"{len(rendered)} contract files up to date\n")
        return 0
    for change in write_all(arguments.root, rendered):
        sys.stdout.write(change + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
