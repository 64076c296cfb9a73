"""Behaviours around failures: refused sends are retried, foreign claims on an exclusive
store are resumed, the console survives an upstream outage, emoji and id edge cases."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.config import ChannelConfig
from bot.errors import UpstreamError
from bot.events import ReactionEvent
from bot.models import ChatRef
from bot.service import normalise_emoji
from tests.fakes.hf_server import FakeHuggingFace

from .conftest import CHANNEL, DAY, PICKS, Clock, RecordingPublisher, Services

ALL_KEYS = ["header", *PICKS]


class RefusingPublisher(RecordingPublisher):
    """The platform answers the n-th send with a refusal (HTTP 5xx): nothing was posted."""

    def __init__(self, refuse_at: int) -> None:
        super().__init__()
        self.refuse_at = refuse_at

    def _send(self, channel: ChatRef, kind, arxiv_id, text):  # type: ignore[no-untyped-def]
        if self.attempts + 1 == self.refuse_at:
            self.attempts += 1
            raise UpstreamError("HTTP 503", source="slack")
        return super()._send(channel, kind, arxiv_id, text)


def keys(publisher: RecordingPublisher) -> list[str]:
    return [s.arxiv_id or s.kind for s in publisher.sent]


async def test_message_refused_by_the_platform_is_sent_by_the_retry(
    services: Services,
) -> None:
    refusing = RefusingPublisher(refuse_at=3)
    with pytest.raises(UpstreamError):
        await services.make().post_daily(CHANNEL, DAY, refusing)
    retry = RecordingPublisher()
    await services.make().post_daily(CHANNEL, DAY, retry)
    assert keys(refusing) + keys(retry) == ALL_KEYS


async def test_claim_left_by_another_host_is_resumed_on_an_exclusive_store(
    services: Services, clock: Clock
) -> None:
    ref = ChatRef("slack", CHANNEL.team or "", CHANNEL.id)
    await services.store.claim_post(ref, DAY, "old-container:1", clock.now - timedelta(minutes=5))
    publisher = RecordingPublisher()
    outcome = await services.make().post_daily(CHANNEL, DAY, publisher)
    assert (outcome.status, keys(publisher)) == ("resumed", ALL_KEYS)


async def test_console_says_an_upstream_failure_and_keeps_running(
    services: Services, hf_fake: FakeHuggingFace
) -> None:
    console = ChannelConfig()
    out = io.StringIO()
    adapter = ConsoleAdapter(services.make(console), console, out=out)
    hf_fake.fail_next("*", status=400, times=20)
    keep_going = await adapter.handle_line("/post")
    assert (keep_going, "Sorry, that failed: huggingface" in out.getvalue()) == (True, True)


def test_emoji_with_presentation_selector_is_the_save_emoji() -> None:
    assert normalise_emoji("📌\ufe0f") == "pushpin"


async def test_reaction_with_presentation_selector_saves(services: Services) -> None:
    service = services.make()
    publisher = RecordingPublisher()
    await service.post_daily(CHANNEL, DAY, publisher)
    message = publisher.message_of(PICKS[0]).ref
    reply = await service.handle_reaction(ReactionEvent(message, "U1", "📌\ufe0f", added=True))
    assert reply is not None and reply.saved
