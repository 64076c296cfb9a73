"""`/papers` in HTTP mode: signed requests through the real AsyncApp, replies to response_url.

Slack signs each request; the adapter must refuse anything unsigned, wrongly signed or
older than five minutes (401, and nothing runs), acknowledge a good one at once, then
answer through the request's `response_url`, ephemeral unless the user shared it.
"""

from __future__ import annotations

import asyncio
import time

from bot.models import Paper, Saver
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.service.conftest import MORNING, Services

from .conftest import CHANNEL, USER, Running


def _texts(fake: FakeSlack) -> list[str]:
    return [block["text"]["text"] for r in fake.responses for block in r["blocks"]
            if block.get("type") == "section"]


async def test_signed_command_is_acknowledged_with_200(running: Running) -> None:
    answer = await running.slack.command("help")
    assert answer.status_code == 200


async def test_help_reply_reaches_the_response_url(running: Running) -> None:
    await running.slack.command("help")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "/papers search" in _texts(running.fake)[0]


async def test_reply_is_ephemeral_unless_shared(running: Running) -> None:
    await running.slack.command("list")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert running.fake.responses[0]["response_type"] == "ephemeral"


async def test_shared_list_is_posted_in_channel(running: Running) -> None:
    await running.slack.command("list --share")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert running.fake.responses[0]["response_type"] == "in_channel"


async def test_unsigned_request_is_refused_with_401(running: Running) -> None:
    body = running.slack.command_body("help")
    answer = await running.slack.send(body, "application/x-www-form-urlencoded", signed=False)
    assert answer.status_code == 401


async def test_wrongly_signed_request_is_refused_with_401(running: Running) -> None:
    body = running.slack.command_body("help")
    answer = await running.slack.send(body, "application/x-www-form-urlencoded",
                                      secret="not-the-signing-secret")
    assert answer.status_code == 401


async def test_six_minute_old_request_is_refused_with_401(running: Running) -> None:
    body = running.slack.command_body("help")
    answer = await running.slack.send(body, "application/x-www-form-urlencoded",
                                      timestamp=time.time() - 360)
    assert answer.status_code == 401


async def test_refused_requests_run_nothing(running: Running) -> None:
    body = running.slack.command_body("list")
    await running.slack.send(body, "application/x-www-form-urlencoded", signed=False)
    await running.slack.send(body, "application/x-www-form-urlencoded", secret="wrong")
    # A good request after the bad ones: its reply is the only one that ever arrives.
    await running.slack.command("help")
    await running.fake.wait_until(lambda: len(running.fake.responses) >= 1)
    assert [r["url"].rsplit("/", 1)[1] for r in running.fake.responses] == ["r2"]


async def test_unknown_subcommand_answers_with_the_services_help(running: Running) -> None:
    await running.slack.command("frobnicate")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "frobnicate" in _texts(running.fake)[0]


async def test_echoed_input_cannot_mention_the_channel(running: Running) -> None:
    await running.slack.command("<!channel>")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "<!channel>" not in _texts(running.fake)[0]


async def test_empty_reading_list_says_how_to_save(running: Running) -> None:
    await running.slack.command("list")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "empty" in _texts(running.fake)[0]


async def test_export_shows_a_small_file_as_a_code_block(
    running: Running, services: Services
) -> None:
    await services.store.save("slack", TEAM, _paper(), Saver(USER, MORNING))
    await running.slack.command("export bibtex")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "```@" in _texts(running.fake)[1]


async def test_export_too_long_to_show_says_how_to_get_the_file(
    running: Running, services: Services
) -> None:
    for n in range(60):
        await services.store.save("slack", TEAM, _paper(n), Saver(USER, MORNING))
    await running.slack.command("export bibtex")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert "paperboy list --format bibtex" in _texts(running.fake)[0]


def _paper(n: int = 0) -> Paper:
    return Paper(f"2606.{10000 + n}", f"A paper about retrieval number {n}",
                 "An abstract.", ("Ana Lee", "Bo Chen"))


async def test_shared_export_is_uploaded_to_the_channel_as_a_file(
    running: Running, services: Services
) -> None:
    await services.store.save("slack", TEAM, _paper(), Saver(USER, MORNING))
    await running.slack.command("export bibtex --share")
    await running.fake.wait_until(lambda: len(running.fake.uploads) == 1)
    [upload] = running.fake.uploads
    assert (upload["channel"], upload["filename"], upload["content"].startswith("@misc{")) \
        == (CHANNEL.id, "paperboy-reading-list.bib", True)


async def test_shared_export_sends_no_reply_of_its_own(
    running: Running, services: Services
) -> None:
    await services.store.save("slack", TEAM, _paper(), Saver(USER, MORNING))
    await running.slack.command("export csv --share")
    await running.fake.wait_until(lambda: len(running.fake.uploads) == 1)
    assert running.fake.responses == []


async def test_a_refused_upload_gives_the_export_to_the_caller_privately(
    running: Running, services: Services
) -> None:
    await services.store.save("slack", TEAM, _paper(), Saver(USER, MORNING))
    running.fake.refuse[CHANNEL.id] = "not_in_channel"
    await running.slack.command("export bibtex --share")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert running.fake.responses[0]["response_type"] == "ephemeral"


async def test_a_failed_upload_gives_the_export_to_the_caller_privately(
    running: Running, services: Services
) -> None:
    await services.store.save("slack", TEAM, _paper(), Saver(USER, MORNING))
    running.fake.fail_next("/api/files.completeUploadExternal", status=500)
    await running.slack.command("export bibtex --share")
    await running.fake.wait_until(lambda: len(running.fake.responses) == 1)
    assert running.fake.responses[0]["response_type"] == "ephemeral"


async def test_a_command_is_acknowledged_before_its_slow_work_is_done(
    running: Running, hf_fake: FakeHuggingFace
) -> None:
    # Hugging Face never answers: the day's papers cannot be fetched, yet Slack gets its
    # 200 at once (within its 3 seconds), and the reply comes later through response_url.
    hf_fake.fail_next("/api/daily_papers", hang=True)
    answer = await asyncio.wait_for(running.slack.command("today"), 3)
    assert (answer.status_code, running.fake.responses) == (200, [])
