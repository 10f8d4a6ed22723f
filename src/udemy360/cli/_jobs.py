"""The jobs behind ``check``, ``setup`` and ``sync``, for the commands and the demo alike.

Each builds the store and clients from ``Settings`` (``_factory``), calls ``udemy360.sync`` and
renders the outcome; exit codes are decided here, never in the engine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from udemy360.cli import _factory
from udemy360.cli._context import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, fail
from udemy360.cli._render import console, render_check, render_report
from udemy360.config import Settings, write_config_value

if TYPE_CHECKING:
    from udemy360.store import ConnectionRow, Store
    from udemy360.sync import RunReport


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
                fail(exc.message)
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


def connection_ready(settings: Settings, store: Store) -> ConnectionRow:
    """Return the connection row; refuse (exit 1) when set-up never ran or it is deactivated."""
    row = store.connections.get(settings.connection_id)
    if row is None or not (row.integration_id or settings.learning360.integration_id):
        fail("this connection is not set up yet: run 'udemy360 setup' first")
    if not row.active:
        fail(
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
