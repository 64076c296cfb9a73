"""The daily post through the Slack adapter: one message each, metadata, pausing, recovery.

The real poster (bot.posting) sends through the real adapter to the fake Web API; the
channel's history there is what Slack would show.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp
import pytest

from adapters.slack.adapter import METADATA_TYPE, Pacer, SlackAdapter
from bot.config import SlackConfig
from bot.errors import UpstreamError
from bot.events import Identity, Outgoing
from tests.fakes.clock import MonotonicClock
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.refusing_port import refusing_url
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack
from tests.service.conftest import CHANNEL, DAY, PICKS, WHERE, Item, Services, new_paper

from .conftest import USER, USERS, Running, start

SINCE = datetime(2026, 6, 12, 7, 0, tzinfo=UTC)


async def _post(running: Running, services: Services) -> object:
    target = running.identity.targets([CHANNEL], running.adapter)[0]
    return await running.adapter.service.poster.post(target, DAY)


async def test_daily_post_is_a_header_then_one_message_per_pick(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    keys = [m["metadata"]["event_payload"]["key"] for m in running.fake.posted(CHANNEL.id)]
    assert keys == ["header", *PICKS]


async def test_each_message_carries_the_paperboy_metadata_type(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    types = {m["metadata"]["event_type"] for m in running.fake.posted(CHANNEL.id)}
    assert types == {METADATA_TYPE}


async def test_daily_post_turns_unfurling_off(running: Running, services: Services) -> None:
    await _post(running, services)
    assert {m["unfurl_links"] for m in running.fake.posted(CHANNEL.id)} == {False}


async def test_each_message_has_a_plain_text_fallback(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    assert all(m["text"] for m in running.fake.posted(CHANNEL.id))


async def test_message_ts_is_recorded_for_reactions(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    first_pick = running.fake.posted(CHANNEL.id)[1]
    ref = WHERE.__class__(WHERE.platform, WHERE.team, WHERE.channel, first_pick["ts"])
    assert await services.store.paper_for_message(ref) == PICKS[0]


async def test_find_posted_answers_the_ts_of_the_bots_own_message(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    pick = running.fake.posted(CHANNEL.id)[2]
    found = await running.adapter.find_posted(Outgoing(WHERE, DAY, PICKS[1]), SINCE)
    assert found == pick["ts"]


async def test_find_posted_answers_none_for_a_message_never_sent(
    running: Running, fake_slack: FakeSlack
) -> None:
    assert await running.adapter.find_posted(Outgoing(WHERE, DAY, "header"), SINCE) is None


async def test_find_posted_ignores_someone_elses_message_with_the_same_metadata(
    running: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.add_message(CHANNEL.id, {"user": "U0MALLORY", "metadata": {
        "event_type": METADATA_TYPE, "event_payload": {"day": DAY.isoformat(), "key": "header"}}})
    assert await running.adapter.find_posted(Outgoing(WHERE, DAY, "header"), SINCE) is None


async def test_find_posted_reads_past_the_first_page(
    running: Running, services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.page_size = 2
    await _post(running, services)
    header = running.fake.posted(CHANNEL.id)[0]
    assert await running.adapter.find_posted(Outgoing(WHERE, DAY, "header"), SINCE) == \
        header["ts"]


async def test_not_in_channel_raises_upstream_error(
    running: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    with pytest.raises(UpstreamError):
        await running.adapter.post_note(Outgoing(WHERE, DAY, "note"), "hello")


async def test_not_in_channel_is_one_log_line_saying_to_invite_the_bot(
    running: Running, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    with caplog.at_level(logging.ERROR, "adapters.slack"), pytest.raises(UpstreamError):
        await running.adapter.post_note(Outgoing(WHERE, DAY, "note"), "hello")
    assert [r.getMessage() for r in caplog.records if "invite @paperboy" in r.getMessage()] \
        != []


async def test_a_paused_channel_is_not_asked_again(
    running: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await running.adapter.post_note(Outgoing(WHERE, DAY, "note"), "hello")
    assert fake_slack.requests["/api/chat.postMessage"] == 1


async def test_refused_daily_post_sends_nothing(
    running: Running, services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "channel_not_found"
    with pytest.raises(UpstreamError):
        await _post(running, services)
    assert fake_slack.posted(CHANNEL.id) == []


async def test_rate_limited_post_is_retried_after_retry_after(
    running: Running, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("/api/chat.postMessage", status=429, retry_after=0)
    await running.adapter.post_note(Outgoing(WHERE, DAY, "note"), "hello")
    assert len(fake_slack.posted(CHANNEL.id)) == 1


async def test_server_error_is_not_reported_as_a_refusal(
    running: Running, fake_slack: FakeSlack
) -> None:
    # A 5xx may have posted the message: it must not look like "nothing was posted".
    fake_slack.fail_next("/api/chat.postMessage", status=500)
    with pytest.raises(Exception) as raised:
        await running.adapter.post_note(Outgoing(WHERE, DAY, "note"), "hello")
    assert not isinstance(raised.value, UpstreamError)


async def test_a_message_whose_answer_was_lost_is_not_sent_again(
    running: Running, services: Services, fake_slack: FakeSlack
) -> None:
    # The header lands, then the connection drops before Slack's answer: its fate is
    # unknown to the bot, so nothing may send it again blindly (slack_sdk's default
    # retries would), and the next attempt asks Slack instead.
    fake_slack.drop_after_post = 1
    with pytest.raises(aiohttp.ClientError):
        await _post(running, services)
    assert len(fake_slack.posted(CHANNEL.id)) == 1
    await _post(running, services)
    keys = [m["metadata"]["event_payload"]["key"] for m in fake_slack.posted(CHANNEL.id)]
    assert keys == ["header", *PICKS]


async def test_messages_to_one_channel_are_paced() -> None:
    clock = MonotonicClock(100.0)
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    await pacer.wait("C1")
    clock.now += 0.25
    await pacer.wait("C1")
    assert clock.sleeps == [0.75]


async def test_pacing_is_per_channel() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = Pacer(1.0, clock=lambda: 100.0, sleep=sleep)
    await pacer.wait("C1")
    await pacer.wait("C2")
    assert waits == []


async def test_thread_reply_goes_to_the_papers_message(
    running: Running, services: Services
) -> None:
    await _post(running, services)
    pick = running.fake.posted(CHANNEL.id)[1]
    message = WHERE.__class__(WHERE.platform, WHERE.team, WHERE.channel, pick["ts"])
    details = await running.adapter.service.details(message)
    await running.adapter.post_in_thread(details)  # type: ignore[arg-type]
    assert running.fake.posted(CHANNEL.id)[-1]["thread_ts"] == pick["ts"]


async def test_connect_learns_team_and_bot_user_from_auth_test(running: Running) -> None:
    assert running.identity == Identity("slack", TEAM, bot_user=BOT_USER)


async def test_find_posted_knows_its_message_by_bot_id_too(
    running: Running, fake_slack: FakeSlack
) -> None:
    mine = fake_slack.add_message(CHANNEL.id, {"bot_id": "B0BOT", "metadata": {
        "event_type": METADATA_TYPE, "event_payload": {"day": DAY.isoformat(), "key": "header"}}})
    assert await running.adapter.find_posted(Outgoing(WHERE, DAY, "header"), SINCE) == \
        mine["ts"]


async def test_unreachable_slack_at_connect_is_an_upstream_error(services: Services) -> None:
    adapter = SlackAdapter(services.make(), SlackConfig(mode="http", api_url=refusing_url()),
                           bot_token="xoxb-test-token", signing_secret="s")
    with pytest.raises(UpstreamError):
        await adapter.connect()


async def test_a_savers_display_name_is_asked_of_slack_once_for_every_channel(
    services: Services, fake_slack: FakeSlack, hf_fake: FakeHuggingFace,
    sample_items: list[Item],
) -> None:
    # On the team's list: a paper with the first pick's abstract, so that pick names its saver.
    hf_fake.add_paper(new_paper(sample_items[0], "2605.11111", "Earlier")["paper"])
    other = replace(CHANNEL, name="reading", id="C0READING")
    running = await start(services.make(CHANNEL, other), fake_slack)
    try:
        await running.adapter.service.save(WHERE, USER, "2605.11111")
        for target in running.identity.targets([CHANNEL, other], running.adapter):
            await running.adapter.service.poster.post(target, DAY)
    finally:
        await running.stop()
    firsts = [fake_slack.posted(channel)[1] for channel in (CHANNEL.id, other.id)]
    assert [USERS[USER] in str(message["blocks"]) for message in firsts] == [True, True]
    assert fake_slack.requests["/api/users.info"] == 1
