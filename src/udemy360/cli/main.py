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
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from udemy360.cli import _factory
from udemy360.cli._errors import ErrorMappingGroup
from udemy360.cli._render import console, render_check, render_report
from udemy360.config import (
    CONFIG_ENV,
    ConfigError,
    InitAnswers,
    Settings,
    default_config_path,
    load_settings,
    write_config_value,
)
from udemy360.logs import add_secrets, configure_logging

if TYPE_CHECKING:
    from udemy360.store import ConnectionRow, Store
    from udemy360.sync import RunReport

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

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


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    console(stderr=True).print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _state(ctx: typer.Context) -> CliState:
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
    state = _state(ctx)
    settings = load_settings(
        state.config_path,
        must_exist=state.explicit if must_exist is None else must_exist,
    )
    add_secrets(settings.secret_values())
    _factory.require(settings, require, config_path=state.config_path)
    return settings


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

    state = _state(ctx)
    path = state.config_path
    if path.exists() and not force:
        _fail(f"{path} already exists: pass --force to overwrite it", EXIT_USAGE)
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
    typer.echo(str(_state(ctx).config_path.resolve()))


@config_app.command("encrypt")
def config_encrypt(ctx: typer.Context) -> None:
    """Encrypt plain-text secrets in the configuration file in place."""
    from udemy360.cli._init import encrypt_plaintext_secrets

    path = _state(ctx).config_path
    if not path.exists():
        _fail(f"{path} not found: run 'udemy360 init'", EXIT_USAGE)
    changed = encrypt_plaintext_secrets(path)
    typer.echo("Encrypted: " + ", ".join(changed) if changed else "No plain-text secret found.")


# --- check / setup ------------------------------------------------------------------------------


async def check_async(settings: Settings) -> int:
    """Run every check and print the verdicts; return the exit code."""
    from udemy360.sync.admin.check import CheckRequest, run_checks

    missing_udemy = _factory.missing(settings, _factory.UDEMY_REQUIRED)
    missing_l360 = _factory.missing(settings, _factory.L360_REQUIRED)
    section = settings.learning360
    request = CheckRequest(
        platform_name=section.platform_name,
        group_id=section.group_id,
        owner_id=section.owner_id,
        # without 360Learning credentials there is no integration to check: the store is not
        # opened, so a check of a missing configuration creates no database
        integration_id=section.integration_id
        or (None if missing_l360 else _stored_integration(settings)),
        tags_enabled=settings.options.tags,
        missing_udemy=missing_udemy,
        missing_l360=missing_l360,
    )
    udemy = None if missing_udemy else _factory.udemy_client(settings)
    l360 = None if missing_l360 else _factory.learning360_client(settings)
    try:
        report = await run_checks(udemy, l360, request)
    finally:
        if udemy is not None:
            await udemy.aclose()
        if l360 is not None:
            await l360.aclose()
    render_check(console(), report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _stored_integration(settings: Settings) -> str | None:
    from sqlalchemy.exc import SQLAlchemyError

    from udemy360.store import Store

    try:
        store = Store.open(settings.store_url)
    except (SQLAlchemyError, OSError):  # check must report, not crash, on an unusable store
        return None
    try:
        row = store.connections.get(settings.connection_id)
        return row.integration_id if row else None
    finally:
        store.close()


@app.command()
def check(ctx: typer.Context) -> None:
    """Test both sides (credentials, scopes, group, owner, integration); exit 1 if any fails."""
    settings = load(ctx)
    raise typer.Exit(_run(check_async(settings)))


async def setup_async(
    settings: Settings, config_path: Path | None, *, dry_run: bool = False
) -> int:
    """Create or adopt the integration, record it in the store and the config file."""
    from udemy360.sync.admin.setup import (
        SetupError,
        SetupRequest,
        ensure_integration,
        setup_integration,
    )

    settings.require(*_factory.SETUP_REQUIRED)
    section = settings.learning360
    store = _factory.open_store(settings)
    try:
        existing = store.connections.get(settings.connection_id)
        request = SetupRequest(
            connection_id=settings.connection_id,
            udemy_account=str(settings.udemy.account_name),
            platform_name=section.platform_name,
            group_id=str(section.group_id),
            owner_id=str(section.owner_id),
            integration_id=section.integration_id
            or (existing.integration_id if existing else None),
        )
        async with _factory.learning360_client(settings) as l360:
            try:
                if dry_run:
                    result = await ensure_integration(l360, request, dry_run=True)
                else:
                    result = await setup_integration(l360, store, request)
            except SetupError as exc:
                _fail(exc.message)
    finally:
        store.close()
    out = console()
    if dry_run:
        if result.action == "created":
            out.print(f"Dry run: would create integration {section.platform_name!r}.")
        elif result.action == "adopted":
            out.print(
                f"Dry run: would adopt integration {result.integration_id} and reconcile: "
                + ", ".join(result.changes)
            )
        else:
            out.print(f"Dry run: integration {result.integration_id} is already as wanted.")
        out.print("Nothing was written.")
        return EXIT_OK
    verb = {"created": "Created", "adopted": "Adopted", "unchanged": "Kept"}[result.action]
    out.print(f"{verb} integration {result.integration_id} ({section.platform_name!r})")
    if result.changes:
        out.print("Reconciled: " + ", ".join(result.changes))
    if result.reactivated:
        out.print("The connection was deactivated: scheduled syncs are active again.")
    if (
        config_path is not None
        and section.integration_id != result.integration_id
        and await asyncio.to_thread(config_path.exists)
    ):
        write_config_value(config_path, "learning360", "integration_id", result.integration_id)
        out.print(f"Recorded learning360.integration_id in {config_path}")
    out.print("Next: 'udemy360 sync courses' (or 'udemy360 run' for the daily service).")
    return EXIT_OK


@app.command()
def setup(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what set-up would do; write nothing.")
    ] = False,
) -> None:
    """SETUP INTEGRATION: create or adopt the 360Learning integration (idempotent)."""
    settings = load(ctx, require=_factory.SETUP_REQUIRED)
    path = _state(ctx).config_path
    raise typer.Exit(_run(setup_async(settings, path, dry_run=dry_run)))


# --- sync ---------------------------------------------------------------------------------------


def connection_ready(settings: Settings, store: Store) -> ConnectionRow:
    """Return the connection row; refuse (exit 1) when set-up never ran or it is deactivated."""
    row = store.connections.get(settings.connection_id)
    if row is None or not (row.integration_id or settings.learning360.integration_id):
        _fail("this connection is not set up yet: run 'udemy360 setup' first")
    if not row.active:
        _fail(
            f"connection {settings.connection_id!r} is deactivated: syncs are stopped. "
            "Run 'udemy360 setup' to activate it again."
        )
    return row


async def sync_async(
    settings: Settings,
    jobs: tuple[str, ...],
    *,
    dry_run: bool = False,
    full: bool | None = None,
    allow_mass_archive: bool = False,
    progress: bool = False,
    render: bool = True,
) -> list[RunReport]:
    """Run ``jobs`` ("courses", "stats") in order and return their reports."""
    from udemy360.cli._render import progress_sink
    from udemy360.logs import bind_run
    from udemy360.runtime import tune_gc
    from udemy360.sync import Clients, JobRequest, as_job, run_job

    tune_gc()  # the imports above are the long-lived heap

    store = _factory.open_store(settings)
    reports: list[RunReport] = []
    try:
        row = connection_ready(settings, store)
        options = _factory.sync_options(settings, integration_id=row.integration_id)
        async with (
            _factory.udemy_client(settings) as udemy,
            _factory.learning360_client(settings) as l360,
        ):
            for job in jobs:
                with (
                    bind_run(connection=settings.connection_id, job=job),
                    progress_sink(progress) as sink,
                ):
                    request = JobRequest(
                        as_job(job),
                        dry_run=dry_run,
                        full=full,
                        allow_mass_archive=allow_mass_archive,
                    )
                    report = await run_job(
                        request,
                        store=store,
                        clients=Clients(udemy, l360),
                        options=options,
                        progress=sink,
                    )
                reports.append(report)
                if render:
                    render_report(console(), report)
                    if report.status == "refused":
                        console().print(
                            "[yellow]The mass-archive guard stopped the run. If so many "
                            "courses really left Udemy, run 'udemy360 sync courses "
                            "--allow-mass-archive'.[/yellow]"
                        )
    finally:
        store.close()
    return reports


def run_exit_code(report: RunReport) -> int:
    """0 succeeded, 3 partial (some items failed), 1 failed, refused, locked or aborted."""
    if report.status == "succeeded":
        return EXIT_OK
    return EXIT_PARTIAL if report.status == "partial" else EXIT_FAILED


def combined_exit_code(reports: list[RunReport]) -> int:
    """1 if any run failed, else 3 if any finished with item errors, else 0."""
    codes = {run_exit_code(report) for report in reports}
    if EXIT_FAILED in codes:
        return EXIT_FAILED
    if EXIT_PARTIAL in codes:
        return EXIT_PARTIAL
    return EXIT_OK


def _sync_command(
    ctx: typer.Context,
    jobs: tuple[str, ...],
    *,
    dry_run: bool,
    full: bool | None = None,
    allow_mass_archive: bool = False,
) -> NoReturn:
    settings = load(ctx, require=_factory.SYNC_REQUIRED)
    state = _state(ctx)
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
            _fail(f"no run {run_id}: see 'udemy360 runs'", EXIT_USAGE)
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
                "Learners must use the same email in Udemy and 360Learning; their rows are "
                "sent again when they change and on the weekly full pull."
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
            _fail("this connection was never set up: nothing to deactivate", EXIT_USAGE)
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
