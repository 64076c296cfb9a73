"""kill -9 during a daily post: the post is resumed, and no paper is ever posted twice.

`paperboy post` runs as a child process and is killed with SIGKILL once its k-th numbered
message has been read (k = 1: the header; 3 and 5: mid-way through the picks). It is then
run again to completion, and once more. Across the three runs each pick is shown at most
once. The restarted run asks the terminal's history whether the message in flight was
printed and sends it only if not; one may be missing only when the kill lands in the
microseconds between the console noting a message in its history and printing it (a kill
at a store write — bench/post_faults.py — never loses one). The last run says the day is
already posted, and the store's record of the day is finished, with each message once.

The kill lands wherever the child has got to when the test reads the k-th line (it may
have printed more by then); whatever the point, these properties hold. Each kill point is
run once, in its own event loop, and the tests below read its outcome.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.models import ChatRef
from bot.store import PostRecord
from bot.store.tinydb import TinyDBStore
from tests.conftest import HF_SAMPLE as SAMPLE
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.scenarios.conftest import (
    CHILD_TIMEOUT,
    DAY,
    PAPERBOY,
    Run,
    child_environment,
    config_text,
    run_paperboy,
)

PICKS = 5  # the sample's five papers all pass the default profile (top 5)
CHANNEL = '\n[[channels]]\nname = "console"\nplatform = "console"\n'
WHERE = ChatRef("console", "console", "console")
NUMBERED = re.compile(rb"^\[\d+\] ")
# A pick message's links line; the header and notes carry no arXiv link.
ARXIV_LINK = re.compile(r"arXiv https://arxiv\.org/abs/(\S+)")


@dataclass(frozen=True)
class Outcome:
    """What the killed run, the completing run and the final run did, and the store after."""

    killed: str  # stdout of the run killed after its k-th message
    killed_status: int
    completing: Run
    final: Run
    record: PostRecord | None

    @property
    def shown(self) -> list[str]:
        """The papers shown across the three runs, in order, repeats included."""
        output = self.killed + self.completing.stdout + self.final.stdout
        return ARXIV_LINK.findall(output)


async def _post_until_killed(k: int, config: Path, cwd: Path) -> tuple[str, int]:
    process = await asyncio.create_subprocess_exec(
        str(PAPERBOY), "--config", str(config), "post", "--channel", "console", "--date", DAY,
        cwd=cwd, env=child_environment(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    out = b""
    seen = 0
    try:
        while seen < k:
            line = await asyncio.wait_for(process.stdout.readline(), CHILD_TIMEOUT)
            if not line:
                break  # it finished first: nothing left to interrupt
            out += line
            seen += bool(NUMBERED.match(line))
        process.kill()
        # Whatever it printed before dying is still in the pipe.
        out += await asyncio.wait_for(process.stdout.read(), CHILD_TIMEOUT)
    finally:
        status = await process.wait()
    return out.decode("utf-8"), status


async def _crash_and_resume(k: int, tmp: Path) -> Outcome:
    async with FakeHuggingFace(batches={DAY: load_items(SAMPLE)}) as hf:
        config = tmp / "config.toml"
        config.write_text(
            config_text(hf_url=hf.base_url, data_dir=tmp / "data", channels=CHANNEL), "utf-8"
        )
        killed, status = await _post_until_killed(k, config, tmp)
        post = ("--config", str(config), "post", "--channel", "console", "--date", DAY)
        completing = await run_paperboy(*post, cwd=tmp)
        final = await run_paperboy(*post, cwd=tmp)
    store = await TinyDBStore.open(tmp / "data")
    try:
        record = await store.get_post(WHERE, date.fromisoformat(DAY))
    finally:
        await store.close()
    return Outcome(killed, status, completing, final, record)


@pytest.fixture(scope="module", params=[1, 3, 5], ids=lambda k: f"killed-after-message-{k}")
def outcome(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    k = request.param
    yield asyncio.run(_crash_and_resume(k, tmp_path_factory.mktemp(f"crash-{k}")))


def test_killed_run_was_killed_mid_post(outcome: Outcome) -> None:
    # Guards the rest: -9 is SIGKILL's status. A run that finished (0) or failed on its own
    # before the kill would leave nothing to resume, and the other asserts would prove nothing.
    assert outcome.killed_status == -9


def test_no_paper_is_shown_twice(outcome: Outcome) -> None:
    assert len(outcome.shown) == len(set(outcome.shown))


def test_at_most_the_paper_in_flight_is_missing(outcome: Outcome) -> None:
    assert len(set(outcome.shown)) >= PICKS - 1


def test_completing_run_exits_zero(outcome: Outcome) -> None:
    assert outcome.completing.returncode == 0


def test_final_run_says_the_day_is_already_posted(outcome: Outcome) -> None:
    assert outcome.final.stdout == (
        f"#console: already posted for {DAY} (use --force to re-post)\n"
    )


def test_final_run_exits_zero(outcome: Outcome) -> None:
    assert outcome.final.returncode == 0


def test_store_records_the_day_as_posted(outcome: Outcome) -> None:
    assert outcome.record is not None and outcome.record.status == "posted"


def test_store_records_each_message_once(outcome: Outcome) -> None:
    assert outcome.record is not None
    keys = [item.key for item in outcome.record.items]
    assert len(keys) == len(set(keys))


def test_store_records_the_header_and_every_pick(outcome: Outcome) -> None:
    assert outcome.record is not None and len(outcome.record.items) == 1 + PICKS


def test_every_paper_shown_is_one_the_store_recorded(outcome: Outcome) -> None:
    assert outcome.record is not None
    recorded = {item.arxiv_id for item in outcome.record.items if item.arxiv_id}
    assert set(outcome.shown) <= recorded
