"""The ``udemy360`` command: set up, check, sync, inspect runs and run the daily service.

Commands are thin: they load settings, build the store and clients (``_factory``), call
``udemy360.sync`` and render the result. Exit codes: 0 ok, 1 failed, 2 usage or configuration
error, 3 a sync finished with item-level errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from udemy360.cli import _factory
from udemy360.cli._context import (
    EXIT_FAILED,
    EXIT_USAGE,
    CliState,
    LogFormat,
    cli_state,
    fail,
    load,
)
from udemy360.cli._errors import ErrorMappingGroup
from udemy360.cli._jobs import (
    check_async,
    combined_exit_code,
    setup_async,
    sync_async,
)
from udemy360.cli._learners import learners_app
from udemy360.cli._render import console, render_report
from udemy360.config import (
    CONFIG_ENV,
    ConfigError,
    InitAnswers,
    Settings,
    default_config_path,
    load_settings,
)
from udemy360.logs import configure_logging

if TYPE_CHECKING:
    from udemy360.store import Store

_T = TypeVar("_T")

app = typer.Typer(
    cls=ErrorMappingGroup,  # configuration and store errors: a message and exit 2, everywhere
    help=(
        "udemy360 keeps a 360Learning platform in step with a Udemy Business account: "
        "courses and public learning paths become external courses, categories become tags, "
        "learner progress becomes course statistics.\n\n"
        "First time: 'udemy360 init', then 'udemy360 check', then 'udemy360 setup'. "
        "Daily: 'udemy360 run' (service) or 'udemy360 sync all' from cron."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
sync_app = typer.Typer(help="Run one synchronisation now.", no_args_is_help=True)
runs_app = typer.Typer(help="Show the run history, or one run's full report.")
config_app = typer.Typer(help="Inspect or maintain the configuration file.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")
app.add_typer(runs_app, name="runs")
app.add_typer(config_app, name="config")
app.add_typer(learners_app, name="learners")


def _run(coro: Awaitable[_T]) -> _T:
    async def runner() -> _T:
        return await coro

    return asyncio.run(runner())


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help=f"Configuration file (default ./udemy360.toml, or ${CONFIG_ENV}).",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="Log lines as human text or JSON.")
    ] = LogFormat.console,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Keep 360Learning in step with Udemy Business."""
    if config is not None:
        path, explicit = config, True
    else:
        path, explicit = default_config_path(os.environ)
    ctx.obj = CliState(path, explicit, log_format, verbose)
    configure_logging(fmt=log_format.value, verbose=verbose)


@app.command()
def version() -> None:
    """Print the installed version."""
    from udemy360 import __version__

    typer.echo(__version__)


# --- init / config ------------------------------------------------------------------------------


def _ask(value: str | None, prompt: str, *, interactive: bool, default: str = "") -> str:
    if value is not None:
        return value
    if not interactive:
        return default
    answer: str = typer.prompt(prompt, default=default or "", show_default=bool(default))
    return answer.strip()


def _ask_secret(value: str | None, prompt: str, *, interactive: bool) -> str | None:
    if value is not None:
        return value or None
    if not interactive:
        return None
    answer: str = typer.prompt(prompt, default="", hide_input=True, show_default=False)
    return answer.strip() or None


@app.command()
def init(
    ctx: typer.Context,
    non_interactive: Annotated[
        bool, typer.Option("--non-interactive", help="Do not ask; take flags only.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    udemy_account_name: Annotated[str | None, typer.Option(help="e.g. 'acme'.")] = None,
    udemy_account_id: Annotated[str | None, typer.Option(help="Numeric id.")] = None,
    udemy_client_id: Annotated[str | None, typer.Option()] = None,
    udemy_client_secret: Annotated[
        str | None, typer.Option(help="Stored encrypted; prefer the prompt.")
    ] = None,
    udemy_base_url: Annotated[str | None, typer.Option(help="API base URL override.")] = None,
    l360_region: Annotated[str | None, typer.Option(help="eu or us.")] = None,
    l360_base_url: Annotated[str | None, typer.Option(help="API base URL override.")] = None,
    l360_client_id: Annotated[str | None, typer.Option()] = None,
    l360_client_secret: Annotated[
        str | None, typer.Option(help="Stored encrypted; prefer the prompt.")
    ] = None,
    group_id: Annotated[str | None, typer.Option(help="360Learning target group id.")] = None,
    owner_id: Annotated[str | None, typer.Option(help="360Learning owner (author) id.")] = None,
    platform_name: Annotated[str | None, typer.Option(help="Name learners see.")] = None,
    tags: Annotated[bool | None, typer.Option("--tags/--no-tags", help="Sync tags.")] = None,
    learning_paths: Annotated[
        bool | None, typer.Option("--learning-paths/--no-learning-paths", help="Sync paths.")
    ] = None,
    store_url: Annotated[str | None, typer.Option(help="Database URL.")] = None,
) -> None:
    """Write a commented configuration file; secrets are encrypted with a new key."""
    from udemy360.cli._init import write_initial_config

    state = cli_state(ctx)
    path = state.config_path
    if path.exists() and not force:
        fail(f"{path} already exists: pass --force to overwrite it", EXIT_USAGE)
    ask = not non_interactive
    answers = InitAnswers(
        udemy_account_name=_ask(udemy_account_name, "Udemy account name (acme)", interactive=ask),
        udemy_account_id=_ask(udemy_account_id, "Udemy account id (numeric)", interactive=ask),
        udemy_client_id=_ask(udemy_client_id, "Udemy client id", interactive=ask),
        udemy_base_url=udemy_base_url or None,
        l360_region=_ask(l360_region, "360Learning region (eu/us)", interactive=ask, default="eu"),
        l360_base_url=l360_base_url or None,
        l360_client_id=_ask(l360_client_id, "360Learning client id", interactive=ask),
        l360_group_id=_ask(group_id, "360Learning target group id", interactive=ask),
        l360_owner_id=_ask(owner_id, "360Learning owner (author) user id", interactive=ask),
        l360_platform_name=_ask(
            platform_name, "Platform name learners see", interactive=ask, default="Udemy"
        ),
        tags=bool(tags) if tags is not None else (ask and typer.confirm("Sync tags?", False)),
        learning_paths=bool(learning_paths)
        if learning_paths is not None
        else (ask and typer.confirm("Sync public learning paths?", False)),
        store_url=store_url,
    )
    udemy_secret = _ask_secret(udemy_client_secret, "Udemy client secret", interactive=ask)
    l360_secret = _ask_secret(l360_client_secret, "360Learning client secret", interactive=ask)
    outcome = write_initial_config(
        path, answers, udemy_secret=udemy_secret, l360_secret=l360_secret
    )
    out = console()
    out.print(f"Wrote {outcome.config_path}")
    if outcome.key_path is not None:
        verb = "Created" if outcome.key_created else "Reused"
        out.print(
            f"{verb} the encryption key {outcome.key_path} (mode 0600): keep it with the file"
        )
    if outcome.encrypted:
        out.print("Encrypted: " + ", ".join(outcome.encrypted))
    try:
        load_settings(path)
    except ConfigError as exc:
        out.print(f"[yellow]The file needs attention:[/yellow]\n{exc}")
        raise typer.Exit(EXIT_USAGE) from None
    out.print("Next: 'udemy360 check', then 'udemy360 setup'.")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings (file + environment), secrets masked."""
    settings = load(ctx)
    typer.echo(json.dumps(settings.redacted(), indent=2, default=str))


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print which configuration file is used."""
    typer.echo(str(cli_state(ctx).config_path.resolve()))


@config_app.command("encrypt")
def config_encrypt(ctx: typer.Context) -> None:
    """Encrypt plain-text secrets in the configuration file in place."""
    from udemy360.cli._init import encrypt_plaintext_secrets

    path = cli_state(ctx).config_path
    if not path.exists():
        fail(f"{path} not found: run 'udemy360 init'", EXIT_USAGE)
    changed = encrypt_plaintext_secrets(path)
    typer.echo("Encrypted: " + ", ".join(changed) if changed else "No plain-text secret found.")


# --- check / setup ------------------------------------------------------------------------------


@app.command()
def check(ctx: typer.Context) -> None:
    """Test both sides (credentials, scopes, group, owner, integration); exit 1 if any fails."""
    settings = load(ctx)
    raise typer.Exit(_run(check_async(settings)))


@app.command()
def setup(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what set-up would do; write nothing.")
    ] = False,
) -> None:
    """SETUP INTEGRATION: create or adopt the 360Learning integration (idempotent)."""
    settings = load(ctx, require=_factory.SETUP_REQUIRED)
    path = cli_state(ctx).config_path
    raise typer.Exit(_run(setup_async(settings, path, dry_run=dry_run)))


# --- sync ---------------------------------------------------------------------------------------


def _sync_command(
    ctx: typer.Context,
    jobs: tuple[str, ...],
    *,
    dry_run: bool,
    full: bool | None = None,
    allow_mass_archive: bool = False,
) -> NoReturn:
    settings = load(ctx, require=_factory.SYNC_REQUIRED)
    state = cli_state(ctx)
    show_progress = sys.stderr.isatty() and state.log_format is LogFormat.console
    reports = _run(
        sync_async(
            settings,
            jobs,
            dry_run=dry_run,
            full=full,
            allow_mass_archive=allow_mass_archive,
            progress=show_progress,
        )
    )
    raise typer.Exit(combined_exit_code(reports))


DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Compute and report, write nothing to 360Learning.")
]
AllowMassArchive = Annotated[
    bool,
    typer.Option(
        "--allow-mass-archive", help="Archive even when more than max_archive_share would go."
    ),
]
Full = Annotated[
    bool | None,
    typer.Option(
        "--full/--incremental",
        help="Statistics: pull all activity (default: automatic, weekly full).",
        show_default=False,
    ),
]


@sync_app.command("courses")
def sync_courses(
    ctx: typer.Context, dry_run: DryRun = False, allow_mass_archive: AllowMassArchive = False
) -> None:
    """Sync the catalog: courses, public learning paths and tags."""
    _sync_command(ctx, ("courses",), dry_run=dry_run, allow_mass_archive=allow_mass_archive)


@sync_app.command("stats")
def sync_stats(ctx: typer.Context, dry_run: DryRun = False, full: Full = None) -> None:
    """Sync learners' statistics."""
    _sync_command(ctx, ("stats",), dry_run=dry_run, full=full)


@sync_app.command("all")
def sync_all(
    ctx: typer.Context,
    dry_run: DryRun = False,
    full: Full = None,
    allow_mass_archive: AllowMassArchive = False,
) -> None:
    """Sync the catalog, then the statistics."""
    _sync_command(
        ctx,
        ("courses", "stats"),
        dry_run=dry_run,
        full=full,
        allow_mass_archive=allow_mass_archive,
    )


# --- runs ---------------------------------------------------------------------------------------


@runs_app.callback(invoke_without_command=True)
def runs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 20,
) -> None:
    """Show the latest runs of this connection."""
    if ctx.invoked_subcommand is not None:
        return
    from udemy360.cli._render import render_runs

    settings = load(ctx)
    store = _factory.open_store(settings)
    try:
        rows = store.runs.list(settings.connection_id, limit=limit)
    finally:
        store.close()
    if not rows:
        typer.echo("No runs yet.")
        return
    render_runs(console(), rows)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="The run id (see 'udemy360 runs').")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Rows per table.")] = 200,
) -> None:
    """Show one run's full report, its item errors and its unmatched learners."""
    from udemy360.cli._render import render_outcomes
    from udemy360.sync import RunReport

    settings = load(ctx)
    store = _factory.open_store(settings)
    try:
        row = store.runs.get(run_id)
        if row is None:
            fail(f"no run {run_id}: see 'udemy360 runs'", EXIT_USAGE)
        out = console()
        if row.report:
            render_report(out, RunReport.from_dict(row.report))
        else:
            out.print(f"run {row.run_id} ({row.job}) is {row.status}, started {row.started_at}")
            for error in row.errors:
                out.print(f"[red]error:[/red] {error}")
        render_outcomes(
            out, "Item errors", store.runs.iter_outcomes(run_id, outcome="error"), limit
        )
        unmatched = render_outcomes(
            out,
            "Unmatched learners (no 360Learning user with that email)",
            store.runs.iter_outcomes(run_id, outcome="unmatched"),
            limit,
        )
        if unmatched:
            out.print(
                "Their statistics wait and are sent on the first statistics run after "
                "360Learning knows the learner, or an alias rule matches them: see "
                "'udemy360 learners unmatched'."
            )
        render_outcomes(
            out, "Skipped rows", store.runs.iter_outcomes(run_id, outcome="skipped"), limit
        )
    finally:
        store.close()


# --- deactivate ---------------------------------------------------------------------------------


@app.command()
def deactivate(
    ctx: typer.Context,
    delete_integration: Annotated[
        bool,
        typer.Option(
            "--delete-integration",
            help="Also delete the 360Learning integration, which archives all its courses.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")
    ] = False,
) -> None:
    """DEACTIVATE: stop scheduled syncs for this connection ('setup' re-activates it)."""
    settings = load(ctx, require=_factory.L360_REQUIRED if delete_integration else ())
    store = _factory.open_store(settings)
    try:
        row = store.connections.get(settings.connection_id)
        if row is None:
            fail("this connection was never set up: nothing to deactivate", EXIT_USAGE)
        if dry_run:
            typer.echo(f"Dry run: would deactivate connection {settings.connection_id!r}.")
            if delete_integration and row.integration_id:
                typer.echo(
                    f"Dry run: would delete integration {row.integration_id}; 360Learning "
                    "would archive its courses."
                )
            typer.echo("Nothing was changed.")
            return
        if (
            delete_integration
            and row.integration_id
            and not yes
            and not typer.confirm(
                f"Delete 360Learning integration {row.integration_id}? 360Learning archives "
                "all of its courses.",
                default=False,
            )
        ):
            raise typer.Exit(EXIT_FAILED)
        store.connections.set_active(settings.connection_id, False)
        typer.echo(f"Connection {settings.connection_id!r} deactivated: no more scheduled syncs.")
        if delete_integration:
            deleted = _run(_delete_integration(settings, store))
            if deleted:
                typer.echo(f"Deleted integration {deleted}; its courses are archived.")
            else:
                typer.echo("No integration was recorded: nothing deleted.")
    finally:
        store.close()


async def _delete_integration(settings: Settings, store: Store) -> str | None:
    from udemy360.sync.admin.setup import delete_integration

    async with _factory.learning360_client(settings) as l360:
        return await delete_integration(l360, store, settings.connection_id)


# --- service, sandbox, demo ---------------------------------------------------------------------


@app.command()
def run(
    ctx: typer.Context,
    grace: Annotated[
        float, typer.Option(help="Seconds a running job gets to finish after SIGTERM.")
    ] = 30.0,
) -> None:
    """Run the daily service: courses at 07:30, statistics at 07:45 (configurable)."""
    from udemy360.cli._service import serve

    settings = load(ctx, require=_factory.SYNC_REQUIRED)
    raise typer.Exit(asyncio.run(serve(settings, grace=grace)))


@app.command()
def sandbox(
    udemy_port: Annotated[int, typer.Option(min=0, max=65535, help="0 = any free port.")] = 8361,
    l360_port: Annotated[int, typer.Option(min=0, max=65535, help="0 = any free port.")] = 8362,
    scale: Annotated[float, typer.Option(help="Data volume (1.0 = 200 courses).")] = 1.0,
) -> None:
    """Serve both sandboxes on 127.0.0.1 and print a configuration for them (Ctrl-C stops)."""
    from udemy360.cli._demo import serve_sandboxes

    serve_sandboxes(udemy_port=udemy_port, l360_port=l360_port, scale=scale)


@app.command()
def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Keep the demo files here (default: temporary).")
    ] = None,
) -> None:
    """Run everything against local sandboxes: setup, check, catalog and statistics syncs."""
    from udemy360.cli._demo import run_demo

    raise typer.Exit(run_demo(directory))


def main() -> None:
    """Console-script entry point."""
    app()
