"""Benchmark settings: the tenant size for a scale factor and both sandboxes' realism knobs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bench.bound import Limits

# The large customer of the issue (DESIGN.md "Numbers the design must hold"), at scale 1.0.
FULL_COURSES = 30_000
FULL_LEARNING_PATHS = 1_000
FULL_LEARNERS = 100_000
FULL_ACTIVITY_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class TenantSize:
    """How many records the Udemy sandbox generates (lazily) for one scale factor."""

    courses: int
    learning_paths: int
    learners: int
    activity_rows: int

    @classmethod
    def for_scale(cls, scale: float) -> TenantSize:
        """Return the large tenant multiplied by ``scale`` (at least one of each)."""
        return cls(
            courses=max(1, round(FULL_COURSES * scale)),
            learning_paths=max(1, round(FULL_LEARNING_PATHS * scale)),
            learners=max(1, round(FULL_LEARNERS * scale)),
            activity_rows=max(1, round(FULL_ACTIVITY_ROWS * scale)),
        )


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """Everything one benchmark run was started with; printed and stored with the results."""

    scale: float = 0.1
    limits: Limits = field(default_factory=Limits)
    udemy_concurrency: int = 4
    udemy_client_rps: float | None = None
    learning_paths: bool = True
    tags: bool = False
    seed: int = 7
    changed_course_share: float = 0.01
    advanced_enrollment_share: float = 0.05
    # The dlt comparison reads the whole Udemy tenant three times, twice one page at a time; a
    # smaller tenant for it keeps `make bench-small` within minutes. None = the main scale.
    peer_scale: float | None = None
    # The tag-sync scenario's tenant: its time is set by one tag call per course at 10 writes/s,
    # about 5 minutes per 3,000 courses. None = the main scale.
    tags_scale: float | None = None

    @property
    def tenant(self) -> TenantSize:
        """Return the tenant size for this scale."""
        return TenantSize.for_scale(self.scale)

    def to_dict(self) -> dict[str, object]:
        """Return the settings as plain JSON-ready values."""
        out = asdict(self)
        out["tenant"] = asdict(self.tenant)
        return out
