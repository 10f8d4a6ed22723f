"""Rich rendering of verdicts, run reports and run history; no logic lives here."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

if TYPE_CHECKING:
    from udemy360.store import (
        AliasRow,
        ItemOutcomeRow,
        RunRow,
        UnmatchedLearner,
        UnmatchedSummary,
    )
    from udemy360.sync import RunReport
    from udemy360.sync.admin.check import CheckReport

_MARKS: Final = {
    "pass": "[green]✓[/green]",
    "fail": "[red]✗[/red]",
    "warn": "[yellow]![/yellow]",
    "skip": "[dim]–[/dim]",
}
_STATUS_STYLE: Final = {
    "succeeded": "green",
    "partial": "yellow",
    "failed": "red",
    "refused": "red",
    "locked": "red",
    "aborted": "red",
    "running": "cyan",
}


def console(*, stderr: bool = False) -> Console:
    """Return a console on the current stdout (or stderr), wide enough for tables when piped."""
    stream = sys.stderr if stderr else sys.stdout
    interactive = stream.isatty()
    return Console(
        file=stream, width=None if interactive else 140, highlight=False, soft_wrap=False
    )


def render_check(out: Console, report: CheckReport) -> None:
    """Print one row per verdict, with the fix for those that did not pass."""
    table = Table(title="udemy360 check", show_lines=False)
    table.add_column("", width=1)
    table.add_column("Item")
    table.add_column("Result")
    table.add_column("Fix")
    for result in report.results:
        table.add_row(_MARKS[result.status], result.label, result.detail, result.fix or "")
    out.print(table)
    if report.ok:
        out.print("[green]All checks passed.[/green]")
    else:
        out.print(f"[red]{len(report.failed())} check(s) failed.[/red]")


def render_report(out: Console, report: RunReport, *, title: str | None = None) -> None:
    """Print a run report: status, counts, API calls and errors."""
    style = _STATUS_STYLE.get(report.status, "white")
    heading = title or f"{report.job} run {report.run_id if report.run_id is not None else '-'}"
    flags = [flag for flag, on in (("dry run", report.dry_run), ("full", report.full)) if on]
    table = Table(title=f"{heading}{' (' + ', '.join(flags) + ')' if flags else ''}")
    table.add_column("Counter")
    table.add_column("Value", justify="right")
    table.add_row("status", f"[{style}]{report.status}[/{style}]")
    table.add_row("duration", f"{report.duration:.1f}s")
    for key, value in report.counts.items():
        if value or key in ("fetched", "created", "updated", "unchanged"):
            table.add_row(key, str(value))
    calls = sum(report.calls.values())
    table.add_row("API calls", str(calls))
    out.print(table)
    if report.calls:
        calls_table = Table(title="API calls")
        calls_table.add_column("Endpoint")
        calls_table.add_column("Calls", justify="right")
        for endpoint, count in sorted(report.calls.items()):
            calls_table.add_row(endpoint, str(count))
        out.print(calls_table)
    if report.unmatched:
        out.print(
            f"[yellow]{len(report.unmatched)} learner(s) unknown to 360Learning[/yellow]: "
            "their statistics wait and are sent once 360Learning knows them "
            "(see 'udemy360 learners unmatched')"
        )
    for error in report.errors[:20]:
        out.print(f"[red]error:[/red] {error}")
    if len(report.errors) > 20:
        out.print(f"… {len(report.errors) - 20} more errors")


def render_runs(out: Console, rows: Sequence[RunRow]) -> None:
    """Print the run history, newest first."""
    table = Table(title="Runs")
    for column in ("ID", "Job", "Status", "Started (UTC)", "Duration", "Summary"):
        table.add_column(column)
    for row in rows:
        style = _STATUS_STYLE.get(str(row.status), "white")
        duration = (
            f"{(row.ended_at - row.started_at).total_seconds():.1f}s" if row.ended_at else "-"
        )
        summary = ", ".join(f"{k}={v}" for k, v in row.counts.items() if v)
        flags = "".join([" (dry run)" if row.dry_run else "", " (full)" if row.full else ""])
        table.add_row(
            str(row.run_id),
            row.job + flags,
            f"[{style}]{row.status}[/{style}]",
            row.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            duration,
            summary,
        )
    out.print(table)


def render_outcomes(out: Console, title: str, rows: Iterable[ItemOutcomeRow], limit: int) -> int:
    """Print per-item outcomes (unmatched learners, item errors); return how many there were."""
    table = Table(title=title)
    for column in ("Kind", "Item", "Learner", "Message"):
        table.add_column(column)
    count = 0
    for row in rows:
        count += 1
        if count <= limit:
            table.add_row(row.kind, row.external_id, row.learner_mail or "", row.message or "")
    if count:
        out.print(table)
        if count > limit:
            out.print(f"… and {count - limit} more")
    return count


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def render_unmatched(
    out: Console, summary: UnmatchedSummary, learners: Sequence[UnmatchedLearner]
) -> None:
    """Print the learners whose statistics wait for a 360Learning user, and a summary line."""
    if not summary.rows:
        out.print(
            "[green]No statistic is waiting: 360Learning knows every learner Udemy reports.[/green]"
        )
        return
    table = Table(title="Learners 360Learning does not know (their statistics wait)")
    table.add_column("Mail")
    table.add_column("Courses", justify="right")
    table.add_column("First seen (UTC)")
    table.add_column("Last reason")
    for learner in learners:
        table.add_row(
            escape(learner.mail),
            str(learner.courses),
            _when(learner.first_seen),
            escape(learner.last_error or ""),
        )
    out.print(table)
    since = summary.first_seen.strftime("%Y-%m-%d") if summary.first_seen else "-"
    out.print(
        f"{summary.rows} statistic(s) of {summary.learners} learner(s) wait, on "
        f"{summary.courses} course(s), since {since}."
    )
    if summary.learners > len(learners):
        out.print(
            f"… and {summary.learners - len(learners)} more learner(s): "
            f"'udemy360 learners unmatched --limit {summary.learners}' lists them all."
        )
    out.print(
        "Sent on the first statistics run after 360Learning knows their email, or an alias "
        "rule matches it: 'udemy360 learners alias add'."
    )


def render_aliases(out: Console, rows: Sequence[AliasRow]) -> None:
    """Print the connection's alias rules."""
    if not rows:
        out.print(
            "No alias rules: learners are matched by email alone (trimmed, case-insensitive)."
        )
        return
    table = Table(title="Alias rules (Udemy → 360Learning)")
    for column in ("Kind", "Udemy", "360Learning", "Added (UTC)"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.kind, escape(row.source), escape(row.target), _when(row.created_at))
    out.print(table)


def render_directory(
    out: Console,
    by_status: Mapping[str, int],
    last_read: datetime | None,
    *,
    aliases: int,
    waiting: UnmatchedSummary,
) -> None:
    """Print the learner directory's users by status and when it was last read."""
    if last_read is None:
        out.print(
            "The learner directory was never read: each statistics run reads it first "
            "(the 360Learning credentials need users:read; see 'udemy360 check')."
        )
    else:
        out.print(f"Learner directory: 360Learning's users as last read {_when(last_read)} UTC.")
    table = Table(title="Users by status")
    table.add_column("Status")
    table.add_column("Users", justify="right")
    for status, count in by_status.items():
        table.add_row(escape(status), str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{sum(by_status.values())}[/bold]")
    out.print(table)
    out.print(f"Alias rules: {aliases} ('udemy360 learners aliases').")
    out.print(
        f"Waiting: {waiting.rows} statistic(s) of {waiting.learners} learner(s) "
        "('udemy360 learners unmatched')."
    )


class RichProgress:
    """A ``ProgressSink`` drawing one rich progress bar per engine task."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, task: str, total: int | None) -> None:
        """Show a bar for ``task``."""
        if task in self._tasks:
            self._progress.update(self._tasks[task], total=total)
        else:
            self._tasks[task] = self._progress.add_task(task, total=total)

    def advance(self, task: str, n: int = 1) -> None:
        """Move ``task``'s bar forward."""
        if task not in self._tasks:
            self.start(task, None)
        self._progress.advance(self._tasks[task], n)

    def finish(self, task: str) -> None:
        """Complete ``task``'s bar."""
        if task in self._tasks:
            task_id = self._tasks[task]
            done = next(t.completed for t in self._progress.tasks if t.id == task_id)
            self._progress.update(task_id, total=done, completed=done)


@contextmanager
def progress_sink(enabled: bool) -> Iterator[RichProgress | None]:
    """Yield a rich progress sink on a terminal, else None (plain logs)."""
    if not enabled:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=False,
    )
    with progress:
        yield RichProgress(progress)
