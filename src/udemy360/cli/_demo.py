"""``udemy360 sandbox`` and ``udemy360 demo``: both sandboxes on loopback, and a full tour.

The demo is what ``make demo`` runs: sandboxes in this process, a throwaway configuration and
SQLite store, then setup → check → catalog sync → statistics sync, a short view of what landed
in (sandbox) 360Learning, the learners 360Learning does not know, a second run that sends
nothing, and an alias rule that matches a learner whose 360Learning mail differs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from udemy360.cli._factory import open_store
from udemy360.cli._learners import show_unmatched
from udemy360.cli._render import console
from udemy360.config import InitAnswers, Settings, load_settings
from udemy360.sandbox.learning360 import Learning360Sandbox
from udemy360.sandbox.server import serve_in_thread
from udemy360.sandbox.udemy import UdemySandbox, UdemyTenant

# A platform name 360Learning does not reserve (the sandbox reserves the native connector's).
DEMO_PLATFORM = "Udemy"


@dataclass(frozen=True, slots=True)
class Sandboxes:
    """Both sandboxes and where they listen."""

    udemy: UdemySandbox
    l360: Learning360Sandbox
    udemy_url: str  # the organization API root
    l360_url: str


def build_sandboxes(scale: float) -> tuple[UdemySandbox, Learning360Sandbox]:
    """Seed both sandboxes with the same learner population."""
    learners = max(10, int(300 * scale))
    tenant = UdemyTenant(
        courses=max(5, int(200 * scale)),
        learning_paths=max(1, int(12 * scale)),
        learners=learners,
        activity_rows=max(20, int(1_500 * scale)),
    )
    return UdemySandbox(tenant), Learning360Sandbox(learners=learners)


@contextmanager
def running_sandboxes(
    *, scale: float = 1.0, udemy_port: int = 0, l360_port: int = 0
) -> Iterator[Sandboxes]:
    """Start both sandboxes on 127.0.0.1 for the duration of the block."""
    udemy, l360 = build_sandboxes(scale)
    with ExitStack() as stack:
        udemy_root = stack.enter_context(serve_in_thread(udemy.app, port=udemy_port))
        l360_root = stack.enter_context(serve_in_thread(l360.app, port=l360_port))
        yield Sandboxes(udemy, l360, udemy.base_url(udemy_root), l360_root)


def sandbox_answers(boxes: Sandboxes, *, store_url: str | None = None) -> InitAnswers:
    """The ``init`` answers that point a configuration at the sandboxes."""
    creds = boxes.udemy.credentials_dict()
    return InitAnswers(
        udemy_account_name=creds["account_name"],
        udemy_account_id=creds["account_id"],
        udemy_client_id=creds["client_id"],
        udemy_base_url=boxes.udemy_url,
        l360_base_url=boxes.l360_url,
        l360_client_id=boxes.l360.client_id,
        l360_group_id=boxes.l360.group_id,
        l360_owner_id=boxes.l360.owner_id,
        l360_platform_name=DEMO_PLATFORM,
        tags=True,
        learning_paths=True,
        store_url=store_url,
    )


def sandbox_toml(boxes: Sandboxes) -> str:
    """A ready-to-use configuration for the sandboxes (their secrets are not real secrets)."""
    creds = boxes.udemy.credentials_dict()
    return (
        "[udemy]\n"
        f'account_name = "{creds["account_name"]}"\n'
        f'account_id = "{creds["account_id"]}"\n'
        f'client_id = "{creds["client_id"]}"\n'
        f'client_secret = "{creds["client_secret"]}"   # sandbox value\n'
        f'base_url = "{boxes.udemy_url}"\n\n'
        "[learning360]\n"
        f'base_url = "{boxes.l360_url}"\n'
        f'client_id = "{boxes.l360.client_id}"\n'
        f'client_secret = "{boxes.l360.client_secret}"   # sandbox value\n'
        f'group_id = "{boxes.l360.group_id}"\n'
        f'owner_id = "{boxes.l360.owner_id}"\n'
        f'platform_name = "{DEMO_PLATFORM}"\n\n'
        "[options]\ntags = true\nlearning_paths = true\n"
    )


def serve_sandboxes(*, udemy_port: int, l360_port: int, scale: float) -> None:
    """Serve both sandboxes until Ctrl-C, after printing a configuration for them."""
    out = console()
    with running_sandboxes(scale=scale, udemy_port=udemy_port, l360_port=l360_port) as boxes:
        out.print(f"Udemy sandbox:       {boxes.udemy_url}")
        out.print(f"360Learning sandbox: {boxes.l360_url}")
        out.print("\nSave this as udemy360.toml (then 'udemy360 config encrypt'):\n")
        out.print(sandbox_toml(boxes), markup=False)
        out.print("Serving; press Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.print("Stopped.")


def landed_view(out: Console, l360: Learning360Sandbox) -> None:
    """Print a few courses with their tags, the tag count and attempts by status."""
    world = l360.world
    tags = {tag.id: tag.name for tag in world.tags.values()}
    table = Table(title="In 360Learning now (first 8 courses)")
    for column in ("External id", "Name", "Lang", "Tags"):
        table.add_column(column)
    for course in list(world.courses.values())[:8]:
        names = [tags.get(tag_id, tag_id) for tag_id in world.course_tags.get(course.id, [])]
        table.add_row(
            course.external_id,
            str(course.data.get("name", ""))[:60],
            str(course.data.get("defaultLang", "")),
            ", ".join(names[:4]) + (" …" if len(names) > 4 else ""),
        )
    out.print(table)
    archived = sum(1 for course in world.courses.values() if course.status == "archived")
    attempts = [a for per_pair in world.attempts.values() for a in per_pair]
    by_status = Counter(
        "completed" if a.completed_at is not None else "in progress" for a in attempts
    )
    out.print(
        f"courses: {len(world.courses)} ({archived} archived) · tags: {len(world.tags)} · "
        f"attempts: {len(attempts)} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(by_status.items())) or 'none'})"
    )


def alias_demo(settings: Settings, boxes: Sandboxes) -> None:
    """Give a waiting learner a 360Learning account under another mail, alias it, sync stats."""
    from udemy360.cli._jobs import sync_async
    from udemy360.cli._learners import add_rule, parse_alias

    out = console()
    with open_store(settings) as store:
        waiting = store.stats.unmatched_learners(settings.connection_id, limit=1)
        if not waiting:
            out.print("No learner is waiting.")
            return
        udemy_mail = waiting[0].mail
        local, _, domain = udemy_mail.rpartition("@")
        l360_mail = f"{local}@corp.{domain}"
        boxes.l360.add_user(l360_mail)  # as a 360Learning admin would
        out.print(f"360Learning now has {l360_mail}; Udemy reports {udemy_mail}.", markup=False)
        out.print(f"$ udemy360 learners alias add --mail {udemy_mail} {l360_mail}", markup=False)
        add_rule(store, settings.connection_id, parse_alias("mail", udemy_mail, l360_mail))
    writes = boxes.l360.write_count
    [report] = asyncio.run(sync_async(settings, ("stats",), render=False))
    sent = report.counts.get("created", 0) + report.counts.get("updated", 0)
    out.print(
        f"stats: status {report.status}, sent {sent} statistic(s) by 360Learning user id "
        f"({boxes.l360.write_count - writes} write call(s)), still waiting "
        f"{report.counts.get('unmatched', 0)}"
    )


def run_demo(directory: Path | None, *, scale: float = 0.3) -> int:
    """Run the whole tour; return the exit code (0 when every step worked)."""
    from udemy360.cli._init import write_initial_config
    from udemy360.cli._jobs import check_async, combined_exit_code, setup_async, sync_async
    from udemy360.logs import add_secrets

    out = console()
    with ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="udemy360-")))
        directory.mkdir(parents=True, exist_ok=True)
        boxes = stack.enter_context(running_sandboxes(scale=scale))
        config_path = directory / "udemy360.toml"
        for stale in (config_path, directory / "udemy360.db"):
            stale.unlink(missing_ok=True)
        out.rule("1. init: a configuration for the sandboxes")
        write_initial_config(
            config_path,
            sandbox_answers(boxes),
            udemy_secret=boxes.udemy.credentials_dict()["client_secret"],
            l360_secret=boxes.l360.client_secret,
        )
        out.print(f"config: {config_path} (secrets encrypted), store: {directory / 'udemy360.db'}")
        settings = load_settings(config_path)
        add_secrets(settings.secret_values())

        out.rule("2. setup: create the 360Learning integration")
        asyncio.run(setup_async(settings, config_path))
        settings = load_settings(config_path)

        out.rule("3. check: both sides")
        check_code = asyncio.run(check_async(settings))

        out.rule("4. sync: catalog, then statistics")
        started = time.monotonic()
        reports = asyncio.run(sync_async(settings, ("courses", "stats")))
        out.print(f"both syncs took {time.monotonic() - started:.1f}s")

        out.rule("5. what landed")
        landed_view(out, boxes.l360)

        out.rule("6. learners 360Learning does not know: their statistics wait")
        with open_store(settings) as store:
            show_unmatched(store, settings.connection_id, limit=10)

        out.rule("7. a second run sends nothing")
        writes = boxes.l360.write_count
        again = asyncio.run(sync_async(settings, ("courses", "stats"), render=False))
        for report in again:
            counts = report.counts
            waiting = f", waiting {counts.get('unmatched', 0)}" if report.job == "stats" else ""
            out.print(
                f"{report.job}: status {report.status}, fetched {counts.get('fetched', 0)}, "
                f"unchanged {counts.get('unchanged', 0)}{waiting}"
            )
        out.print(f"writes sent: {boxes.l360.write_count - writes}")

        out.rule("8. an alias rule matches a learner whose 360Learning mail differs")
        alias_demo(settings, boxes)
        code = combined_exit_code(reports + again)
        # Unmatched learners are expected (the sandbox has some on purpose): partial is fine.
        return 0 if check_code == 0 and code in (0, 3) else 1
    return 1
