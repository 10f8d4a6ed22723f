"""An emulated 360Learning API v2: integrations, external courses, statistics, tags, bulk ops.

It validates requests against 360Learning's own OpenAPI definitions (vendored in ``contracts/``)
and imports nothing from the client packages, so a bug in our models cannot be mirrored here.
See ``docs/sandbox-360learning.md``.
"""

from __future__ import annotations

from udemy360.sandbox.learning360._contracts import (
    ContractIndex,
    Operation,
    SchemaProblem,
    load_contract,
)
from udemy360.sandbox.learning360._faults import BulkDelays, Learning360Faults, ResultsFault
from udemy360.sandbox.learning360._world import (
    ApiError,
    Attempt,
    BulkOperation,
    Course,
    Integration,
    Learning360World,
    Tag,
    User,
)
from udemy360.sandbox.learning360.app import RequestLogEntry, create_app
from udemy360.sandbox.learning360.sandbox import Learning360Sandbox

__all__ = [
    "ApiError",
    "Attempt",
    "BulkDelays",
    "BulkOperation",
    "ContractIndex",
    "Course",
    "Integration",
    "Learning360Faults",
    "Learning360Sandbox",
    "Learning360World",
    "Operation",
    "RequestLogEntry",
    "ResultsFault",
    "SchemaProblem",
    "Tag",
    "User",
    "create_app",
    "load_contract",
]
