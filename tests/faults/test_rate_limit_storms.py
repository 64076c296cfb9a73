"""429 storms with Retry-After from Hugging Face, arXiv and Slack at once, and from Hugging
Face and Discord: every channel's post still goes out, each message exactly once.

Reproduce: .venv/bin/python -m pytest -q tests/faults/test_rate_limit_storms.py

The bot as `paperboy run` assembles it for Slack (tests/slack/conftest.py `start_scheduled`)
with two channels at 09:00 that follow cs.CL and cs.LG on arXiv. Each upstream answers 429
with `Retry-After: 1` more times in a row than one attempt's retries cover, so the first
attempt fails part-way and the scheduler's retry ten minutes later must finish the job
without repeating a message. Backoff waits are zero (stamina test mode); the Slack client's
own rate-limit handler honours Retry-After for real (one second), as discord.py's does
(0.2 s, with Discord's JSON body).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest_asyncio

from bot.config import AdminConfig, ChannelConfig
from bot.models import ChatRef
from bot.sources.arxiv import ArxivClient
from tests.discord_adapter.conftest import CHANNEL_ID, Bot, post_today
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import DAY, PICKS, TEAM, Services
from tests.slack.conftest import ScheduledBot, start_scheduled

FEED = Path(__file__).parents[1] / "fixtures" / "arxiv_rss_atom_cs.CL-cs.LG.xml"
FEED_PATH = "/atom/cs.CL+cs.LG"
CATEGORIES = ("cs.CL", "cs.LG")
PAPERS = ChannelConfig(name="papers", platform="slack", id="C0PAPERS", team=TEAM,
                       categories=CATEGORIES)
LAB = ChannelConfig(name="lab", platform="slack", id="C0LAB01", team=TEAM, categories=CATEGORIES)
ADMIN = AdminConfig(platform="slack", id="C0ADMIN")
NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
# More 429s in a row than one attempt absorbs: HF and arXiv retry 3 times, Slack's client once.
STORM = {"hf": 4, "arxiv": 4, "slack": 3}


@pytest_asyncio.fixture
async def stormy(
    services: Services, fake_slack: FakeSlack, hf_fake: FakeHuggingFace,
    http: httpx.AsyncClient,
) -> AsyncIterator[ScheduledBot]:
    """09:00 to 10:00 with every upstream rate limiting at first."""
    async with FakeArxiv(listings={"cs.CL+cs.LG": FEED.read_bytes()}) as arxiv_fake:
        arxiv = ArxivClient(http, base_url=arxiv_fake.base_url, rss_url=arxiv_fake.base_url,
                            min_interval=0)
        hf_fake.fail_next("/api/daily_papers", status=429, retry_after=1, times=STORM["hf"])
        arxiv_fake.fail_next(FEED_PATH, status=429, retry_after=1, times=STORM["arxiv"])
        services.clock.now = NINE - timedelta(hours=1)
        bot = await start_scheduled(services, fake_slack, PAPERS, LAB, admin=ADMIN,
                                    arxiv=arxiv)
        # Slack's storm starts once the upstreams have answered: the post is under way.
        for step in range(7):
            if step == 1:
                fake_slack.fail_next("/api/chat.postMessage", status=429, retry_after=1,
                                     times=STORM["slack"])
            await bot.at(NINE + timedelta(minutes=10 * step))
        bot.arxiv_requests = arxiv_fake.requests[FEED_PATH]  # type: ignore[attr-defined]
        yield bot
        await bot.stop()


async def _recorded(services: Services, channel: ChannelConfig) -> Counter[str]:
    record = await services.store.get_post(ChatRef("slack", TEAM, channel.id), DAY)
    assert record is not None and record.status == "posted"
    return Counter(item.key for item in record.items if item.message_id is not None)


async def test_no_message_is_sent_twice(stormy: ScheduledBot) -> None:
    assert [max(Counter(stormy.fake.posted_keys(c.id)).values()) for c in (PAPERS, LAB)] == [1, 1]


async def test_every_recorded_message_is_in_the_channel_and_nothing_else(
    stormy: ScheduledBot, services: Services
) -> None:
    for channel in (PAPERS, LAB):
        assert Counter(stormy.fake.posted_keys(channel.id)) == await _recorded(services, channel)


async def test_each_post_has_its_header_and_every_pick(
    stormy: ScheduledBot, services: Services
) -> None:
    for channel in (PAPERS, LAB):
        keys = Counter(stormy.fake.posted_keys(channel.id))
        assert "header" in keys and len(keys) == 1 + channel.top_n


async def test_each_upstream_really_stormed(
    stormy: ScheduledBot, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    asked = (hf_fake.requests["/api/daily_papers"], stormy.arxiv_requests,  # type: ignore[attr-defined]
             fake_slack.requests["/api/chat.postMessage"])
    assert [n > STORM[k] for n, k in zip(asked, ("hf", "arxiv", "slack"), strict=True)] == \
        [True] * 3


# --- Discord: its client honours Retry-After by itself ---------------------------------------

DISCORD_429 = '{"message": "You are being rate limited.", "retry_after": 0.2, "global": false}'
# As Discord sends it: exactly "application/json" (discord.py reads anything else as text)
# and through its proxy (discord.py takes a 429 without `Via` for a Cloudflare ban and
# gives up instead of waiting).
DISCORD_HEADERS = {"Content-Type": "application/json", "Via": "1.1 google"}


async def test_a_discord_429_storm_posts_each_message_exactly_once(
    bot: Bot, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next("/api/daily_papers", status=429, retry_after=1, times=2)
    bot.fake.fail_next(f"/api/v10/channels/{CHANNEL_ID}/messages", status=429,
                       retry_after=0.2, body=DISCORD_429, times=3, headers=DISCORD_HEADERS)
    outcome = await post_today(bot)
    footers = Counter(embed["footer"]["text"].split()[1]
                      for message in bot.fake.messages[CHANNEL_ID] for embed in message["embeds"])
    assert (outcome.status, len(bot.fake.messages[CHANNEL_ID]), set(footers.values()),
            len(footers)) == ("posted", 1 + len(PICKS), {1}, len(PICKS))
    assert bot.fake.requests[f"/api/v10/channels/{CHANNEL_ID}/messages"] > 3 + len(PICKS)
