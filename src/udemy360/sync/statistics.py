"""The statistics run: learners' activity on synced courses, incremental with a weekly full pull.

Completion is final and ``firstActivityAt`` never changes once sent, so daily runs update a
learner's attempt instead of opening a new one (DESIGN.md, docs/sync.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from udemy360.learning360 import (
    BulkOperation,
    ExternalStatistic,
    ItemErrorKind,
    ItemResult,
    Learning360ScopeError,
    StatisticKey,
    UserIdentifier,
)
from udemy360.mapping import (
    MappedStatistic,
    SkippedRow,
    map_activity,
    normalize_email,
    payload_hash,
    v2_language,
)
from udemy360.store import (
    BulkOpRow,
    ItemOutcome,
    ItemRow,
    ItemState,
    LearnerDirectory,
    LearnerRow,
    LearnerUpdate,
    StatRow,
    StatState,
    StatUpdate,
)
from udemy360.sync.context import RunContext
from udemy360.sync.plan import (
    KnownStat,
    next_retry_at,
    plan_statistic,
)
from udemy360.sync.report import Status
from udemy360.sync.resume import SentStat, StatBatch, dump, load
from udemy360.udemy import (
    UdemyCourseActivity,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# statistics


def _known_stat(row: StatRow) -> KnownStat:
    return KnownStat(
        payload_hash=row.payload_hash,
        state=row.state,
        completed=row.completed,
        first_activity_at=row.first_activity_at,
        attempts=row.attempts,
    )


class StatisticsRun:
    """The statistics job: learners' activity on synced courses."""

    job: Final = "stats"
    # statistics are simply sent again after a crash: with a stable firstActivityAt,
    # 360Learning updates the same attempt (research/360learning-api.md §15.2)
    op_types: Final = ("stats",)

    def __init__(self, ctx: RunContext, *, full: bool | None = None) -> None:
        self.ctx = ctx
        self.requested_full = full
        self.pull_all = False
        self.from_date: datetime | None = None
        self.batch: list[MappedStatistic] = []
        self.batch_prior: list[KnownStat | None] = []
        self.batch_users: list[str | None] = []
        # the learner directory as this run read it (None without users:read)
        self.directory: LearnerDirectory | None = None
        # the courses statistics may be sent for, with their defaultLang: read once per run
        # (no catalog run can change them meanwhile: the connection's lease is ours)
        self.courses: dict[str, str | None] = {}
        # held and unmatched rows waiting to be written (one store call per batch, not per page)
        self.waiting: list[StatUpdate] = []
        self.submitting: asyncio.Task[None] | None = None
        self.langs: dict[str, str | None] = {}
        # sent from the store before the pull: the pull does not send them again unchanged
        self.resent: set[tuple[str, str]] = set()

    def decide_full(self, started: datetime) -> bool:
        """Full on request, else weekly; a run with no successful predecessor pulls everything."""
        last = self.ctx.store.runs.last_successful(self.ctx.conn, "stats")
        if self.requested_full is not None:
            full = self.requested_full
        else:
            last_full = self.ctx.store.runs.last_successful(self.ctx.conn, "stats", full=True)
            every = timedelta(days=self.ctx.options.full_stats_every_days)
            full = last_full is None or started - last_full.started_at >= every
        if full or last is None:
            self.pull_all = True
        else:
            self.from_date = last.started_at - timedelta(days=self.ctx.options.stats_overlap_days)
        return full

    async def resume(self, pending: BulkOpRow) -> None:
        """Record a crashed run's statistics as it would have: state, hash, firstActivityAt."""
        batch = load(StatBatch, pending.context)
        if batch is None:
            return  # recorded by an older version: the next pull sends them once more
        results = await self._results(pending.op_id, batch.items)
        now = self.ctx.now()
        # the payloads were not kept with the operation: a failed row is rebuilt by a pull
        updates = [self._outcome(s, result, None, now) for s, result in results]
        await self.ctx.db(self.ctx.store.stats.upsert, self.ctx.conn, updates)
        self.ctx.flush_outcomes()

    async def _results(
        self, op_id: str, sent: Sequence[SentStat]
    ) -> list[tuple[SentStat, ItemResult[StatisticKey]]]:
        """An operation's per-item results, each with the statistic it was sent for."""
        keys = [_wire_key(s) for s in sent]
        outcome = await self.ctx.l360.get_statistic_results(op_id, keys)
        if outcome.unpaired:
            self.ctx.tally.error(
                f"bulk operation {op_id}: {len(outcome.unpaired)} result(s) did not match what"
                " was sent; the statistics they leave without a result are retried"
            )
        return list(zip(sent, outcome.items, strict=True))

    async def run(self, started: datetime) -> Status:
        """Read the learner directory, send what the store holds back, then pull Udemy's
        activity and send what changed."""
        if await self._read_directory(started):
            self.directory = await self.ctx.db(self.ctx.store.learners.snapshot, self.ctx.conn)
        self.courses = await self.ctx.db(self._active_courses)
        if await self._resend_from_store():
            # held rows stored before payloads were kept: rebuild them from a full pull
            self.pull_all = True
            self.from_date = None
        from_date = None if self.pull_all or self.from_date is None else self.from_date.date()
        self.ctx.progress.start("statistics", None)
        async with asyncio.TaskGroup() as tasks:
            async for page in self.ctx.udemy.iter_activity_pages(from_date=from_date):
                self.ctx.listing_stopped("activity", page.stop)
                await self._page(page.items, tasks)
                for problem in page.problems:
                    self.ctx.tally.add("skipped")
                    self.ctx.outcomes.append(
                        ItemOutcome(
                            "statistic", str(problem.record_id or "?"), "skipped", problem.reason
                        )
                    )
                self.ctx.progress.advance("statistics", len(page.items) + len(page.problems))
            if self.batch:
                await self._send(tasks)
        await self._flush_waiting()
        self.ctx.progress.finish("statistics")
        if self.pull_all and not self.ctx.dry_run:
            self._expire_unrebuildable(started)
        self._report_unmatched()
        return self.ctx.status_from_tally()

    async def _read_directory(self, started: datetime) -> bool:
        """Read 360Learning's users into the learner directory; False without ``users:read``.

        The users listing has no date filter (core-api.openapi.json), so it is read whole:
        200 reads for 100,000 users. A dry run writes nothing and matches against the directory
        the last run stored.
        """
        if self.ctx.dry_run:
            return self.ctx.store.learners.last_refreshed_at(self.ctx.conn) is not None
        page: list[LearnerUpdate] = []
        read = 0
        try:
            async for user in self.ctx.l360.iter_users():
                if user.mail:
                    page.append(
                        LearnerUpdate(user.mail.strip().lower(), user.id, user.status or "unknown")
                    )
                if len(page) >= _DIRECTORY_PAGE:
                    await self.ctx.db(self.ctx.store.learners.upsert, self.ctx.conn, page, started)
                    read, page = read + len(page), []
        except Learning360ScopeError:
            self.ctx.tally.error(
                "the 360Learning credentials lack users:read: unknown learners are recognised "
                "only from 360Learning's per-item errors, after their statistics were sent"
            )
            return False
        if page:
            await self.ctx.db(self.ctx.store.learners.upsert, self.ctx.conn, page, started)
            read += len(page)
        removed = self.ctx.store.learners.delete_unseen(self.ctx.conn, started)
        logger.info("learner directory read: %d users, %d gone", read, removed)
        self.ctx.tally.add("learners", read)
        return True

    def _report_unmatched(self) -> None:
        """Count and list the learners whose rows wait for them (from the store: every run's)."""
        summary = self.ctx.store.stats.unmatched_summary(self.ctx.conn)
        self.ctx.tally.counts["unmatched"] = summary.rows
        for learner in self.ctx.store.stats.unmatched_learners(
            self.ctx.conn, limit=_UNMATCHED_LISTED
        ):
            self.ctx.tally.unmatched[learner.mail] = learner.courses

    def _expire_unrebuildable(self, started: datetime) -> None:
        """Expire held rows without a payload that a whole activity pull did not find.

        Only a full pull can rebuild them, and this one did not: left held, they would force
        a full pull every day.
        """
        expired = self.ctx.store.stats.expire_held(
            self.ctx.conn,
            "expired: held without its activity data, and the whole Udemy activity report "
            f"read on {started.date().isoformat()} no longer has this enrollment",
            self.ctx.now(),
        )
        if expired:
            logger.warning("expired %d held statistic(s) Udemy no longer reports", expired)
            self.ctx.tally.add("expired", expired)

    async def _resend_from_store(self) -> bool:
        """Send, from their stored payload, held rows whose course is now synced and failed
        rows whose retry time has come.

        Runs before the pull and waits for its batches, so the pull then finds those rows
        sent. Returns whether some releasable held row has no stored payload (a row held by an
        older version, or reset when the integration changed), which only a full pull can
        rebuild.
        """
        missing = False
        rows: Iterator[tuple[StatRow, str | None]] = self.ctx.store.stats.iter_resendable(
            self.ctx.conn, self.ctx.now(), max_attempts=MAX_STATISTIC_ATTEMPTS
        )
        if self.directory is not None:
            # rows waiting for their learner, sent as soon as the learner is in 360Learning
            waiting = ((row, None) for row in self.ctx.store.stats.iter_unmatched(self.ctx.conn))
            rows = itertools.chain(rows, waiting)
        async with asyncio.TaskGroup() as tasks:
            for chunk in _batched(rows, _DIRECTORY_PAGE):
                learners = self._resolve({row.learner_mail for row, _ in chunk})
                still_unmatched: list[StatUpdate] = []
                for row, stored_lang in chunk:
                    if row.payload is None:
                        missing = True
                        continue
                    learner = learners.get(row.learner_mail)
                    if self.directory is not None and not _sendable(learner):
                        if row.state != StatState.UNMATCHED:
                            still_unmatched.append(_unmatched(row, learner, self.ctx.run_id))
                        continue
                    if row.state == StatState.UNMATCHED:
                        mapped = _stored_statistic(row)  # its course's language is in it
                    else:
                        lang = stored_lang or await self._course_lang(row.external_course_id, None)
                        mapped = _stored_statistic(row, lang)
                    if mapped is None:
                        missing = missing or row.state == StatState.HELD
                        continue
                    if self.ctx.dry_run:
                        self.ctx.tally.add("would_send")
                        continue
                    self.resent.add(row.key)
                    mapped, user_id = _for_learner(mapped, learner)
                    await self._queue(mapped, _known_stat(row), user_id, tasks)
                if still_unmatched and not self.ctx.dry_run:
                    await self.ctx.db(self.ctx.store.stats.upsert, self.ctx.conn, still_unmatched)
            if self.batch:
                await self._send(tasks)
        return missing

    def _resolve(self, mails: set[str]) -> dict[str, LearnerRow]:
        """The directory's entries for these Udemy emails (alias rules applied by the store)."""
        if self.directory is None or not mails:
            return {}
        return self.directory.resolve(mails)

    async def _queue(
        self,
        mapped: MappedStatistic,
        prior: KnownStat | None,
        user_id: str | None,
        tasks: asyncio.TaskGroup,
    ) -> None:
        """Add a statistic (as it is sent) to the batch; send the batch when it is full."""
        self.batch.append(mapped)
        self.batch_prior.append(prior)
        self.batch_users.append(user_id)
        if len(self.batch) >= self.ctx.options.stats_batch_size:
            await self._send(tasks)

    async def _course_lang(self, external_id: str, stored: str | None) -> str | None:
        """Return the course's defaultLang: from the store, else read once per run.

        The catalog run stores each item's mapped ``defaultLang``; only rows written before
        it did fall back to ``GET /api/v2/integrations/{id}/courses/{externalId}``.
        """
        if stored is not None:
            return stored
        if external_id not in self.langs:
            info = await self.ctx.l360.get_external_course(
                self.ctx.options.integration_id, external_id
            )
            self.langs[external_id] = info.default_lang if info is not None else None
        return self.langs[external_id]

    async def _page(self, rows: Sequence[object], tasks: asyncio.TaskGroup) -> None:
        activity = [
            (r, normalize_email(r.user_email)) for r in rows if isinstance(r, UdemyCourseActivity)
        ]
        self.ctx.tally.add("fetched", len(activity))
        keys = {(str(r.course_id), mail) for r, mail in activity if mail is not None}
        known, learners = await self.ctx.db(self._lookup, keys)
        seen_keys: set[tuple[str, str]] = set()
        for r, mail in activity:
            ext = str(r.course_id)
            row = known.get((ext, mail)) if mail else None
            course_known = ext in self.courses
            lang = await self._course_lang(ext, self.courses[ext]) if course_known else None
            mapped = map_activity(
                r, course_lang=lang, first_activity_at=row.first_activity_at if row else None
            )
            if isinstance(mapped, SkippedRow):
                self.ctx.tally.add("skipped")
                self.ctx.outcomes.append(
                    ItemOutcome("statistic", ext, "skipped", f"{mapped.reason}: {mapped.detail}")
                )
                continue
            key = (mapped.external_course_id, mapped.learner_mail)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            if key in self.resent and row is not None and row.payload_hash == mapped.hash:
                continue  # just sent from the store, and Udemy has nothing newer
            prior = _known_stat(row) if row is not None else None
            learner = learners.get(key[1])
            if course_known and self.directory is not None and not _sendable(learner):
                # not sent: kept with its payload and sent once the learner is in 360Learning
                self._unmatched_row(mapped, row, learner)
                continue
            # an aliased learner is sent by user id: the hash compared is that of what is sent
            mapped, user_id = _for_learner(mapped, learner)
            action = plan_statistic(
                mapped.hash, prior, course_known=course_known, full=self.ctx.full
            )
            if action == "unchanged" and row is not None and row.state == StatState.UNMATCHED:
                action = "send"  # its learner has appeared in 360Learning since
            if action in ("unchanged", "completed"):
                self.ctx.tally.add("unchanged")
            elif action == "hold":
                self.ctx.tally.add("held")
                # sent from the store once the course arrives (no re-pull needed)
                self.waiting.append(_waiting(mapped, row, StatState.HELD, self.ctx.run_id))
            elif self.ctx.dry_run:
                self.ctx.tally.add("would_send")
            else:
                await self._queue(mapped, prior, user_id, tasks)
        if len(self.waiting) >= _WAITING_FLUSH:
            await self._flush_waiting()

    async def _flush_waiting(self) -> None:
        """Write the held and unmatched rows gathered so far (a dry run writes nothing)."""
        # a learner's row may come on two pages: the last one wins, as page by page before
        waiting = {(u.external_course_id, u.learner_mail): u for u in self.waiting}
        self.waiting = []
        if waiting and not self.ctx.dry_run:
            await self.ctx.db(self.ctx.store.stats.upsert, self.ctx.conn, list(waiting.values()))

    def _active_courses(self) -> dict[str, str | None]:
        """The connection's courses statistics may be sent for, with their ``defaultLang``."""
        return {
            row.external_id: row.default_lang
            for row in self.ctx.store.items.iter(self.ctx.conn, kind="course")
            if _course_active(row)
        }

    def _unmatched_row(
        self, mapped: MappedStatistic, row: StatRow | None, learner: LearnerRow | None
    ) -> None:
        """Record a row of a learner 360Learning does not know (or deleted); send nothing."""
        if row is not None and row.state == StatState.UNMATCHED and row.payload_hash == mapped.hash:
            return  # already waiting with this very payload
        reason = _unmatched_reason(learner)
        course, mail = mapped.external_course_id, mapped.learner_mail
        self.ctx.outcomes.append(ItemOutcome("statistic", course, "unmatched", reason, mail))
        update = _waiting(mapped, row, StatState.UNMATCHED, self.ctx.run_id, reason)
        self.waiting.append(update)

    def _lookup(
        self, keys: set[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], StatRow], dict[str, LearnerRow]]:
        """One page's store reads: the known statistics and their learners."""
        return self.ctx.store.stats.get(self.ctx.conn, keys), self._resolve(
            {mail for _, mail in keys}
        )

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        """Hand the batch to a background submit and go on reading.

        At most one batch waits for its submit (a bulk slot, then the POST) while the next one
        is built: reading Udemy never stalls on 360Learning, and memory stays bounded.
        """
        batch, prior, users = self.batch, self.batch_prior, self.batch_users
        self.batch, self.batch_prior, self.batch_users = [], [], []
        if self.submitting is not None:
            await self.submitting
        self.submitting = tasks.create_task(self._submit(batch, prior, users, tasks))

    async def _submit(
        self,
        batch: Sequence[MappedStatistic],
        prior: Sequence[KnownStat | None],
        users: Sequence[str | None],
        tasks: asyncio.TaskGroup,
    ) -> None:
        stats: list[ExternalStatistic] = [m.statistic for m in batch]
        op = await self.ctx.l360.submit_statistics(self.ctx.options.integration_id, stats)
        del stats
        sent = [
            _sent_stat(m, before, user) for m, before, user in zip(batch, prior, users, strict=True)
        ]
        # what a resumed run needs to record the results as this one would (not the payloads)
        await self.ctx.record_operation("stats", op, len(batch), dump(StatBatch(items=tuple(sent))))
        tasks.create_task(self._finish(op, batch, sent))

    async def _finish(
        self, op: BulkOperation, batch: Sequence[MappedStatistic], sent: Sequence[SentStat]
    ) -> None:
        done = await self.ctx.wait(op)
        results = await self._results(op.id, sent)
        now = self.ctx.now()
        updates = [
            self._outcome(s, result, mapped, now)
            for mapped, (s, result) in zip(batch, results, strict=True)
        ]
        await self.ctx.db(self.ctx.store.stats.upsert, self.ctx.conn, updates)
        self.ctx.finish_operation(op.id, done.status)
        self.ctx.flush_outcomes()

    def _outcome(
        self,
        s: SentStat,
        result: ItemResult[StatisticKey],
        mapped: MappedStatistic | None,
        now: datetime,
    ) -> StatUpdate:
        """Turn one statistic's bulk result into its store row (and count it).

        ``mapped`` is the statistic as sent: a failed row keeps its payload for the retry (only
        failures pay for serialising it). A resumed operation has none: a pull rebuilds it.
        """
        course, mail = s.key
        if result.error is None:
            self.ctx.tally.add("updated" if s.was_sent else "created")
            return StatUpdate(
                external_course_id=course,
                learner_mail=mail,
                state=StatState.SENT,
                payload_hash=s.hash,
                first_activity_at=s.first_activity_at,
                completed=s.completed,
                last_sent_at=now,
                run_id=self.ctx.run_id,
            )
        message = result.error.message
        if result.error.kind in _LEARNER_GONE:
            self.ctx.tally.add("unmatched")
            self.ctx.tally.unmatched[mail] += 1
            self.ctx.outcomes.append(ItemOutcome("statistic", course, "unmatched", message, mail))
            # re-sent only when the Udemy row changes or on a full pull: no payload kept
            return StatUpdate(
                external_course_id=course,
                learner_mail=mail,
                state=StatState.UNMATCHED,
                payload_hash=s.hash,
                first_activity_at=s.prior_first_activity_at,
                completed=s.prior_completed,
                last_error=message,
                run_id=self.ctx.run_id,
            )
        self.ctx.item_error("statistic", course, message, mail)
        attempts = s.attempts + 1
        return StatUpdate(
            external_course_id=course,
            learner_mail=mail,
            state=StatState.FAILED,
            payload_hash=s.hash,
            first_activity_at=s.prior_first_activity_at,
            completed=s.prior_completed,
            last_error=message,
            run_id=self.ctx.run_id,
            # sent again from the store with backoff, MAX_STATISTIC_ATTEMPTS times at most
            payload=_wire(mapped) if mapped is not None else None,
            attempts=attempts,
            next_retry_at=next_retry_at(attempts, now, self.ctx.options.retry_failed_after),
        )


def _wire(mapped: MappedStatistic) -> Mapping[str, object]:
    """The statistic as sent (kept on a failed row so it can be re-sent from the store)."""
    return mapped.statistic.model_dump(mode="json", by_alias=True, exclude_none=True)


class _Keep:
    """Marker: keep the stored payload's language."""


_KEEP: Final = _Keep()

#: Held and unmatched rows gathered before one store write.
_WAITING_FLUSH = 2_000
#: Users read per directory write, and stored rows resolved per directory lookup.
_DIRECTORY_PAGE = 500
#: Learners listed by name in a run's report (the CLI's ``learners unmatched`` lists all).
_UNMATCHED_LISTED = 50
#: User statuses (active, invited, deleted: core-api.openapi.json) whose rows are never sent.
NOT_SENT_STATUSES = frozenset({"deleted"})


def _batched(
    rows: Iterator[tuple[StatRow, str | None]], size: int
) -> Iterator[list[tuple[StatRow, str | None]]]:
    """Consecutive lists of at most ``size`` rows (``itertools.batched`` is Python 3.12+)."""
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _sendable(learner: LearnerRow | None) -> bool:
    """Whether statistics may be sent for a learner the directory resolved (or not)."""
    return learner is not None and learner.status not in NOT_SENT_STATUSES


def _unmatched_reason(learner: LearnerRow | None) -> str:
    if learner is None:
        return "no 360Learning user has this email (learner directory)"
    return f"the 360Learning user {learner.user_id} is {learner.status}"


def _waiting(
    mapped: MappedStatistic,
    row: StatRow | None,
    state: StatState,
    run_id: int | None,
    reason: str | None = None,
) -> StatUpdate:
    """A row not sent now (held for its course, or unmatched), kept with its payload."""
    return StatUpdate(
        external_course_id=mapped.external_course_id,
        learner_mail=mapped.learner_mail,
        state=state,
        payload_hash=mapped.hash,
        first_activity_at=row.first_activity_at if row else None,
        completed=row.completed if row else False,
        last_error=reason,
        run_id=run_id,
        payload=_wire(mapped),
    )


def _unmatched(row: StatRow, learner: LearnerRow | None, run_id: int | None) -> StatUpdate:
    """A stored row whose learner is (still, or again) unknown: waiting, payload kept."""
    return StatUpdate(
        external_course_id=row.external_course_id,
        learner_mail=row.learner_mail,
        state=StatState.UNMATCHED,
        payload_hash=row.payload_hash,
        first_activity_at=row.first_activity_at,
        completed=row.completed,
        last_error=_unmatched_reason(learner),
        run_id=run_id,
        payload=row.payload,
    )


def _for_learner(
    mapped: MappedStatistic, learner: LearnerRow | None
) -> tuple[MappedStatistic, str | None]:
    """The statistic as sent to this learner, and their user id when sent by id.

    A learner matched through an alias rule is sent by 360Learning user id: their Udemy email
    means nothing to 360Learning.
    """
    if learner is None or learner.mail == mapped.learner_mail:
        return mapped, None
    statistic = mapped.statistic.model_copy(
        update={"user_identifier": UserIdentifier(type="internalId", value=learner.user_id)}
    )
    return replace(mapped, statistic=statistic, hash=payload_hash(statistic)), learner.user_id


#: Per-item errors meaning 360Learning has no (live) user for the learner, known by their code
#: or documented message form (``learning360.classify_item_error``), never by loose wording.
_LEARNER_GONE = frozenset({ItemErrorKind.UNKNOWN_LEARNER, ItemErrorKind.DELETED_LEARNER})


def _wire_key(sent: SentStat) -> StatisticKey:
    """The key 360Learning echoes for a statistic: the learner as they were identified."""
    if sent.user_id is not None:
        return StatisticKey(sent.course, "internalId", sent.user_id)
    return StatisticKey(sent.course, "mail", sent.learner)


#: A failed statistic is re-sent from the store this many times (with backoff); after that
#: only when its Udemy row shows up in a pull again (changed, or the weekly full pull).
MAX_STATISTIC_ATTEMPTS = 5


def _sent_stat(mapped: MappedStatistic, before: KnownStat | None, user_id: str | None) -> SentStat:
    return SentStat(
        course=mapped.external_course_id,
        learner=mapped.learner_mail,
        user_id=user_id,
        hash=mapped.hash,
        first_activity_at=mapped.statistic.first_activity_at,
        completed=mapped.completed,
        was_sent=before is not None and before.state == StatState.SENT,
        prior_first_activity_at=before.first_activity_at if before else None,
        prior_completed=before.completed if before else False,
        attempts=before.attempts if before else 0,
    )


def _stored_statistic(row: StatRow, lang: str | _Keep | None = _KEEP) -> MappedStatistic | None:
    """Rebuild a row's statistic from its stored payload, with its course's language if given."""
    data = dict(row.payload or {})
    if not isinstance(lang, _Keep):
        data["lang"] = v2_language(lang)
    if data.get("lang") is None:
        data.pop("lang", None)
    # the payload is stored as Udemy's learner; an alias is applied when it is sent
    data["userIdentifier"] = {"type": "mail", "value": row.learner_mail}
    try:
        statistic = ExternalStatistic.model_validate(data)
    except ValueError:
        logger.warning("held statistic %s has an unreadable payload", row.key)
        return None
    return MappedStatistic(
        external_course_id=row.external_course_id,
        learner_mail=row.learner_mail,
        statistic=statistic,
        completed=statistic.progress == 100,
        hash=payload_hash(statistic),
    )


def _course_active(row: ItemRow) -> bool:
    """A course statistics may be sent for: synced, with a course id, not archived."""
    return (
        row.kind == "course"
        and row.course_id is not None
        and row.state != ItemState.ARCHIVED
        and row.archived_at is None
    )
