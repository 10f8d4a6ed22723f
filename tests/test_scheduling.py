"""Next-run computation across DST changes and midnight, and the runner on a fake clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from udemy360.scheduling import (
    DailyJob,
    Scheduler,
    is_missed,
    next_run,
    occurrence,
    previous_run,
)

PARIS = ZoneInfo("Europe/Paris")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class TestOccurrence:
    def test_winter_is_utc_plus_one(self) -> None:
        """07:30 in Paris in January is 06:30 UTC (the spec's "CET, UTC+1")."""
        assert occurrence(date(2026, 1, 15), time(7, 30), PARIS) == utc(2026, 1, 15, 6, 30)

    def test_summer_follows_daylight_saving(self) -> None:
        """07:30 in Paris in July is 05:30 UTC: the run keeps its wall-clock time."""
        assert occurrence(date(2026, 7, 15), time(7, 30), PARIS) == utc(2026, 7, 15, 5, 30)

    def test_spring_forward_gap_runs_at_end_of_gap(self) -> None:
        """02:30 does not exist on 29 March 2026: the run is at 03:00 local (01:00 UTC)."""
        when = occurrence(date(2026, 3, 29), time(2, 30), PARIS)
        assert when == utc(2026, 3, 29, 1, 0)
        assert when.astimezone(PARIS).strftime("%H:%M") == "03:00"

    def test_fall_back_ambiguity_runs_at_first_occurrence(self) -> None:
        """02:30 happens twice on 25 October 2026: the run is at the first (00:30 UTC)."""
        assert occurrence(date(2026, 10, 25), time(2, 30), PARIS) == utc(2026, 10, 25, 0, 30)

    def test_times_around_dst_days_are_unchanged(self) -> None:
        """07:30 on both change days is still 07:30 local."""
        for day in (date(2026, 3, 29), date(2026, 10, 25)):
            local = occurrence(day, time(7, 30), PARIS).astimezone(PARIS)
            assert (local.hour, local.minute) == (7, 30)


class TestNextRun:
    def test_later_today(self) -> None:
        """Before 07:30 local the next run is today."""
        assert next_run(time(7, 30), PARIS, utc(2026, 1, 15, 5, 0)) == utc(2026, 1, 15, 6, 30)

    def test_exactly_at_time_moves_to_tomorrow(self) -> None:
        """At the scheduled instant itself the next run is the following day."""
        assert next_run(time(7, 30), PARIS, utc(2026, 1, 15, 6, 30)) == utc(2026, 1, 16, 6, 30)

    def test_across_midnight_local(self) -> None:
        """At 00:30 Paris (23:30 UTC the day before) the 07:30 run is the same local day."""
        assert next_run(time(7, 30), PARIS, utc(2026, 1, 14, 23, 30)) == utc(2026, 1, 15, 6, 30)

    def test_job_just_after_midnight(self) -> None:
        """A 00:15 job seen at 23:50 local runs 25 minutes later, on the next local day."""
        assert next_run(time(0, 15), PARIS, utc(2026, 1, 14, 22, 50)) == utc(2026, 1, 14, 23, 15)

    def test_across_spring_forward(self) -> None:
        """From the evening before the March change, 07:30 comes 23 h of UTC later minus 1 h."""
        after = utc(2026, 3, 28, 7, 0)  # 08:00 CET
        assert next_run(time(7, 30), PARIS, after) == utc(2026, 3, 29, 5, 30)

    def test_ambiguous_time_runs_once(self) -> None:
        """After the first 02:30 of the October change the next run is the next day."""
        first = utc(2026, 10, 25, 0, 30)
        assert next_run(time(2, 30), PARIS, first) == utc(2026, 10, 26, 1, 30)

    @pytest.mark.parametrize(
        "tz_name", ["Europe/Paris", "America/New_York", "Australia/Sydney", "UTC"]
    )
    def test_daily_sequence_is_strictly_increasing(self, tz_name: str) -> None:
        """A year of next runs never repeats or skips a local day."""
        tz = ZoneInfo(tz_name)
        when = utc(2026, 1, 1)
        days = []
        for _ in range(366):
            when = next_run(time(2, 30), tz, when)
            days.append(when.astimezone(tz).date())
        assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))


class TestMissed:
    def test_never_run_is_missed(self) -> None:
        """With no run at all the job counts as missed."""
        assert is_missed(time(7, 30), PARIS, utc(2026, 1, 15, 12), None)

    def test_ran_today(self) -> None:
        """A run started after today's slot means nothing was missed."""
        assert not is_missed(time(7, 30), PARIS, utc(2026, 1, 15, 12), utc(2026, 1, 15, 6, 31))

    def test_ran_yesterday_only(self) -> None:
        """Yesterday's run does not cover today's passed slot."""
        assert is_missed(time(7, 30), PARIS, utc(2026, 1, 15, 12), utc(2026, 1, 14, 6, 31))

    def test_before_todays_slot(self) -> None:
        """Before today's slot, yesterday's run is enough."""
        now = utc(2026, 1, 15, 5)
        assert previous_run(time(7, 30), PARIS, now) == utc(2026, 1, 14, 6, 30)
        assert not is_missed(time(7, 30), PARIS, now, utc(2026, 1, 14, 6, 31))


class FakeClock:
    """A UTC clock that only moves when the scheduler sleeps."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


class Recorder:
    """Records which job ran when, and can claim a last run per job."""

    def __init__(self, clock: FakeClock, last: dict[str, datetime] | None = None) -> None:
        self.clock = clock
        self.ran: list[tuple[str, datetime]] = []
        self.last = dict(last or {})

    async def run(self, job: str) -> None:
        self.ran.append((job, self.clock.now))
        self.last[job] = self.clock.now
        self.clock.now += timedelta(minutes=3)  # a job takes a while

    def last_started(self, job: str) -> datetime | None:
        return self.last.get(job)


JOBS = [DailyJob("courses", time(7, 30)), DailyJob("stats", time(7, 45))]


class TestScheduler:
    async def test_runs_due_jobs_at_their_times(self) -> None:
        """Started at 06:00 after yesterday's runs, both jobs run at 07:30 and 07:45 local."""
        clock = FakeClock(utc(2026, 1, 15, 5, 0))
        recorder = Recorder(
            clock, {"courses": utc(2026, 1, 14, 6, 30), "stats": utc(2026, 1, 14, 6, 45)}
        )
        scheduler = Scheduler(
            JOBS,
            tz=PARIS,
            run_job=recorder.run,
            last_started=recorder.last_started,
            clock=clock,
            sleep=clock.sleep,
        )
        await scheduler.run(max_runs=2)
        assert recorder.ran == [
            ("courses", utc(2026, 1, 15, 6, 30)),
            ("stats", utc(2026, 1, 15, 6, 45)),
        ]

    async def test_catches_up_missed_run_once(self) -> None:
        """Started at noon with no run since yesterday, each job runs once now, then tomorrow."""
        clock = FakeClock(utc(2026, 1, 15, 11, 0))
        recorder = Recorder(
            clock, {"courses": utc(2026, 1, 14, 6, 30), "stats": utc(2026, 1, 14, 6, 45)}
        )
        scheduler = Scheduler(
            JOBS,
            tz=PARIS,
            run_job=recorder.run,
            last_started=recorder.last_started,
            clock=clock,
            sleep=clock.sleep,
        )
        await scheduler.run(max_runs=3)
        assert [job for job, _ in recorder.ran] == ["courses", "stats", "courses"]
        assert recorder.ran[0][1] == utc(2026, 1, 15, 11, 0)
        assert recorder.ran[2][1] == utc(2026, 1, 16, 6, 30)

    async def test_no_catch_up_when_up_to_date(self) -> None:
        """A restart after today's runs runs nothing until tomorrow."""
        clock = FakeClock(utc(2026, 1, 15, 11, 0))
        recorder = Recorder(
            clock, {"courses": utc(2026, 1, 15, 6, 30), "stats": utc(2026, 1, 15, 6, 45)}
        )
        scheduler = Scheduler(
            JOBS,
            tz=PARIS,
            run_job=recorder.run,
            last_started=recorder.last_started,
            clock=clock,
            sleep=clock.sleep,
        )
        assert await scheduler.catch_up() == []

    async def test_sleeps_are_bounded(self) -> None:
        """The runner re-reads the clock at least every max_sleep seconds (suspend-safe)."""
        clock = FakeClock(utc(2026, 1, 15, 8, 0))
        recorder = Recorder(
            clock, {"courses": utc(2026, 1, 15, 6, 30), "stats": utc(2026, 1, 15, 6, 45)}
        )
        scheduler = Scheduler(
            JOBS,
            tz=PARIS,
            run_job=recorder.run,
            last_started=recorder.last_started,
            clock=clock,
            sleep=clock.sleep,
            max_sleep=300,
        )
        await scheduler.run(max_runs=1)
        assert max(clock.sleeps) <= 300
        assert recorder.ran == [("courses", utc(2026, 1, 16, 6, 30))]

    async def test_stop_ends_idle_loop(self) -> None:
        """stop() ends a loop that is waiting for the next run, with no job run."""
        clock = FakeClock(utc(2026, 1, 15, 8, 0))
        recorder = Recorder(
            clock, {"courses": utc(2026, 1, 15, 6, 30), "stats": utc(2026, 1, 15, 6, 45)}
        )
        scheduler: Scheduler

        async def stopping_sleep(seconds: float) -> None:
            scheduler.stop()
            await clock.sleep(seconds)

        scheduler = Scheduler(
            JOBS,
            tz=PARIS,
            run_job=recorder.run,
            last_started=recorder.last_started,
            clock=clock,
            sleep=stopping_sleep,
        )
        await scheduler.run()
        assert recorder.ran == []
