"""kill -9 at every durable write of a Slack daily post: each message lands exactly once.

A dry run of `paperboy post --channel papers` under strace lists the durable writes (the
renames and links that put the store's files in place) a 6-message post makes against the
fake Web API. Then, for each one, a fresh data directory and a fresh fake channel: the
post is killed by strace's fault injection as it makes that write, and run again, as a
restart would. Slack has no idempotency key, so the restart must ask the channel
(`conversations.history`, the messages' metadata) whether the message in flight landed.
The channel must end with the header and every pick exactly once.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.kill_points import unproven_kills
from tests.fakes.slack_api import FakeSlack
from tests.scenarios.conftest import DAY, PAPERBOY, config_text
from tests.service.conftest import PICKS

pytestmark = pytest.mark.skipif(shutil.which("strace") is None,
                                reason="strace is not installed (apt-get install strace)")

DURABLE = ("rename", "renameat", "renameat2", "link", "linkat")
CHANNEL = '\n[[channels]]\nname = "papers"\nplatform = "slack"\nid = "C0PAPERS"\n'
EXPECTED = Counter({"header": 1, **{pick: 1 for pick in PICKS}})
_CALL = re.compile(r"^\d+\s+(?P<call>\w+)\(")
CHILD_TIMEOUT = 90.0


async def _prepare(workdir: Path, hf_fake: FakeHuggingFace, slack: FakeSlack,
                   template: Path) -> None:
    """A data directory whose search index exists, as on any bot that ran before (a copy
    of `template`'s, made once): the kill points under test are the post's own writes."""
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - a test's setup
    extra = f"\n[slack]\napi_url = {json.dumps(slack.api_url)}\n"
    config = workdir / "config.toml"
    config.write_text(config_text(hf_url=hf_fake.base_url, data_dir=workdir / "data",
                                  channels=CHANNEL, extra=extra))
    if not (template / "data").exists():
        await _prepare_template(template, hf_fake, slack)
    shutil.copytree(template / "data", workdir / "data")


async def _prepare_template(template: Path, hf_fake: FakeHuggingFace, slack: FakeSlack) -> None:
    template.mkdir(parents=True)  # noqa: ASYNC240 - a test's setup
    (template / "config.toml").write_text(config_text(
        hf_url=hf_fake.base_url, data_dir=template / "data", channels=CHANNEL))
    assert await _paperboy(template, "index", "rebuild") == 0


async def _post(workdir: Path, *strace: str) -> int:
    return await _paperboy(workdir, "post", "--channel", "papers", "--date", DAY,
                           strace=strace)


async def _paperboy(workdir: Path, *args: str, strace: tuple[str, ...] = ()) -> int:
    config = workdir / "config.toml"
    process = await asyncio.create_subprocess_exec(
        *strace, str(PAPERBOY), "--config", str(config), *args, cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        # No .pyc writes: they are renames too, and would shift the count between runs.
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "PYTHONDONTWRITEBYTECODE": "1",
             "SLACK_BOT_TOKEN": "xoxb-crash-test"},
    )
    return await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)


async def _durable_writes(workdir: Path, hf_fake: FakeHuggingFace) -> list[tuple[str, int]]:
    trace = workdir / "trace.txt"
    async with FakeSlack() as slack:
        await _prepare(workdir / "dry", hf_fake, slack, workdir / "template")
        status = await _post(workdir / "dry", "strace", "-f", "-qq", "-e",
                             f"trace={','.join(DURABLE)}", "-o", str(trace))
    assert status == 0, "the uninterrupted post must succeed"
    seen: Counter[str] = Counter()
    writes = []
    for line in trace.read_text("utf-8").splitlines():
        match = _CALL.match(line)
        if match is not None and match["call"] in DURABLE:
            seen[match["call"]] += 1
            writes.append((match["call"], seen[match["call"]]))
    return writes


def _landed(slack: FakeSlack) -> Counter[str]:
    return Counter(m["metadata"]["event_payload"]["key"] for m in slack.posted("C0PAPERS"))


@pytest.mark.timeout(900)  # about 20 runs of the command, each a few seconds
async def test_every_message_lands_exactly_once_whatever_write_the_kill_hits(
    tmp_path: Path, hf_fake: FakeHuggingFace
) -> None:
    writes = await _durable_writes(tmp_path, hf_fake)
    assert writes, "the dry run made no durable write: there is nothing to kill at"
    # A few kill points at a time: each run mostly waits on its own start-up.
    limit = asyncio.Semaphore(4)

    async def kill_at(call: str, n: int) -> tuple[str, int, int, dict[str, int]]:
        async with limit, FakeSlack() as slack:
            workdir = tmp_path / f"{call}-{n}"
            await _prepare(workdir, hf_fake, slack, tmp_path / "template")
            died = await _post(workdir, "strace", "-f", "-qq", "-o", "/dev/null",
                               "-e", f"trace={call}",
                               "-e", f"inject={call}:signal=SIGKILL:when={n}")
            await _post(workdir)
            return call, n, died, dict(_landed(slack))

    outcomes = await asyncio.gather(*(kill_at(call, n) for call, n in writes))
    assert unproven_kills({(call, n): died for call, n, died, _ in outcomes}) == []
    broken = [(call, n, landed) for call, n, _, landed in outcomes if landed != EXPECTED]
    assert broken == []
