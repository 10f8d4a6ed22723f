"""Suite-wide fixtures: every request to 360Learning is checked against the official contract."""

from __future__ import annotations

import os

from hypothesis import settings

pytest_plugins = ["tests.contract.plugin"]

# CI runs the same examples every time: a property test found failing is fixed with an
# explicit @example, never by a lucky re-run. Locally, new examples are explored.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
