"""``kairos …``: the operators' command line.

One module per command group; the service packages and the dev stack are imported only by the
commands that need them, so ``kairos --help`` stays quick.
"""

from __future__ import annotations

import logging

import typer

from kairos_cli import (
    accounts,
    dead_letters,
    designations,
    habilitations,
    operators,
    organisations,
    outbox,
    stack,
)
from kairos_cli.configuration import config
from kairos_cli.lag import lag
from kairos_cli.reconcile import reconcile

# aiokafka logs each failed connection attempt; the commands report what failed themselves.
logging.getLogger("aiokafka").addHandler(logging.NullHandler())

app = typer.Typer(
    name="kairos",
    help="Operate the Kairos platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(operators.app, name="operator")
app.add_typer(organisations.app, name="organisation")
app.add_typer(habilitations.app, name="habilitations")
app.add_typer(designations.app, name="designations")
app.add_typer(accounts.app, name="account")
app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(outbox.app, name="outbox")
app.command("lag")(lag)
app.command("config")(config)
app.command("reconcile")(reconcile)
