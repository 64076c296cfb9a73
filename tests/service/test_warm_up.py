"""At start the bot reads every team list it knows once, so the first `/papers list` after a
restart answers from memory — also for a team that has a list but no daily channel here.

Reads are counted at the store's one JSON reader (bot.store._files.read_json, wrapped, not
replaced) on a real TinyDBStore reopened as a restarted bot does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.events import CommandEvent, ListReply
from bot.models import ChatRef, Saver
from bot.store import _files

from .conftest import MORNING, WHERE, RecordingPublisher, Services, post

ELSEWHERE = ChatRef("slack", "T0ELSEWHERE", "C0ELSE")  # a team with no configured channel


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every data file read from now on."""
    seen: list[Path] = []
    real: Callable[[Path], Any] = _files.read_json

    def counting(path: Path) -> Any:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(_files, "read_json", counting)
    return seen


async def _restarted_with_lists(services: Services, publisher: RecordingPublisher) -> None:
    """Both teams saved papers (the day's post gives the papers); then the bot restarts."""
    service = services.make()
    await post(service, publisher)
    papers = list((await services.store.get_papers(publisher.paper_ids)).values())
    for where in (WHERE, ELSEWHERE):
        for paper in papers:
            await services.store.save(where.platform, where.team, paper,
                                      Saver("U0ANA", MORNING, where))
    await services.reopen()


@pytest.mark.parametrize("where", [WHERE, ELSEWHERE], ids=["configured team", "other team"])
async def test_first_list_after_a_warm_start_reads_no_file(
    services: Services, publisher: RecordingPublisher, reads: list[Path], where: ChatRef,
) -> None:
    await _restarted_with_lists(services, publisher)
    service = services.make()
    await service.warm_up([publisher.target()])
    reads.clear()
    reply = await service.handle_command(CommandEvent(where, "U0BO", "list"))
    assert isinstance(reply, ListReply)
    assert (reply.total, reads) == (len(publisher.paper_ids), [])


async def test_without_the_warm_up_the_first_list_reads_the_team_files(
    services: Services, publisher: RecordingPublisher, reads: list[Path],
) -> None:
    # The other side of the tests above: what the warm-up saves users from.
    await _restarted_with_lists(services, publisher)
    reply = await services.make().handle_command(CommandEvent(ELSEWHERE, "U0BO", "list"))
    assert isinstance(reply, ListReply)
    assert any("T0ELSEWHERE" in str(path) for path in reads)

