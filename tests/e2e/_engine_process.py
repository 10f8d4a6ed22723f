"""Run one engine job in its own process, against sandboxes served by the test process.

Usage: ``python -m tests.e2e._engine_process CONFIG_JSON``; the test kills it mid-run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from udemy360.learning360 import Learning360Client, Learning360Credentials
from udemy360.store import Store
from udemy360.sync import Clients, SyncOptions, as_job, run_job
from udemy360.udemy import UdemyClient, UdemyCredentials


async def main(config: dict[str, str]) -> int:
    store = Store.open(config["store"])
    options = SyncOptions(
        connection_id="acme",
        integration_id=config["integration_id"],
        owner_id=config["owner_id"],
        account_name="acme",
        course_batch_size=5,
        stats_batch_size=10,
    )
    udemy_creds = UdemyCredentials(**json.loads(config["udemy_creds"]))
    l360_creds = Learning360Credentials(**json.loads(config["l360_creds"]))
    today = datetime.fromisoformat(config["today"])
    async with (
        UdemyClient(udemy_creds) as udemy,
        Learning360Client(l360_creds, poll_interval=0.02, max_bulk_in_flight=1) as l360,
    ):
        report = await run_job(
            as_job(config["job"]),
            store=store,
            clients=Clients(udemy, l360),
            options=options,
            now=lambda: today,
            lock_ttl=600,
        )
    print(report.status, flush=True)
    return 0 if report.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
