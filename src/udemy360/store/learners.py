"""The learner directory: 360Learning's users by mail, and the alias rules that match learners.

Each statistics run reads the platform's users (``GET /api/v2/users``) into the directory, so
a statistic is sent only for a learner 360Learning knows. Mails are matched trimmed and
case-insensitively; where a company's two sides disagree, per-connection rules rewrite a
Udemy mail before the lookup: an explicit mail alias replaces the whole mail, else a domain
rewrite replaces its domain (``a@corp-old.com`` → ``a@corp.com``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Row, delete, func, select
from sqlalchemy.engine import Connection

from udemy360.store._db import (
    ALIASES,
    LEARNERS,
    LOOKUP_CHUNK,
    Database,
    aggregate_datetime,
    aware,
    chunks,
)
from udemy360.store.rows import Alias, AliasKind, AliasRow, LearnerRow, LearnerUpdate

_KINDS: tuple[AliasKind, ...] = ("mail", "domain")


def normalize_mail(mail: str) -> str:
    """Return the form mails are stored and matched in: trimmed and lower-cased."""
    return mail.strip().lower()


def _domain(value: str) -> str:
    # a domain is stored without its "@", whether or not the caller wrote one
    value = normalize_mail(value)
    return value[1:] if value.startswith("@") else value


def _valid_mail(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and domain) and not any(c.isspace() for c in value)


def _valid_domain(value: str) -> bool:
    return bool(value) and "@" not in value and not any(c.isspace() for c in value)


def normalize_alias(alias: Alias) -> Alias:
    """Return the alias as stored: trimmed, lower-case, a domain without ``@``.

    Raises:
        ValueError: an unknown kind, or a source or target that is not a mail (a domain).
    """
    if alias.kind not in _KINDS:
        raise ValueError(f"alias kind must be 'mail' or 'domain', not {alias.kind!r}")
    if alias.kind == "mail":
        source, target = normalize_mail(alias.source), normalize_mail(alias.target)
        if not (_valid_mail(source) and _valid_mail(target)):
            raise ValueError("a mail alias maps one mail address to another")
    else:
        source, target = _domain(alias.source), _domain(alias.target)
        if not (_valid_domain(source) and _valid_domain(target)):
            raise ValueError("a domain alias maps one domain (e.g. corp-old.com) to another")
    return Alias(alias.kind, source, target)


class Learners:
    """The learner directory and its alias rules (``store.learners``)."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- directory ---------------------------------------------------------------------------

    def upsert(self, connection_id: str, rows: Iterable[LearnerUpdate], seen_at: datetime) -> None:
        """Record users read from 360Learning (one page at a time is fine), marked `seen_at`.

        Mails are stored trimmed and lower-cased; a user without a mail can match no learner
        and is left out.

        Raises:
            StoreDataError: the database refused a value.
        """
        seen = aware(seen_at)
        stmt = self._db.insert(LEARNERS)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[LEARNERS.c.connection_id, LEARNERS.c.mail],
            set_={"user_id": ex.user_id, "status": ex.status, "seen_at": ex.seen_at},
        )
        params = (
            {
                "connection_id": connection_id,
                "mail": mail,
                "user_id": r.user_id,
                "status": r.status,
                "seen_at": seen,
            }
            for r in rows
            if (mail := normalize_mail(r.mail))
        )
        with self._db.write("learners.upsert") as conn:
            self._db.executemany(conn, stmt, params)

    def delete_unseen(self, connection_id: str, before: datetime) -> int:
        """Forget the users not seen since `before` (gone from 360Learning); return how many.

        Call it after a full refresh, with the time the refresh started.
        """
        stmt = delete(LEARNERS).where(
            LEARNERS.c.connection_id == connection_id, LEARNERS.c.seen_at < aware(before)
        )
        with self._db.write("learners.delete_unseen") as conn:
            return int(conn.execute(stmt).rowcount)

    def resolve(self, connection_id: str, mails: Iterable[str]) -> dict[str, LearnerRow]:
        """Return the directory's users for these learner mails, keyed by normalised mail.

        Each mail is trimmed and lower-cased, then rewritten by the connection's alias rules
        (a mail alias replaces it; else a domain rewrite replaces its domain), then looked up.
        Mails the directory does not know are left out. A returned row whose `mail` differs
        from its key was matched through an alias.
        """
        wanted = [m for m in dict.fromkeys(normalize_mail(m) for m in mails) if m]
        if not wanted:
            return {}
        with self._db.read() as conn:
            aliased = self._mail_aliases(conn, connection_id, wanted)
            domains = {
                r.source: r.target
                for r in conn.execute(
                    select(ALIASES.c.source, ALIASES.c.target).where(
                        ALIASES.c.connection_id == connection_id, ALIASES.c.kind == "domain"
                    )
                )
            }
            lookup = {m: aliased.get(m) or _rewrite(m, domains) for m in wanted}
            found: dict[str, LearnerRow] = {}
            for chunk in chunks(dict.fromkeys(lookup.values()), LOOKUP_CHUNK):
                stmt = select(LEARNERS).where(
                    LEARNERS.c.connection_id == connection_id, LEARNERS.c.mail.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[row.mail] = _learner_row(row)
        return {m: found[target] for m, target in lookup.items() if target in found}

    @staticmethod
    def _mail_aliases(conn: Connection, connection_id: str, mails: Sequence[str]) -> dict[str, str]:
        aliased: dict[str, str] = {}
        for chunk in chunks(mails, LOOKUP_CHUNK):
            stmt = select(ALIASES.c.source, ALIASES.c.target).where(
                ALIASES.c.connection_id == connection_id,
                ALIASES.c.kind == "mail",
                ALIASES.c.source.in_(chunk),
            )
            aliased.update({r.source: r.target for r in conn.execute(stmt)})
        return aliased

    def snapshot(self, connection_id: str) -> LearnerDirectory:
        """Read the whole directory and the alias rules once, for a run to resolve in memory.

        A statistics run looks up every page's learners; one read per run instead of one per
        page (100,000 users ≈ 18 MB).
        """
        users: dict[str, str] = {}
        statuses: dict[str, str] = {}
        stmt = select(LEARNERS.c.mail, LEARNERS.c.user_id, LEARNERS.c.status).where(
            LEARNERS.c.connection_id == connection_id
        )
        rules = select(ALIASES.c.kind, ALIASES.c.source, ALIASES.c.target).where(
            ALIASES.c.connection_id == connection_id
        )
        mails: dict[str, str] = {}
        domains: dict[str, str] = {}
        with self._db.read() as conn:
            for mail, user_id, status in conn.execute(stmt):
                users[mail] = user_id
                if status != _USUAL_STATUS:
                    statuses[mail] = status
            for kind, source, target in conn.execute(rules):
                (mails if kind == "mail" else domains)[source] = target
        return LearnerDirectory(connection_id, users, statuses, mails, domains, self._db.now())

    def count(self, connection_id: str, *, status: str | None = None) -> int:
        """Count the directory's users, optionally of one status."""
        stmt = select(func.count()).where(LEARNERS.c.connection_id == connection_id)
        if status is not None:
            stmt = stmt.where(LEARNERS.c.status == status)
        with self._db.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def last_refreshed_at(self, connection_id: str) -> datetime | None:
        """Return when the directory was last written (its newest `seen_at`), or None."""
        stmt = select(func.max(LEARNERS.c.seen_at)).where(LEARNERS.c.connection_id == connection_id)
        with self._db.read() as conn:
            return aggregate_datetime(conn.execute(stmt).scalar_one_or_none())

    # -- alias rules -------------------------------------------------------------------------

    def add_alias(self, connection_id: str, kind: AliasKind, source: str, target: str) -> None:
        """Add an alias rule, or change the target of the rule with that kind and source.

        Raises:
            ValueError: see `normalize_alias`.
        """
        self.import_aliases(connection_id, [Alias(kind, source, target)])

    def remove_alias(self, connection_id: str, kind: AliasKind, source: str) -> bool:
        """Remove the rule with that kind and source; return whether there was one."""
        key = normalize_mail(source) if kind == "mail" else _domain(source)
        stmt = delete(ALIASES).where(
            ALIASES.c.connection_id == connection_id,
            ALIASES.c.kind == kind,
            ALIASES.c.source == key,
        )
        with self._db.write("learners.remove_alias") as conn:
            return bool(conn.execute(stmt).rowcount)

    def aliases(self, connection_id: str) -> list[AliasRow]:
        """Return the connection's alias rules, domains first, then by source."""
        stmt = (
            select(ALIASES)
            .where(ALIASES.c.connection_id == connection_id)
            .order_by(ALIASES.c.kind, ALIASES.c.source)
        )
        with self._db.read() as conn:
            return [
                AliasRow(
                    connection_id=r.connection_id,
                    kind=cast(AliasKind, r.kind),
                    source=r.source,
                    target=r.target,
                    created_at=r.created_at,
                )
                for r in conn.execute(stmt)
            ]

    def import_aliases(self, connection_id: str, rows: Iterable[Alias]) -> int:
        """Add or update many alias rules at once (all or none); return how many were given.

        Raises:
            ValueError: a rule is invalid (see `normalize_alias`); its position is named and
                nothing is written.
        """
        normalised = []
        for n, alias in enumerate(rows, start=1):
            try:
                normalised.append(normalize_alias(alias))
            except ValueError as exc:
                raise ValueError(f"alias {n}: {exc}") from None
        if not normalised:
            return 0
        stmt = self._db.insert(ALIASES)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ALIASES.c.connection_id, ALIASES.c.kind, ALIASES.c.source],
            set_={"target": stmt.excluded.target},
        )
        now = self._db.now()
        params = (
            {
                "connection_id": connection_id,
                "kind": a.kind,
                "source": a.source,
                "target": a.target,
                "created_at": now,
            }
            for a in normalised
        )
        with self._db.write("learners.import_aliases") as conn:
            self._db.executemany(conn, stmt, params)
        return len(normalised)


#: Most users' status: a snapshot keeps the status of the others only (100,000 users ≈ 18 MB).
_USUAL_STATUS = "active"


@dataclass(frozen=True, slots=True)
class LearnerDirectory:
    """A connection's learner directory and alias rules as read at one moment (see `snapshot`)."""

    connection_id: str
    users: Mapping[str, str]  # mail -> user id
    statuses: Mapping[str, str]  # mail -> status, for the users not "active" (few)
    mail_aliases: Mapping[str, str]
    domains: Mapping[str, str]
    read_at: datetime

    def resolve(self, mails: Iterable[str]) -> dict[str, LearnerRow]:
        """The users for these learner mails, exactly as `Learners.resolve` finds them."""
        found: dict[str, LearnerRow] = {}
        for mail in mails:
            key = normalize_mail(mail)
            if not key:
                continue
            target = self.mail_aliases.get(key) or _rewrite(key, self.domains)
            user_id = self.users.get(target)
            if user_id is not None:
                status = self.statuses.get(target, _USUAL_STATUS)
                found[key] = LearnerRow(self.connection_id, target, user_id, status, self.read_at)
        return found


def _rewrite(mail: str, domains: Mapping[str, str]) -> str:
    local, _, domain = mail.rpartition("@")
    target = domains.get(domain)
    return f"{local}@{target}" if target is not None and local else mail


def _learner_row(r: Row[tuple[object, ...]]) -> LearnerRow:
    return LearnerRow(
        connection_id=r.connection_id,
        mail=r.mail,
        user_id=r.user_id,
        status=r.status,
        seen_at=r.seen_at,
    )
