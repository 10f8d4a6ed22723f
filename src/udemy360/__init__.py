"""udemy360: keeps a 360Learning platform in step with a Udemy Business account."""

from __future__ import annotations

__version__ = "0.1.0"
