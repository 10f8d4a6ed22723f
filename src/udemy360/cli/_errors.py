"""The one place where configuration and store errors become a message and exit code 2.

Every command runs inside ``ErrorMappingGroup.main``, so a ``ConfigError`` raised anywhere
(loading settings, building a client, a required setting missing) or a store that cannot be
opened ends the same way, for every command: one paragraph on stderr naming the setting and the
fix, no traceback, exit code 2. Other exceptions are bugs and keep their traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, NoReturn

import typer
from rich.markup import escape
from typer.core import TyperGroup

from udemy360.cli._render import console
from udemy360.config import ConfigError, env_name

if TYPE_CHECKING:
    from udemy360.store import StoreUnavailable

EXIT_CONFIG: Final = 2


def print_config_error(message: str) -> None:
    """Print ``message`` as an error on stderr (as text: brackets are not markup)."""
    console(stderr=True).print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)


def exit_config_error(message: str) -> NoReturn:
    """Print ``message`` as a configuration error on stderr and exit with code 2."""
    print_config_error(message)
    raise typer.Exit(EXIT_CONFIG)


def store_error_message(exc: StoreUnavailable) -> str:
    """Say what went wrong with the store, and which setting to look at."""
    return (
        f"{exc}. Check store_url (in the configuration file or {env_name('store_url')}) and, "
        "for PostgreSQL, that the server is running and reachable."
    )


class ErrorMappingGroup(TyperGroup):
    """The root command group: maps configuration and store errors to exit code 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: object,
    ) -> object:
        """Run the command line; ``ConfigError`` or ``StoreUnavailable`` becomes a message, 2."""
        try:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        except ConfigError as exc:
            message = str(exc)
        except Exception as exc:
            # Imported here: loading the store costs every command's start-up, even --help.
            from udemy360.store import StoreUnavailable

            # Store.open raises it for a malformed URL, an unreachable server or a path it
            # cannot create; any other store error is a bug or a refused write, not a setting.
            if not isinstance(exc, StoreUnavailable):
                raise
            message = store_error_message(exc)
        print_config_error(message)
        if standalone_mode:
            sys.exit(EXIT_CONFIG)
        return EXIT_CONFIG  # what typer returns for an exit code outside standalone mode
