"""What every command shares: the global options, loading settings, exit codes, failing.

Commands, the job helpers and the demo import from here; nothing here imports a command module,
so ``cli`` has no import cycle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer
from rich.markup import escape

from udemy360.cli import _factory
from udemy360.cli._render import console
from udemy360.config import Settings, default_config_path, load_settings
from udemy360.logs import add_secrets

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class LogFormat(StrEnum):
    """Log output formats."""

    console = "console"
    json = "json"


@dataclass(frozen=True, slots=True)
class CliState:
    """Global options, shared by every command."""

    config_path: Path
    explicit: bool
    log_format: LogFormat
    verbose: bool


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``message`` (as text: brackets are not markup) on stderr; exit with ``code``."""
    console(stderr=True).print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def cli_state(ctx: typer.Context) -> CliState:
    """Return the global options of the command line ``ctx`` belongs to."""
    state = ctx.find_root().obj
    if not isinstance(state, CliState):
        path, explicit = default_config_path(os.environ)
        return CliState(path, explicit, LogFormat.console, False)
    return state


def load(
    ctx: typer.Context, *, must_exist: bool | None = None, require: tuple[str, ...] = ()
) -> Settings:
    """Load settings for a command and check that the ``require``d ones are set.

    Call it before opening the store, so a missing configuration creates no database. A
    ``ConfigError`` exits with code 2 (``ErrorMappingGroup``).
    """
    state = cli_state(ctx)
    settings = load_settings(
        state.config_path,
        must_exist=state.explicit if must_exist is None else must_exist,
    )
    add_secrets(settings.secret_values())
    _factory.require(settings, require, config_path=state.config_path)
    return settings
