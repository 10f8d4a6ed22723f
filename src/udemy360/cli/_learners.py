"""``udemy360 learners``: the learners whose statistics wait, the directory, and alias rules.

A statistic is sent only for a learner 360Learning knows (the learner directory each statistics
run reads first); the others wait in the store with their payload and are sent on the first run
after their learner appears. Where a company's two sides disagree on a mail, alias rules match
them: an explicit mail alias, or a domain rewrite. A change takes effect on the next statistics
run, which sends what waits for a learner the rules now match.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from udemy360.cli import _factory
from udemy360.cli._context import EXIT_FAILED, EXIT_USAGE, fail, load
from udemy360.cli._render import console, render_aliases, render_directory, render_unmatched

if TYPE_CHECKING:
    from udemy360.store import Alias, AliasKind, AliasRow, Store

learners_app = typer.Typer(
    help=(
        "Learners 360Learning does not know (their statistics wait), the learner directory, "
        "and alias rules for mails that differ between Udemy and 360Learning."
    ),
    no_args_is_help=True,
)
alias_app = typer.Typer(
    help="Add, remove or import alias rules (a Udemy mail or domain → the 360Learning one).",
    no_args_is_help=True,
)
learners_app.add_typer(alias_app, name="alias")

# The statuses of 360Learning's UserDTO (core-api.openapi.json); others are counted as they come.
USER_STATUSES: Final = ("active", "invited", "deleted")
# Changes listed one by one by 'alias import'; the rest are counted.
_LISTED: Final = 20

# a DNS label: letters or digits (any script: IDN), inner hyphens, at most 63 characters
_LABEL: Final = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_DOMAIN_RE: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
# anything but "@", whitespace, control characters and lone surrogates (non-UTF-8 arguments)
_LOCAL_RE: Final = re.compile(r"[^@\s\x00-\x1f\x7f\ud800-\udfff]{1,64}")


class AliasInputError(ValueError):
    """An alias rule, or an alias file, that cannot be used; the message says why and where."""


def _check_domain(value: str, what: str) -> str:
    domain = value.strip().lower().removeprefix("@")
    if len(domain) > 253 or not _DOMAIN_RE.fullmatch(domain):
        raise AliasInputError(f"{what} {value!r} is not a domain (expected e.g. corp.com)")
    return domain


def _check_mail(value: str, what: str) -> str:
    mail = value.strip().lower()
    local, at, domain = mail.rpartition("@")
    if not (at and _LOCAL_RE.fullmatch(local) and _DOMAIN_RE.fullmatch(domain)):
        raise AliasInputError(f"{what} {value!r} is not an email address (expected name@corp.com)")
    return mail


def parse_alias(kind: str, source: str, target: str) -> Alias:
    """Return the rule as the store keeps it (trimmed, lower-case, a domain without ``@``).

    Raises:
        AliasInputError: an unknown kind, a mail that does not look like one, a domain that
            does not look like one, or a rule that maps a value to itself.
    """
    from udemy360.store import Alias

    kind = kind.strip().lower()
    if kind == "mail":
        rule = Alias(
            "mail", _check_mail(source, "Udemy mail"), _check_mail(target, "360Learning mail")
        )
    elif kind == "domain":
        rule = Alias(
            "domain",
            _check_domain(source, "Udemy domain"),
            _check_domain(target, "360Learning domain"),
        )
    else:
        raise AliasInputError(f"kind must be 'mail' or 'domain', not {kind!r}")
    if rule.source == rule.target:
        raise AliasInputError(f"the rule maps {rule.source} to itself")
    return rule


def read_alias_csv(text: str) -> list[Alias]:
    """Parse an alias file: a ``kind,source,target`` header, then one rule per line.

    Blank lines are skipped; a rule repeated with the same target counts once.

    Raises:
        AliasInputError: the header is wrong, or some lines are bad; every bad line is named
            by its number (lines count from 1, the header included).
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    rules: dict[tuple[AliasKind, str], tuple[Alias, int]] = {}
    header_seen = False
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not header_seen:
                header_seen = True
                if [cell.strip().lower() for cell in row] != ["kind", "source", "target"]:
                    raise AliasInputError(
                        f"line {line}: the first line must be the header kind,source,target"
                    )
                continue
            if len(row) != 3:
                problems.append(
                    f"line {line}: expected 3 fields (kind,source,target), not {len(row)}"
                )
                continue
            try:
                rule = parse_alias(*row)
            except AliasInputError as exc:
                problems.append(f"line {line}: {exc}")
                continue
            key = (rule.kind, rule.source)
            if key in rules and rules[key][0].target != rule.target:
                earlier, earlier_line = rules[key]
                problems.append(
                    f"line {line}: {rule.kind} {rule.source} already maps to {earlier.target} "
                    f"on line {earlier_line}"
                )
                continue
            rules.setdefault(key, (rule, line))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if not header_seen and not problems:
        raise AliasInputError("the file is empty: it needs the header kind,source,target")
    if problems:
        shown = problems[:_LISTED]
        more = len(problems) - len(shown)
        raise AliasInputError(
            "nothing was imported:\n" + "\n".join(shown) + (f"\n… and {more} more" if more else "")
        )
    return [rule for rule, _ in rules.values()]


@dataclass(frozen=True, slots=True)
class AliasChanges:
    """What writing some rules would do to the stored ones."""

    added: tuple[Alias, ...]
    changed: tuple[tuple[Alias, str], ...]  # each with the target it replaces
    unchanged: tuple[Alias, ...]


def diff_aliases(existing: Iterable[AliasRow], rules: Iterable[Alias]) -> AliasChanges:
    """Compare rules to write with the stored ones (writing never removes a rule)."""
    current = {(row.kind, row.source): row.target for row in existing}
    added, changed, unchanged = [], [], []
    for rule in rules:
        target = current.get((rule.kind, rule.source))
        if target is None:
            added.append(rule)
        elif target != rule.target:
            changed.append((rule, target))
        else:
            unchanged.append(rule)
    return AliasChanges(tuple(added), tuple(changed), tuple(unchanged))


def _stored(kind: AliasKind, source: str, target: str) -> Alias:
    from udemy360.store import Alias

    return Alias(kind, source, target)


def _describe(rule: Alias) -> str:
    return f"{rule.kind} alias {rule.source} → {rule.target}"


def _kind(given_mail: bool, given_domain: bool) -> AliasKind:
    if given_mail == given_domain:
        fail("give exactly one of --mail and --domain", EXIT_USAGE)
    return "mail" if given_mail else "domain"


def _set_up(store: Store, connection_id: str) -> None:
    # alias rules belong to a connection, which 'setup' creates
    if store.connections.get(connection_id) is None:
        fail(
            f"connection {connection_id!r} is not set up yet: run 'udemy360 setup' first, "
            "then add alias rules",
            EXIT_FAILED,
        )


def _now_matched(store: Store, connection_id: str) -> int:
    """How many learners whose statistics wait the directory now resolves to a sendable user."""
    waiting = store.stats.unmatched_summary(connection_id).learners
    if not waiting:
        return 0
    mails = [u.mail for u in store.stats.unmatched_learners(connection_id, limit=waiting)]
    from udemy360.sync import NOT_SENT_STATUSES

    found = store.learners.resolve(connection_id, mails)
    return sum(1 for user in found.values() if user.status not in NOT_SENT_STATUSES)


def _effect(store: Store, connection_id: str) -> None:
    """Say when the rules apply, and to how many of the learners whose statistics wait."""
    out = console()
    if store.learners.last_refreshed_at(connection_id) is None:
        out.print(
            "The rules apply through the learner directory, which no statistics run has read "
            "yet; the next one reads it first (it needs users:read: see 'udemy360 check')."
        )
        return
    matched = _now_matched(store, connection_id)
    if matched:
        out.print(
            f"{matched} learner(s) whose statistics wait now match a 360Learning user of the "
            "directory: the next statistics run sends their statistics."
        )
    else:
        out.print("The rules take effect on the next statistics run.")


DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would change; write nothing.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


# --- reading ------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def show_unmatched(store: Store, connection_id: str, *, limit: int, as_json: bool = False) -> None:
    """Print the learners whose statistics wait (``learners unmatched``; the demo too)."""
    summary = store.stats.unmatched_summary(connection_id)
    learners = store.stats.unmatched_learners(connection_id, limit=limit)
    if not as_json:
        render_unmatched(console(), summary, learners)
        return
    data = {
        "summary": {
            "rows": summary.rows,
            "learners": summary.learners,
            "courses": summary.courses,
            "first_seen": _iso(summary.first_seen),
        },
        "learners": [
            {
                "mail": learner.mail,
                "courses": learner.courses,
                "course_ids": list(learner.course_ids),
                "first_seen": _iso(learner.first_seen),
                "last_reason": learner.last_error,
            }
            for learner in learners
        ],
    }
    typer.echo(json.dumps(data, indent=2))


@learners_app.command("unmatched")
def unmatched(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many learners.")] = 50,
    as_json: AsJson = False,
) -> None:
    """List the learners 360Learning does not know, whose statistics wait to be sent."""
    settings = load(ctx)
    with _factory.open_store(settings) as store:
        show_unmatched(store, settings.connection_id, limit=limit, as_json=as_json)


@learners_app.command("aliases")
def aliases(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the alias rules that match Udemy learners to 360Learning users."""
    settings = load(ctx)
    with _factory.open_store(settings) as store:
        rows = store.learners.aliases(settings.connection_id)
    if as_json:
        data = [
            {
                "kind": row.kind,
                "source": row.source,
                "target": row.target,
                "created_at": _iso(row.created_at),
            }
            for row in rows
        ]
        typer.echo(json.dumps(data, indent=2))
        return
    render_aliases(console(), rows)


@learners_app.command("directory")
def directory(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Show how many 360Learning users the learner directory holds, and when it was read."""
    settings = load(ctx)
    conn = settings.connection_id
    with _factory.open_store(settings) as store:
        total = store.learners.count(conn)
        by_status = {status: store.learners.count(conn, status=status) for status in USER_STATUSES}
        if total > sum(by_status.values()):  # a status 360Learning added since
            by_status["other"] = total - sum(by_status.values())
        last_read = store.learners.last_refreshed_at(conn)
        rules = len(store.learners.aliases(conn))
        waiting = store.stats.unmatched_summary(conn)
    if as_json:
        data = {
            "users": total,
            "by_status": by_status,
            "last_read": _iso(last_read),
            "aliases": rules,
            "waiting": {"rows": waiting.rows, "learners": waiting.learners},
        }
        typer.echo(json.dumps(data, indent=2))
        return
    render_directory(console(), by_status, last_read, aliases=rules, waiting=waiting)


# --- alias rules --------------------------------------------------------------------------------


@alias_app.command("add")
def alias_add(
    ctx: typer.Context,
    mail: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--mail",
            metavar="UDEMY_MAIL TARGET_MAIL",
            help="This Udemy learner is the 360Learning user with TARGET_MAIL.",
            show_default=False,
        ),
    ] = None,
    domain: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--domain",
            metavar="OLD NEW",
            help="Every Udemy mail at OLD is looked up at NEW (corp-old.com corp.com).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRun = False,
) -> None:
    """Add an alias rule, or change the target of the rule with that source."""
    kind = _kind(mail is not None, domain is not None)
    source, target = mail or domain or ("", "")
    try:
        rule = parse_alias(kind, source, target)
    except AliasInputError as exc:
        fail(str(exc), EXIT_USAGE)
    settings = load(ctx)
    with _factory.open_store(settings) as store:
        add_rule(store, settings.connection_id, rule, dry_run=dry_run)


def add_rule(store: Store, connection_id: str, rule: Alias, *, dry_run: bool = False) -> None:
    """Add or change one alias rule and say what it did (``learners alias add``; the demo too)."""
    out = console()
    _set_up(store, connection_id)
    changes = diff_aliases(store.learners.aliases(connection_id), [rule])
    if changes.unchanged:
        out.print(f"Already there: {_describe(rule)}; nothing to change.", markup=False)
        return
    was = f" (was {changes.changed[0][1]})" if changes.changed else ""
    if dry_run:
        verb = "change" if changes.changed else "add"
        out.print(f"Dry run: would {verb} {_describe(rule)}{was}.", markup=False)
        out.print("Nothing was written.")
        return
    store.learners.add_alias(connection_id, rule.kind, rule.source, rule.target)
    done = "Changed" if changes.changed else "Added"
    out.print(f"{done} {_describe(rule)}{was}.", markup=False)
    _effect(store, connection_id)


@alias_app.command("remove")
def alias_remove(
    ctx: typer.Context,
    mail: Annotated[
        str | None,
        typer.Option(
            "--mail", metavar="UDEMY_MAIL", help="Remove this mail's alias.", show_default=False
        ),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", metavar="OLD", help="Remove this domain's rewrite.", show_default=False
        ),
    ] = None,
    dry_run: DryRun = False,
) -> None:
    """Remove an alias rule (its learner is then matched by mail alone, from the next run)."""
    kind = _kind(mail is not None, domain is not None)
    try:
        if kind == "mail":
            source = _check_mail(mail or "", "Udemy mail")
        else:
            source = _check_domain(domain or "", "Udemy domain")
    except AliasInputError as exc:
        fail(str(exc), EXIT_USAGE)
    settings = load(ctx)
    conn = settings.connection_id
    out = console()
    with _factory.open_store(settings) as store:
        current = {(r.kind, r.source): r.target for r in store.learners.aliases(conn)}
        target = current.get((kind, source))
        if target is None:
            fail(f"no {kind} alias for {source}: see 'udemy360 learners aliases'", EXIT_USAGE)
        rule = _stored(kind, source, target)
        if dry_run:
            out.print(f"Dry run: would remove {_describe(rule)}.", markup=False)
            out.print("Nothing was written.")
            return
        store.learners.remove_alias(conn, kind, source)
        out.print(f"Removed {_describe(rule)}.", markup=False)
        out.print("The change takes effect on the next statistics run.")


@alias_app.command("import")
def alias_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV with the header kind,source,target; kind is mail or domain.",
        ),
    ],
    dry_run: DryRun = False,
) -> None:
    """Add or update alias rules from a CSV file: all of them, or none if a line is bad.

    Rules not in the file are kept; 'udemy360 learners alias remove' removes one.
    """
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text: save it as UTF-8 CSV; nothing was imported", EXIT_USAGE)
    try:
        rules = read_alias_csv(text)
    except AliasInputError as exc:
        fail(f"{file}: {exc}", EXIT_USAGE)
    settings = load(ctx)
    conn = settings.connection_id
    out = console()
    with _factory.open_store(settings) as store:
        _set_up(store, conn)
        changes = diff_aliases(store.learners.aliases(conn), rules)
        _print_changes(out, changes, dry_run=dry_run)
        if dry_run:
            out.print("Nothing was written.")
            return
        if changes.added or changes.changed:
            store.learners.import_aliases(conn, [*changes.added, *(r for r, _ in changes.changed)])
            _effect(store, conn)


def _print_changes(out: Console, changes: AliasChanges, *, dry_run: bool) -> None:
    lines = [f"+ {_describe(rule)}" for rule in changes.added]
    lines += [f"~ {_describe(rule)} (was {old})" for rule, old in changes.changed]
    for line in lines[:_LISTED]:
        out.print(line, markup=False)
    if len(lines) > _LISTED:
        out.print(f"… and {len(lines) - _LISTED} more")
    added, changed, kept = len(changes.added), len(changes.changed), len(changes.unchanged)
    if dry_run:
        out.print(f"Dry run: would add {added} rule(s), change {changed}, keep {kept} as they are.")
    else:
        out.print(f"Added {added} rule(s), changed {changed}, kept {kept} as they were.")
