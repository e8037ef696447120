"""``make bench``'s last step: every benchmark's headline figures in one table, from the JSON
results the benchmarks of this run wrote (``bench/results/*.json``), and ``summary.json``.

Each line is a figure of the platform beside its raw baseline measured in the same run, their
ratio, and the goal the issue set for that ratio when it set one.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from infra import RESULTS, write_results

ORDER = ["propagation", "declarations", "outbox", "notifications", "portal"]


def _load() -> dict[str, dict[str, Any]]:
    found = {}
    for name in ORDER:
        path = RESULTS / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def table(documents: dict[str, dict[str, Any]]) -> str:
    lines = [
        f"{'benchmark':<14}{'measure':<52}{'unit':<10}{'baseline':>10}{'kairos':>10}"
        f"{'ratio':>8}  goal"
    ]
    for name, document in documents.items():
        for line in document["results"].get("headline", []):
            verdict = {True: "met", False: "MISSED", None: ""}[line["met"]]
            goal = f"{line['goal']} {verdict}" if line["goal"] else ""
            lines.append(
                f"{name:<14}{line['measure']:<52}{line['unit']:<10}{line['baseline']:>10.1f}"
                f"{line['kairos']:>10.1f}{line['ratio']:>8.3f}  {goal}"
            )
    return "\n".join(lines)


def main() -> int:
    documents = _load()
    missing = [name for name in ORDER if name not in documents]
    print(table(documents))
    summary = {
        name: {"at": document["at"], "headline": document["results"].get("headline", [])}
        for name, document in documents.items()
    }
    print(f"summary: {write_results('summary', summary)}")
    if missing:
        print(f"no results from: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
