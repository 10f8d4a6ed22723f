"""The ``udemy360`` command."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="udemy360: keep 360Learning in step with Udemy Business.", no_args_is_help=True
)


@app.callback()
def _root() -> None:
    """udemy360: keep 360Learning in step with Udemy Business."""


@app.command()
def version() -> None:
    """Print the installed version."""
    from udemy360 import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    app()
