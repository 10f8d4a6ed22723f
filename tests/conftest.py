"""Suite-wide fixtures: every request to 360Learning is checked against the official contract."""

from __future__ import annotations

pytest_plugins = ["tests.contract.plugin"]
