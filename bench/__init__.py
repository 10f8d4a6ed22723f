"""Benchmarks for udemy360: how close a sync comes to the bound the two APIs' limits allow.

Run with ``python -m bench --scale 0.1`` (``make bench-small``) or ``--scale 1.0``
(``make bench``). Results go to ``bench/results/`` and the tables in ``BENCHMARKS.md``.
"""

from __future__ import annotations

from bench.bound import Bound, BulkWork, Limits, Workload, compute_bound, efficiency, pages_for
from bench.settings import BenchSettings, TenantSize

__all__ = [
    "BenchSettings",
    "Bound",
    "BulkWork",
    "Limits",
    "TenantSize",
    "Workload",
    "compute_bound",
    "efficiency",
    "pages_for",
]
