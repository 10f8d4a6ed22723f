"""Local emulations of the Udemy Business and 360Learning APIs, for tests, benchmarks and the demo.

The sandboxes import nothing from the client packages: they are independent implementations of the
APIs, so a bug in our clients or models cannot be mirrored by the fake.
"""

from __future__ import annotations
