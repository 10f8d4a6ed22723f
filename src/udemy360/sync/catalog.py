"""The catalog run: courses and public learning paths, tags, archiving and restoring.

Udemy pages are streamed, mapped and diffed against the store; only what changed is sent, in
bulk batches, while the next pages are still being read (DESIGN.md, docs/sync.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from udemy360.domain import ItemKind
from udemy360.learning360 import (
    BulkOperation,
    BulkOutcome,
    ExternalCourse,
    Learning360AuthError,
    Learning360Error,
    Learning360NotFound,
    Learning360RateLimited,
    Learning360ScopeError,
    Learning360ServerError,
    Learning360TransportError,
)
from udemy360.mapping import (
    MappedCourse,
    MappingContext,
    MappingProblem,
    map_course,
    map_learning_path,
    path_external_id,
)
from udemy360.store import (
    BulkOpRow,
    ItemRow,
    ItemState,
    ItemUpdate,
    tag_key,
)
from udemy360.sync.context import RunContext, chunks
from udemy360.sync.plan import (
    ItemAction,
    KnownItem,
    ListingTally,
    check_archive,
    next_retry_at,
    plan_course_tags,
    plan_item,
)
from udemy360.sync.report import Status
from udemy360.sync.resume import ArchiveBatch, ItemBatch, SentArchive, SentItem, dump, load
from udemy360.udemy import (
    UdemyCourse,
    UdemyLearningPath,
    UdemyPage,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# catalog


def _known_item(row: ItemRow) -> KnownItem:
    return KnownItem(
        external_id=row.external_id,
        payload_hash=row.payload_hash,
        course_id=row.course_id,
        archived=row.state == ItemState.ARCHIVED or row.archived_at is not None,
        failed=row.state == ItemState.FAILED
        or (row.attempts > 0 and row.next_retry_at is not None),
        attempts=row.attempts,
        next_retry_at=row.next_retry_at,
    )


#: Errors that say an endpoint is down or throttled, not that one item is wrong: they spend the
#: run's budget for that endpoint (``RunContext.budget``).
_OUTAGE = (Learning360ServerError, Learning360TransportError, Learning360RateLimited)

#: Udemy pages read ahead of the page being processed (per run, both listings together):
#: enough to keep the client's concurrent window busy while a batch waits for a bulk slot.
_PAGES_AHEAD = 16


class CatalogRun:
    """The catalog job: courses and public learning paths, tags, archiving and restoring."""

    job: Final = "courses"
    op_types: Final = ("courses", "archive")

    def __init__(self, ctx: RunContext, *, allow_mass_archive: bool = False) -> None:
        self.ctx = ctx
        self.allow_mass_archive = allow_mass_archive
        self.listings: list[ListingTally] = []
        self.tag_ids: dict[str, str] = {}
        self.stored_tags: dict[str, str] = {}
        self.tags_loaded = False
        self.tag_lock = asyncio.Lock()
        # the batch being built: payloads and the small per-item record kept while in flight
        self.buffer: list[ExternalCourse] = []
        self.buffer_items: list[SentItem] = []
        self.seen_at: datetime | None = None
        # a dry run keeps what it saw in memory: it writes no seen marks (see docs/sync.md)
        self.dry_seen: set[str] = set()

    def decide_full(self, started: datetime) -> bool:
        """A catalog run always reads the whole catalog."""
        return False

    async def resume(self, pending: BulkOpRow) -> None:
        """Record a crashed run's batch as it would have: hashes, course ids, restore, tags."""
        if pending.op_type == "archive":
            archived = load(ArchiveBatch, pending.context)
            if archived is None:
                return  # recorded by an older version: the next run archives them again
            ids = [a.external_id for a in archived.items]
            outcomes = await self._results(pending.op_id, ids)
            done = [ext for ext in ids if (o := outcomes.get(ext)) is not None and o.ok]
            self.ctx.store.items.mark_archived(self.ctx.conn, done, self.ctx.now())
            self.ctx.tally.add("archived", len(done))
            return
        batch = load(ItemBatch, pending.context)
        if batch is None:
            return  # recorded by an older version: the next listing sends them once more
        sent = batch.items
        await self._record_batch(
            sent, await self._results(pending.op_id, [i.external_id for i in sent])
        )

    async def run(self, started: datetime) -> Status:
        """Stream the listings, send what changed, then archive what left Udemy."""
        ctx = MappingContext(
            account_name=self.ctx.options.account_name,
            owner_lang=await self._owner_lang(),
            tags_enabled=self.ctx.options.tags_enabled,
            learning_paths_enabled=self.ctx.options.learning_paths_enabled,
            launch_hosts=self.ctx.options.launch_hosts,
        )
        if self.ctx.options.tags_enabled:
            await self._load_tags()
        seen_at = self._seen_marker(started)
        self.seen_at = seen_at
        async with asyncio.TaskGroup() as tasks:
            await self._stream(ctx, seen_at, tasks)
        self.ctx.flush_outcomes()
        await self._archive(seen_at)
        return self.ctx.status_from_tally()

    async def _results(self, op_id: str, sent: Sequence[str]) -> BulkOutcome[str]:
        """An operation's per-item results, paired with the external ids sent."""
        outcome = await self.ctx.l360.get_course_results(op_id, sent)
        if outcome.unpaired:
            self.ctx.tally.error(
                f"bulk operation {op_id}: {len(outcome.unpaired)} result(s) did not match what"
                " was sent; the items they leave without a result are retried"
            )
        return outcome

    async def _owner_lang(self) -> str | None:
        """Return the integration owner's language, the fallback ``defaultLang``.

        ``udemy360 check`` only warns when the credentials lack ``users:read``; the run then
        goes on with no owner language (courses without a locale get ``en``) and says so.
        """
        try:
            owner = await self.ctx.l360.get_user(self.ctx.options.owner_id)
        except (Learning360ScopeError, Learning360NotFound) as exc:
            message = (
                f"could not read the owner's language ({exc}); courses without a language "
                "of their own are sent in English"
            )
            logger.warning(message)
            self.ctx.tally.error(message)
            return None
        return owner.lang

    def _seen_marker(self, started: datetime) -> datetime:
        """Return this run's ``seen_at``: strictly later than any mark already in the store.

        The archive diff counts an item as seen only if it carries this run's mark, so no
        earlier run (even one whose clock ran ahead) can make a vanished item look seen.
        """
        latest = self.ctx.store.items.max_seen_at(self.ctx.conn)
        if latest is None or latest < started:
            return started
        return latest + timedelta(milliseconds=1)

    async def _load_tags(self, *, again: bool = False) -> None:
        """Learn the platform's tags; the live listing wins over ids kept in the store.

        Names compare case-insensitively (DESIGN.md). A stored id the listing lacks was
        deleted in 360Learning: it is forgotten, and the tag is created again when needed.
        """
        if self.tags_loaded and not again:
            return
        live: dict[str, str] = {}
        async for tag in self.ctx.l360.iter_tags():
            live.setdefault(tag_key(tag.name), tag.id)
        live_ids = set(live.values())
        stored = self.ctx.store.tags.ids(self.ctx.conn)
        gone = {tag_id for tag_id in stored.values() if tag_id not in live_ids}
        if gone and not self.ctx.dry_run:
            logger.info("forgetting %d tag(s) deleted in 360Learning", len(gone))
            self.ctx.store.tags.delete(self.ctx.conn, gone)
        self.stored_tags = {key: tag_id for key, tag_id in stored.items() if tag_id in live_ids}
        self.tag_ids = {**self.stored_tags, **live}
        self.tags_loaded = True

    async def _stream(
        self, ctx: MappingContext, seen_at: datetime, tasks: asyncio.TaskGroup
    ) -> None:
        """Read the listings in the background and process their pages as they arrive.

        Reading never waits for 360Learning: pages queue up (at most ``_PAGES_AHEAD``) while a
        full batch waits for a bulk slot, and the learning-path listing is read alongside the
        course listing.
        """
        queue: asyncio.Queue[_Listed | None] = asyncio.Queue(maxsize=_PAGES_AHEAD)
        courses = ListingTally("courses")
        self.listings.append(courses)
        readers = 1
        async with asyncio.TaskGroup() as reading:
            reading.create_task(
                self._read("course", "courses", self.ctx.udemy.iter_course_pages(), courses, queue)
            )
            if self.ctx.options.learning_paths_enabled:
                paths = ListingTally("learning paths")
                self.listings.append(paths)
                pages = self.ctx.udemy.iter_learning_path_pages()
                reading.create_task(
                    self._read("learning_path", "learning paths", pages, paths, queue)
                )
                readers += 1
            while readers:
                listed = await queue.get()
                if listed is None:
                    readers -= 1
                    continue
                mapped, problem_ids = _map_page(listed, ctx)
                await self._page(
                    listed.kind, mapped, problem_ids, listed.page.problems, seen_at, tasks
                )
        if self.buffer:
            await self._send(tasks)

    async def _read(
        self,
        kind: ItemKind,
        task: str,
        pages: AsyncIterator[UdemyPage[UdemyCourse]] | AsyncIterator[UdemyPage[UdemyLearningPath]],
        tally: ListingTally,
        queue: asyncio.Queue[_Listed | None],
    ) -> None:
        self.ctx.progress.start(task, None)
        async for page in pages:
            stop = page.stop.reason if page.stop is not None else None
            tally.add_page(page.count, len(page.items), len(page.problems), page.skipped, stop=stop)
            self.ctx.listing_stopped(task, page.stop)
            await queue.put(_Listed(kind, page))
            self.ctx.progress.advance(task, len(page.items) + len(page.problems))
        self.ctx.progress.finish(task)
        await queue.put(None)

    async def _page(
        self,
        kind: str,
        mapped: Sequence[MappedCourse | MappingProblem],
        problem_ids: Sequence[str],
        problems: Sequence[object],
        seen_at: datetime,
        tasks: asyncio.TaskGroup,
    ) -> None:
        self.ctx.tally.add("fetched", len(mapped) + len(problems))
        for problem in problems:
            record_id = getattr(problem, "record_id", None) or "?"
            self.ctx.item_error(
                kind, str(record_id), str(getattr(problem, "reason", "invalid record"))
            )
        good = [m for m in mapped if isinstance(m, MappedCourse)]
        seen = [m.external_id for m in good] + list(problem_ids)
        for m in mapped:
            if isinstance(m, MappingProblem):
                self.ctx.item_error(kind, m.external_id or str(m.udemy_id or "?"), m.reason)
                if m.external_id:
                    seen.append(m.external_id)
        # seen marks drive the archive diff; a dry run keeps them in memory instead, so the
        # store it leaves behind is the one the next real run would have found anyway
        if self.ctx.dry_run:
            self.dry_seen.update(seen)
            known = self.ctx.store.items.get(self.ctx.conn, [m.external_id for m in good])
        else:
            known = await self.ctx.db(self._mark_and_lookup, seen, good, seen_at)
        now = self.ctx.now()
        langs: dict[str, str] = {}
        for m in good:
            row = known.get(m.external_id)
            item = _known_item(row) if row is not None else None
            action = plan_item(m.hash, item, now)
            if row is not None and action != "deferred" and row.default_lang is None:
                langs[m.external_id] = m.payload.default_lang  # rows from older versions
            if action == "unchanged":
                self.ctx.tally.add("unchanged")
            elif action == "deferred":
                self.ctx.tally.add("deferred")
            elif self.ctx.dry_run:
                self.ctx.tally.add(f"would_{action}")
            else:
                self.buffer.append(m.payload)
                self.buffer_items.append(_sent_item(m, action, item))
                if len(self.buffer) >= self.ctx.options.course_batch_size:
                    await self._send(tasks)
        if langs and not self.ctx.dry_run:
            self.ctx.store.items.set_default_langs(self.ctx.conn, langs)

    def _mark_and_lookup(
        self, seen: Sequence[str], good: Sequence[MappedCourse], seen_at: datetime
    ) -> dict[str, ItemRow]:
        """One page's store work: mark what the listing holds, read what the store knows."""
        self.ctx.store.items.mark_seen(self.ctx.conn, seen, seen_at)
        return self.ctx.store.items.get(self.ctx.conn, [m.external_id for m in good])

    async def _send(self, tasks: asyncio.TaskGroup) -> None:
        payloads, sent = self.buffer, self.buffer_items
        self.buffer, self.buffer_items = [], []
        # blocks while the client's bulk slots are busy: that is what bounds memory
        op = await self.ctx.l360.submit_courses(self.ctx.options.integration_id, payloads)
        del payloads  # the payloads are sent: only the small per-item records stay in flight
        await self.ctx.record_operation(
            "courses", op, len(sent), dump(ItemBatch(items=tuple(sent)))
        )
        tasks.create_task(self._finish_batch(op, sent))

    async def _finish_batch(self, op: BulkOperation, items: Sequence[SentItem]) -> None:
        done = await self.ctx.wait(op)
        outcomes = await self._results(op.id, [item.external_id for item in items])
        await self._record_batch(items, outcomes)
        self.ctx.finish_operation(op.id, done.status)

    async def _record_batch(self, items: Sequence[SentItem], by_id: BulkOutcome[str]) -> None:
        """Record a finished upsert's results, then restore and tag the accepted items."""
        now = self.ctx.now()
        updates: list[ItemUpdate] = []
        accepted: list[tuple[SentItem, str]] = []
        for item in items:
            result = by_id.get(item.external_id)
            course_id = (result.resource_id if result else None) or item.course_id
            if result is not None and result.ok and course_id:
                updates.append(
                    ItemUpdate(
                        external_id=item.external_id,
                        kind=item.kind,
                        udemy_id=item.udemy_id,
                        # a restored item stays "archived" in the store until the restore call
                        state=ItemState.ARCHIVED if item.action == "restore" else ItemState.ACTIVE,
                        payload_hash=item.hash,
                        course_id=course_id,
                        video_url=item.video_url,
                        default_lang=item.default_lang,
                        last_sent_at=now,
                        seen_at=self.seen_at,
                    )
                )
                accepted.append((item, course_id))
                if item.action != "restore":
                    self.ctx.tally.add("created" if item.action == "create" else "updated")
            else:
                message = result.error.message if result and result.error else "no result"
                updates.append(self._failed(item, now, message))
                self.ctx.item_error(item.kind, item.external_id, message)
        await self.ctx.db(self.ctx.store.items.upsert, self.ctx.conn, updates)
        del updates
        for item, course_id in accepted:
            if item.action == "restore" or (
                self.ctx.options.tags_enabled and item.kind == "course"
            ):
                await self._after_upsert(item, course_id)
        self.ctx.flush_outcomes()

    def _failed(self, item: SentItem, now: datetime, message: str) -> ItemUpdate:
        attempts = item.attempts + 1
        return ItemUpdate(
            external_id=item.external_id,
            kind=item.kind,
            udemy_id=item.udemy_id,
            # an archived item whose restore failed stays archived (the store clears
            # archived_at for any other state), so the next run tries the restore again
            state=ItemState.ARCHIVED if item.action == "restore" else ItemState.FAILED,
            last_error=message,
            payload_hash=None,  # forces a resend once the retry time has come
            course_id=item.course_id,
            attempts=attempts,
            next_retry_at=next_retry_at(attempts, now, self.ctx.options.retry_failed_after),
            video_url=item.video_url,
            seen_at=self.seen_at,
        )

    async def _after_upsert(self, item: SentItem, course_id: str) -> None:
        """Restore and tag an accepted item; failures here are the item's, not the run's.

        The item's new hash is already stored; on any API failure (after the client's own
        retries) it is cleared again and the item marked failed, so a later run sends it
        again and finishes the restore or the tags. Refused credentials stop the run. An
        endpoint that keeps failing (server, network, throttling) is not called again in this
        run once its budget is spent: the remaining items wait for the next run.
        """
        step = "restore" if item.action == "restore" else "tags"
        try:
            if item.action == "restore":
                if not self.ctx.budget.open("restore"):
                    return self._defer(item, course_id, "restore")
                await self.ctx.l360.set_course_archived(course_id, False)
                self.ctx.store.items.mark_restored(
                    self.ctx.conn, [item.external_id], self.ctx.now()
                )
                self.ctx.tally.add("restored")
            if self.ctx.options.tags_enabled and item.kind == "course":
                step = "tags"
                if not self.ctx.budget.open("tags"):
                    return self._defer(item, course_id, "tags")
                await self._tag(item, course_id)
        except Learning360AuthError:
            raise
        except Learning360Error as exc:
            failed = self._failed(replace(item, course_id=course_id), self.ctx.now(), str(exc))
            self.ctx.store.items.upsert(self.ctx.conn, [failed])
            self.ctx.item_error(item.kind, item.external_id, f"{step} failed: {exc}")
            if isinstance(exc, _OUTAGE) and self.ctx.budget.failed(step):
                self.ctx.tally.error(
                    f"360Learning's {step} endpoint kept failing: this run stops calling it; "
                    "the remaining items are retried by the next run"
                )
        return None

    def _defer(self, item: SentItem, course_id: str, step: str) -> None:
        """Leave an item's restore or tags for the next run (its endpoint is out of budget)."""
        message = f"{step} not tried: the endpoint kept failing in this run"
        failed = self._failed(replace(item, course_id=course_id), self.ctx.now(), message)
        self.ctx.store.items.upsert(self.ctx.conn, [failed])
        self.ctx.tally.add("failed")
        self.ctx.tally.add(f"{step}_deferred")

    async def _ensure_tag(self, name: str) -> str:
        key = tag_key(name)
        async with self.tag_lock:
            tag_id = self.tag_ids.get(key)
            if tag_id is None:
                tag = await self.ctx.l360.create_tag(name.strip())
                tag_id = tag.id
                self.tag_ids[key] = tag_id
                self.ctx.tally.add("tags_created")
            if self.stored_tags.get(key) != tag_id:
                self.ctx.store.tags.save(self.ctx.conn, name.strip(), tag_id)
                self.stored_tags[key] = tag_id
            return tag_id

    async def _tag(self, item: SentItem, course_id: str) -> None:
        await self._load_tags()  # already done, except when recording a resumed batch
        for attempt in (1, 2):
            wanted = [await self._ensure_tag(name) for name in item.tag_names]
            if item.is_new:
                current: list[str] = []  # created by this very batch: it cannot carry tags yet
            else:
                current = [t.tag_id for t in await self.ctx.l360.get_course_tags(course_id)]
            ours = self.ctx.store.tags.attached(self.ctx.conn, item.external_id)
            plan = plan_course_tags(current, ours, wanted)
            if plan.changed:
                try:
                    await self.ctx.l360.replace_course_tags(course_id, plan.tag_ids)
                except Learning360NotFound as exc:
                    if exc.code != "tagNotFound" or attempt == 2:
                        raise
                    # a tag was deleted in 360Learning since we listed them: list again,
                    # which forgets the stale id, and create the tag anew
                    async with self.tag_lock:
                        await self._load_tags(again=True)
                    continue
                self.ctx.tally.add("tagged")
            self.ctx.store.tags.set_attached(self.ctx.conn, item.external_id, plan.ours)
            return

    async def _archive(self, seen_at: datetime) -> None:
        kinds: tuple[ItemKind, ...] = (
            ("course", "learning_path") if self.ctx.options.learning_paths_enabled else ("course",)
        )
        unseen: list[str] = []
        kinds_by_id: dict[str, ItemKind] = {}
        active = 0
        for kind in kinds:
            for row in self.ctx.store.items.iter(self.ctx.conn, kind=kind):
                if row.state == ItemState.ARCHIVED or row.course_id is None:
                    continue
                active += 1
                if self.ctx.dry_run:
                    if row.external_id not in self.dry_seen:
                        unseen.append(row.external_id)
                elif row.seen_at is None or row.seen_at < seen_at:
                    unseen.append(row.external_id)
                    kinds_by_id[row.external_id] = kind
        check_archive(
            len(unseen),
            active,
            listings=self.listings,
            max_share=self.ctx.options.max_archive_share,
            allow_mass_archive=self.allow_mass_archive,
        )
        if not unseen:
            return
        if self.ctx.dry_run:
            self.ctx.tally.add("would_archive", len(unseen))
            return
        for chunk in chunks(unseen, self.ctx.options.archive_batch_size):
            op = await self.ctx.l360.submit_archive(self.ctx.options.integration_id, chunk)
            sent = ArchiveBatch(
                items=tuple(SentArchive(external_id=e, kind=kinds_by_id[e]) for e in chunk)
            )
            await self.ctx.record_operation("archive", op, len(chunk), dump(sent))
            ended = await self.ctx.wait(op)
            by_id = await self._results(op.id, chunk)
            done = [ext for ext in chunk if (r := by_id.get(ext)) is not None and r.ok]
            self.ctx.store.items.mark_archived(self.ctx.conn, done, self.ctx.now())
            self.ctx.finish_operation(op.id, ended.status)
            self.ctx.tally.add("archived", len(done))
            for ext in chunk:
                r = by_id.get(ext)
                if r is None or not r.ok:
                    message = r.error.message if r and r.error else "no result for this item"
                    self.ctx.item_error(kinds_by_id[ext], ext, f"archive failed: {message}")


@dataclass(frozen=True, slots=True)
class _Listed:
    """One Udemy page waiting to be processed, and the listing it belongs to."""

    kind: ItemKind
    page: UdemyPage[UdemyCourse] | UdemyPage[UdemyLearningPath]


def _map_page(
    listed: _Listed, ctx: MappingContext
) -> tuple[list[MappedCourse | MappingProblem], list[str]]:
    """Map one page; also return the external ids of its invalid records (they count as seen)."""
    page = listed.page
    if listed.kind == "course":
        courses = [c for c in page.items if isinstance(c, UdemyCourse)]
        problem_ids = [p.record_id for p in page.problems if p.record_id]
        return [map_course(course, ctx) for course in courses], problem_ids
    paths = [p for p in page.items if isinstance(p, UdemyLearningPath)]
    path_ids = [
        path_external_id(int(p.record_id))
        for p in page.problems
        if p.record_id and p.record_id.isdigit()
    ]
    return [map_learning_path(path, ctx) for path in paths], path_ids


def _sent_item(m: MappedCourse, action: ItemAction, item: KnownItem | None) -> SentItem:
    return SentItem(
        external_id=m.external_id,
        kind=m.kind,
        udemy_id=m.udemy_id,
        hash=m.hash,
        video_url=m.video_url,
        action=action,
        attempts=item.attempts if item else 0,
        course_id=item.course_id if item else None,
        tag_names=m.tag_names,
        default_lang=m.payload.default_lang,
        is_new=item is None,
    )
