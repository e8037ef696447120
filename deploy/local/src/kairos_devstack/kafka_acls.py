"""The platform's Kafka ACLs (deploy/kafka/acls.toml), as ``kafka-acls.sh`` commands and as the
table of docs/operators.md, "Kafka security".

``python -m kairos_devstack.kafka_acls --print`` prints the commands that grant the services and
the operators their ACLs; ``--integrator acme`` those of the integrator ``User:integrator-acme``
(add ``--no-platform`` for that one alone); ``--table`` prints the Markdown table. The commands
use ``--bootstrap-server`` and ``--command-config`` (the admin's client properties: SASL_SSL,
SCRAM-SHA-512, a super user), both changeable.

:func:`apply` runs the same commands with Kafka's own ``AclCommand`` (the class behind
``kafka-acls.sh``), all in one JVM: the tests grant exactly what the operators are told to.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kairos_devstack.kafka import ensure_jars, ensure_tools_jar
from kairos_devstack.paths import repository_root
from kairos_devstack.processes import StartupError

ResourceType = Literal["topic", "group"]
PatternType = Literal["literal", "prefixed"]
INTEGRATOR_PLACEHOLDER = "{integrator}"
_INTEGRATOR_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?")
_OPERATIONS = {"Read", "Write", "Describe"}
DEFAULT_BOOTSTRAP = "$KAFKA_BOOTSTRAP_SERVERS"
DEFAULT_COMMAND_CONFIG = "admin.properties"


def acls_file() -> Path:
    return repository_root() / "deploy" / "kafka" / "acls.toml"


@dataclass(frozen=True)
class Grant:
    """Some operations allowed on resources of one type, named in full or by a prefix."""

    operations: tuple[str, ...]
    resource_type: ResourceType
    names: tuple[str, ...]
    pattern: PatternType
    why: str


@dataclass(frozen=True)
class Principal:
    principal: str
    description: str
    grants: tuple[Grant, ...]
    integrator: bool = False

    def for_integrator(self, name: str) -> Principal:
        """This template with ``{integrator}`` replaced by ``name``."""
        if not _INTEGRATOR_NAME.fullmatch(name):
            raise ValueError(
                f"integrator name {name!r}: lower case letters, digits and inner dashes only"
            )

        def fill(text: str) -> str:
            return text.replace(INTEGRATOR_PLACEHOLDER, name)

        grants = tuple(
            Grant(g.operations, g.resource_type, tuple(map(fill, g.names)), g.pattern, g.why)
            for g in self.grants
        )
        return Principal(fill(self.principal), self.description, grants, integrator=True)


@dataclass(frozen=True)
class Binding:
    """One ACL as Kafka stores it (allow, any host)."""

    principal: str
    resource_type: ResourceType
    pattern: PatternType
    name: str
    operation: str

    def allows(self, resource_type: ResourceType, name: str, operation: str) -> bool:
        """Whether this ACL lets its principal do ``operation`` on that resource (Read and
        Write imply Describe, as in Kafka)."""
        if resource_type != self.resource_type:
            return False
        matches = name == self.name if self.pattern == "literal" else name.startswith(self.name)
        implied = operation == "Describe" and self.operation in {"Read", "Write"}
        return matches and (operation == self.operation or implied)


def _grant(raw: dict[str, Any]) -> Grant:
    kinds = [kind for kind in ("topics", "groups") if kind in raw]
    if len(kinds) != 1:
        raise ValueError(f"a grant names topics or groups, one of them: {raw}")
    operations = tuple(raw["operations"])
    if not operations or not set(operations) <= _OPERATIONS:
        raise ValueError(f"operations {operations}: expected some of {sorted(_OPERATIONS)}")
    resource_type: ResourceType = "topic" if kinds[0] == "topics" else "group"
    pattern: PatternType = "prefixed" if raw.get("prefixed", False) else "literal"
    return Grant(operations, resource_type, tuple(raw[kinds[0]]), pattern, str(raw["why"]))


def load(path: Path | None = None) -> tuple[Principal, ...]:
    """The principals of the ACL file, the integrator's a template (``integrator``)."""
    data = tomllib.loads((path or acls_file()).read_text(encoding="utf-8"))
    return tuple(
        Principal(
            principal=str(raw["principal"]),
            description=str(raw["description"]),
            grants=tuple(_grant(grant) for grant in raw["allow"]),
            integrator=bool(raw.get("integrator", False)),
        )
        for raw in data["principals"]
    )


def principals(
    integrators: Iterable[str] = (), *, platform: bool = True, path: Path | None = None
) -> list[Principal]:
    """The platform's principals (unless ``platform`` is false), then one per integrator."""
    loaded = load(path)
    found = [p for p in loaded if not p.integrator] if platform else []
    templates = [p for p in loaded if p.integrator]
    found += [template.for_integrator(name) for name in integrators for template in templates]
    return found


def bindings(chosen: Iterable[Principal]) -> list[Binding]:
    return [
        Binding(p.principal, grant.resource_type, grant.pattern, name, operation)
        for p in chosen
        for grant in p.grants
        for name in grant.names
        for operation in grant.operations
    ]


def command_arguments(principal: Principal, grant: Grant, bootstrap: str, config: str) -> list[str]:
    """The arguments of ``kafka-acls.sh`` (``AclCommand``) that add one grant."""
    arguments = ["--bootstrap-server", bootstrap, "--command-config", config, "--add"]
    arguments += ["--allow-principal", principal.principal]
    for operation in grant.operations:
        arguments += ["--operation", operation]
    if grant.pattern == "prefixed":
        arguments += ["--resource-pattern-type", "prefixed"]
    for name in grant.names:
        arguments += [f"--{grant.resource_type}", name]
    return arguments


def commands(
    chosen: Iterable[Principal],
    *,
    bootstrap: str = DEFAULT_BOOTSTRAP,
    command_config: str = DEFAULT_COMMAND_CONFIG,
) -> list[list[str]]:
    return [
        command_arguments(principal, grant, bootstrap, command_config)
        for principal in chosen
        for grant in principal.grants
    ]


def shell_script(
    chosen: Iterable[Principal],
    *,
    bootstrap: str = DEFAULT_BOOTSTRAP,
    command_config: str = DEFAULT_COMMAND_CONFIG,
) -> str:
    """The commands, one per line, ready for a shell (``$KAFKA_BOOTSTRAP_SERVERS`` expands)."""
    lines = []
    for arguments in commands(chosen, bootstrap=bootstrap, command_config=command_config):
        quoted = [
            f'"{argument}"' if argument.startswith("$") else shlex.quote(argument)
            for argument in arguments
        ]
        lines.append(" ".join(["kafka-acls.sh", *quoted]))
    return "\n".join(lines) + "\n"


def markdown_table(chosen: Iterable[Principal]) -> str:
    """One row per grant: the table of docs/operators.md."""
    rows = [
        "| Principal | Operations | Resource | Why |",
        "|---|---|---|---|",
    ]
    for principal in chosen:
        for grant in principal.grants:
            suffix = "*" if grant.pattern == "prefixed" else ""
            names = ", ".join(f"`{name}{suffix}`" for name in grant.names)
            kind = "topic" if grant.resource_type == "topic" else "group"
            plural = "s" if len(grant.names) > 1 else ""
            rows.append(
                f"| `{principal.principal}` | {', '.join(grant.operations)} "
                f"| {kind}{plural} {names} | {grant.why} |"
            )
    return "\n".join(rows) + "\n"


def apply(
    chosen: Iterable[Principal], bootstrap: str, command_config: Path, *, timeout: float = 120.0
) -> str:
    """Grant the ACLs with Kafka's ``AclCommand``, every command in one JVM
    (deploy/kafka/AclBatch.java); returns what the commands printed."""
    batch = commands(chosen, bootstrap=bootstrap, command_config=str(command_config))
    return run_acl_commands(batch, timeout=timeout)


def run_acl_commands(batch: Sequence[Sequence[str]], *, timeout: float = 120.0) -> str:
    """Run ``AclCommand`` once per argument list, in one JVM; raise if one fails."""
    launcher = repository_root() / "deploy" / "kafka" / "AclBatch.java"
    classpath = f"{ensure_jars()}/*:{ensure_tools_jar()}"
    for arguments in batch:
        if any("\n" in argument for argument in arguments):
            raise ValueError(f"an argument holds a line break: {arguments}")
    text = "".join("\n".join(arguments) + "\n\n" for arguments in batch)
    result = subprocess.run(
        ["java", "-Xmx256m", "-cp", classpath, str(launcher)],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        output = f"{result.stdout}{result.stderr}"
        raise StartupError(f"kafka-acls failed ({result.returncode}):\n{output}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kairos_devstack.kafka_acls",
        description="The platform's Kafka ACLs (deploy/kafka/acls.toml).",
    )
    output = parser.add_mutually_exclusive_group(required=True)
    output.add_argument("--print", action="store_true", help="print kafka-acls.sh commands")
    output.add_argument("--table", action="store_true", help="print the Markdown table")
    parser.add_argument(
        "--integrator",
        action="append",
        default=[],
        metavar="NAME",
        help="add the ACLs of User:integrator-NAME (repeatable)",
    )
    parser.add_argument(
        "--no-platform",
        dest="platform",
        action="store_false",
        help="leave out the services' and operators' ACLs",
    )
    parser.add_argument("--bootstrap-server", default=DEFAULT_BOOTSTRAP)
    parser.add_argument("--command-config", default=DEFAULT_COMMAND_CONFIG)
    args = parser.parse_args(argv)
    try:
        chosen = principals(args.integrator, platform=args.platform)
    except ValueError as error:
        parser.error(str(error))
    if args.table:
        print(markdown_table(chosen), end="")
    else:
        print(
            shell_script(
                chosen, bootstrap=args.bootstrap_server, command_config=args.command_config
            ),
            end="",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
