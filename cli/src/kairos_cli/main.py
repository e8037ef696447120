"""``kairos …``: the operators' command line."""

from __future__ import annotations

import typer

app = typer.Typer(name="kairos", help="Operate the Kairos platform.", no_args_is_help=True)
