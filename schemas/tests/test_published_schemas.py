"""No published JSON Schema changed incompatibly, and none was removed (SPEC §3).

Every file ever committed under `schemas/jsonschema/` is compared, as it is now in the work tree,
with each of its versions in the history of HEAD; a file that was committed once and is gone is
a removed event type, which breaks its consumers as surely as a removed field.
"""

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from kairos_schemas import breaking_changes
from kairos_schemas.generate import SCHEMAS_ROOT

REPOSITORY = SCHEMAS_ROOT.parent
PUBLISHED_FOLDER = "schemas/jsonschema"

#: each published schema file (repository path) and its committed versions: (commit, text)
History = Mapping[str, Sequence[tuple[str, str]]]


def history_problems(history: History, current: Callable[[str], str | None]) -> list[str]:
    """What breaks the published versions: incompatible changes and deleted files."""
    problems = []
    for path, versions in sorted(history.items()):
        text = current(path)
        if text is None:
            first = versions[-1][0][:12] if versions else "an earlier commit"
            problems.append(
                f"{path}: deleted, but published since {first}; a removed event type is a"
                " breaking change (publish a new .v2 type instead, keep this one)"
            )
            continue
        schema = json.loads(text)
        for commit, published in versions:
            problems += [
                f"{path} (against {commit[:12]}): {change}"
                for change in breaking_changes(json.loads(published), schema)
            ]
    return problems


def _git(*arguments: str, repository: Path = REPOSITORY) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repository), *arguments], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments)}: {completed.stderr.strip()}")
    return completed.stdout


def _git_history(repository: Path = REPOSITORY) -> History:
    """The committed versions of every file ever committed under the published folder."""
    paths = _git(
        "log", "--no-renames", "--format=", "--name-only", "--", PUBLISHED_FOLDER,
        repository=repository,
    )  # fmt: skip
    history = {}
    for path in sorted({line for line in paths.splitlines() if line.endswith(".json")}):
        commits = _git(
            "log", "--no-renames", "--diff-filter=AM", "--format=%H", "--", path,
            repository=repository,
        )  # fmt: skip
        history[path] = [
            (commit, _git("show", f"{commit}:{path}", repository=repository))
            for commit in commits.split()
        ]
    return history


def _work_tree(path: str) -> str | None:
    file = REPOSITORY / path
    return file.read_text(encoding="utf-8") if file.is_file() else None


def _full_history(repository: Path = REPOSITORY) -> History | str:
    """The published schemas' whole history, or why it cannot be read."""
    if shutil.which("git") is None:
        return "git is not installed: the published schemas' history cannot be read"
    try:
        _git("rev-parse", "--verify", "HEAD", repository=repository)
        shallow = _git("rev-parse", "--is-shallow-repository", repository=repository).strip()
        if shallow == "true":
            return (
                f"{repository} is a shallow clone: the published schemas' earlier versions are "
                "missing; run `git fetch --unshallow` (.ci/run does) and test again"
            )
        return _git_history(repository)
    except RuntimeError as error:
        return f"no git history to compare the published schemas with ({error})"


def _history_or_fail() -> History:
    """A gate that skipped (no git, no repository, a shallow clone missing the older versions)
    would let a breaking change through unseen: it fails, saying why."""
    history = _full_history()
    if isinstance(history, str):
        pytest.fail(history)
    return history


def test_no_published_schema_changed_incompatibly_or_was_removed() -> None:
    problems = history_problems(_history_or_fail(), _work_tree)

    assert not problems, "\n".join(problems)


V1: dict[str, Any] = {
    "type": "object",
    "properties": {"hours": {"type": "integer"}},
    "required": ["hours"],
}
V1_WITH_OPTIONAL = {**V1, "properties": {**V1["properties"], "late": {"type": "boolean"}}}
V1_BROKEN = {**V1, "properties": {"hours": {"type": "string"}}}
PATH = "schemas/jsonschema/fr.kairos.declaration.test-only.v1.json"


def _work_tree_with(schema: dict[str, Any] | None) -> Callable[[str], str | None]:
    contents = {} if schema is None else {PATH: json.dumps(schema)}
    return contents.get


def test_a_compatible_evolution_of_a_published_schema_passes() -> None:
    history = {PATH: [("b" * 40, json.dumps(V1_WITH_OPTIONAL)), ("a" * 40, json.dumps(V1))]}

    assert history_problems(history, _work_tree_with(V1_WITH_OPTIONAL)) == []


def test_an_incompatible_change_is_reported_against_each_published_version() -> None:
    history = {PATH: [("b" * 40, json.dumps(V1_WITH_OPTIONAL)), ("a" * 40, json.dumps(V1))]}

    assert history_problems(history, _work_tree_with(V1_BROKEN)) == [
        f"{PATH} (against bbbbbbbbbbbb): $.hours: type changed from integer to string",
        f"{PATH} (against bbbbbbbbbbbb): $.late: property removed",
        f"{PATH} (against aaaaaaaaaaaa): $.hours: type changed from integer to string",
    ]


def test_a_deleted_published_schema_is_reported() -> None:
    history = {PATH: [("a" * 40, json.dumps(V1))]}

    assert history_problems(history, _work_tree_with(None)) == [
        f"{PATH}: deleted, but published since aaaaaaaaaaaa; a removed event type is a breaking"
        " change (publish a new .v2 type instead, keep this one)"
    ]


def test_the_git_history_reader_runs_on_this_repository() -> None:
    history = _history_or_fail()

    assert all(path.startswith(f"{PUBLISHED_FOLDER}/") for path in history)
    assert all(versions for versions in history.values())


def test_a_shallow_clone_fails_the_gate_rather_than_skipping_it(tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    _git("clone", "--quiet", "--depth=1", f"file://{REPOSITORY}", str(clone))

    found = _full_history(clone)

    assert isinstance(found, str), "a shallow clone's truncated history was taken as whole"
    assert "shallow clone" in found
    assert "git fetch --unshallow" in found


def test_a_folder_without_history_fails_the_gate_rather_than_skipping_it(tmp_path: Path) -> None:
    found = _full_history(tmp_path)

    assert isinstance(found, str)
    assert found.startswith("no git history")
