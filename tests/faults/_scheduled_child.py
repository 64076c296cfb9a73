"""A bot process for kill -9 tests: `paperboy run`'s wiring for Slack at a given instant.

Run as `python -m tests.faults._scheduled_child CONFIG ISO_INSTANT`: opens the runtime
(TinyDB store, search index) as `paperboy run` does, connects the real Slack adapter (the
Web API at the config's `[slack] api_url`, a fake in the parent test process; token from
SLACK_BOT_TOKEN), starts the real scheduler with its clock fixed at the instant — so its
catch-up posts every channel due then, concurrently as at a busy 09:00 — and exits when the
catch-up is done. The parent kills it with strace at a chosen durable write and runs it
again, as a restart would. Pacing is off: the fake Slack does not rate limit.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from adapters.slack.adapter import Pacer, SlackAdapter
from bot.alerts import AdminAlerts
from bot.config import load_config
from bot.running import connect_all, schedule_posts
from bot.runtime import open_runtime
from paperboy.wiring import build_service


async def main(config_path: Path, instant: datetime) -> None:
    config = load_config(config_path, os.environ)
    async with open_runtime(config) as rt:
        service = await build_service(rt, lambda: instant)
        adapter = SlackAdapter(service, config.slack, bot_token=os.environ["SLACK_BOT_TOKEN"],
                               pacer=Pacer(0))
        alerts = AdminAlerts.from_config(config, lambda: instant, rt.store)
        targets = await connect_all(service, [adapter], alerts)
        scheduler = schedule_posts(service, targets, alerts, store=rt.store,
                                   clock=lambda: instant)
        try:
            await scheduler.start()  # the catch-up posts every channel due at `instant`
        finally:
            await scheduler.shutdown()
            await adapter.close()
            await service.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2])))
