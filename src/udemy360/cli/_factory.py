"""Turn ``Settings`` into credentials, clients, the store and sync options.

The one place that knows how a setting maps onto a constructor argument; commands, the service
and the demo all build their objects here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from udemy360.config import ConfigError, ConfigProblem, Settings

if TYPE_CHECKING:
    from udemy360.learning360 import Learning360Client, Learning360Credentials
    from udemy360.store import Store
    from udemy360.sync import SyncOptions
    from udemy360.udemy import UdemyClient, UdemyCredentials

UDEMY_REQUIRED = (
    "udemy.account_name",
    "udemy.account_id",
    "udemy.client_id",
    "udemy.client_secret",
)
L360_REQUIRED = ("learning360.client_id", "learning360.client_secret")
SETUP_REQUIRED = (
    "udemy.account_name",
    "learning360.group_id",
    "learning360.owner_id",
    *L360_REQUIRED,
)
"""What ``setup`` needs to create or adopt the integration."""
SYNC_REQUIRED = (*UDEMY_REQUIRED, *L360_REQUIRED, "learning360.owner_id")
"""What a sync (and the daily service) needs besides the integration id, which the store has."""


def require(settings: Settings, names: tuple[str, ...], *, config_path: Path) -> None:
    """Raise ``ConfigError`` naming every unset setting of ``names``.

    Commands call it before opening the store, so a missing configuration creates no database.
    With no file at ``config_path`` the message says so first: that is usually the cause.

    Raises:
        ConfigError: one or more settings are unset.
    """
    try:
        settings.require(*names)
    except ConfigError as exc:
        if config_path.exists():
            raise
        raise ConfigError(
            f"no configuration file at {config_path.resolve()}, and {exc}", problems=exc.problems
        ) from None


def missing(settings: Settings, names: tuple[str, ...]) -> tuple[str, ...]:
    """Return the dotted settings among ``names`` that have no value."""
    try:
        settings.require(*names)
    except ConfigError as exc:
        return tuple(problem.setting for problem in exc.problems)
    return ()


def udemy_credentials(settings: Settings) -> UdemyCredentials:
    """Return the Udemy credentials.

    Raises:
        ConfigError: a needed setting is missing or invalid.
    """
    from udemy360.udemy import UdemyConfigError, UdemyCredentials

    settings.require(*UDEMY_REQUIRED)
    section = settings.udemy
    assert section.client_secret is not None  # checked by require()
    try:
        return UdemyCredentials(
            account_name=str(section.account_name),
            account_id=str(section.account_id),
            client_id=str(section.client_id),
            client_secret=section.client_secret,
            base_url=section.base_url,
        )
    except (UdemyConfigError, ValueError) as exc:
        problem = ConfigProblem("udemy", _first_line(exc))
        raise ConfigError(str(problem), problems=[problem]) from None


def learning360_credentials(settings: Settings) -> Learning360Credentials:
    """Return the 360Learning credentials.

    Raises:
        ConfigError: a needed setting is missing or invalid.
    """
    from udemy360.learning360 import Learning360Credentials

    settings.require(*L360_REQUIRED)
    section = settings.learning360
    assert section.client_secret is not None
    try:
        return Learning360Credentials(
            client_id=str(section.client_id),
            client_secret=section.client_secret,
            region=section.region,
            base_url=section.base_url,
        )
    except ValueError as exc:
        problem = ConfigProblem("learning360", _first_line(exc))
        raise ConfigError(str(problem), problems=[problem]) from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def udemy_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> UdemyClient:
    """Return a Udemy client with the configured limits."""
    from udemy360.udemy import UdemyClient

    return UdemyClient(
        udemy_credentials(settings),
        transport=transport,
        concurrency=settings.limits.udemy_concurrency,
        requests_per_second=settings.limits.udemy_requests_per_second,
        deadline=settings.limits.request_deadline,
    )


def learning360_client(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Learning360Client:
    """Return a 360Learning client with the configured limits."""
    from udemy360.learning360 import Learning360Client

    return Learning360Client(
        learning360_credentials(settings),
        transport=transport,
        writes_per_second=settings.limits.l360_writes_per_second,
        reads_per_second=settings.limits.l360_reads_per_second,
        max_bulk_in_flight=settings.limits.bulk_in_flight,
        deadline=settings.limits.request_deadline,
    )


def open_store(settings: Settings) -> Store:
    """Open (and migrate) the configured store.

    Raises:
        StoreUnavailable: the database of ``store_url`` cannot be opened (malformed URL, server
            unreachable, file or directory that cannot be created); the CLI exits 2.
    """
    from udemy360.store import Store

    return Store.open(settings.store_url)


def sync_options(settings: Settings, *, integration_id: str | None = None) -> SyncOptions:
    """Return the engine options; the integration id comes from the store when not configured.

    Raises:
        ConfigError: the owner, account or integration is not set.
    """
    from udemy360.mapping import launch_hosts
    from udemy360.sync import SyncOptions

    settings.require("udemy.account_name", "learning360.owner_id")
    chosen = integration_id or settings.learning360.integration_id
    if not chosen:
        problem = ConfigProblem(
            "learning360.integration_id", "not set: run 'udemy360 setup' to create the integration"
        )
        raise ConfigError(str(problem), problems=[problem])
    limits = settings.limits
    return SyncOptions(
        connection_id=settings.connection_id,
        integration_id=chosen,
        owner_id=str(settings.learning360.owner_id),
        account_name=str(settings.udemy.account_name),
        tags_enabled=settings.options.tags,
        learning_paths_enabled=settings.options.learning_paths,
        launch_hosts=launch_hosts(settings.udemy.base_url),
        max_archive_share=limits.max_archive_share,
        stats_overlap_days=limits.stats_overlap_days,
        full_stats_every_days=limits.full_stats_every_days,
    )
