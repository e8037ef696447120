"""``python -m kairos_devstack run``: the local stack (see :mod:`kairos_devstack.stack`);
``… demo``: the whole story told to it (:mod:`kairos_devstack.story`)."""

from __future__ import annotations

import argparse
import sys

from kairos_devstack.kafka import ensure_jars
from kairos_devstack.paths import state_dir
from kairos_devstack.stack import run
from kairos_devstack.story import demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kairos_devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start Kafka, PostgreSQL, the SMTP sink and the four services")
    commands.add_parser("kafka-jars", help="resolve Kafka's jars from Maven Central into the cache")
    commands.add_parser("demo", help="tell the whole story to the stack `run` started")
    args = parser.parse_args(argv)
    if args.command == "kafka-jars":
        print(ensure_jars())
        return 0
    if args.command == "demo":
        return demo(state_dir())
    return run()


if __name__ == "__main__":
    sys.exit(main())
