"""Setup for the service tests: the real Service on a real TinyDB store, fake upstreams.

Every test gets a `TinyDBStore` in tmp_path, a `FakeHuggingFace` serving the 2026-06-12
sample batch, the real Hugging Face client and summariser, and a clock the test moves by
hand. Daily posts go out through `RecordingPublisher`, a small `bot.events.Publisher` that
keeps what was sent (an adapter without a chat platform: its `sent` list is the channel's
history, which `find_posted` reads), so a test asserts on "the wire", "nothing was sent"
included. `services.reopen()` closes the store and opens it again, as a restarted bot does.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import pytest_asyncio

from bot.config import AdminConfig, ChannelConfig, Config, StorageConfig
from bot.errors import UpstreamError
from bot.events import DetailsReply, Identity, Outgoing, PostTarget
from bot.models import ChatRef, Digest, Pick, Summary
from bot.posting import PostOutcome
from bot.search import Searcher
from bot.service import Service
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient
from bot.store.tinydb import TinyDBStore
from bot.summaries import Summarizer
from tests.fakes.clock import FakeClock as Clock
from tests.fakes.hf_server import FakeHuggingFace

DAY = date(2026, 6, 12)  # a Friday
MORNING = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
TEAM = "T0PAPERS"
CHANNEL = ChannelConfig(name="papers", platform="slack", id="C0PAPERS", team=TEAM)
WHERE = ChatRef("slack", TEAM, "C0PAPERS")
IDENTITY = Identity("slack", TEAM, bot_user="U0BOT")
# The sample's papers, most upvoted first (103, 12, 7, 1 and 0 upvotes): the default
# profile (top 5, no keywords) picks all five in this order.
PICKS = ("2606.13392", "2606.12303", "2606.12575", "2606.09446", "2606.00467")

Item = dict[str, Any]
Kind = Literal["header", "pick", "note"]

# Message ids unique across every publisher of a test run, so that a restarted bot's new
# publisher can never hand out an id the ledger already holds.
_MESSAGE_IDS = itertools.count(1)


class PublishFailed(ConnectionError):
    """What RecordingPublisher raises when told to fail (a platform that went away)."""


@dataclass(frozen=True)
class Sent:
    """One message a publisher delivered."""

    channel: ChatRef
    kind: Kind
    arxiv_id: str | None  # the paper of a pick message
    text: str
    message_id: str
    day: date | None = None
    key: str | None = None

    @property
    def ref(self) -> ChatRef:
        """The address a reaction on this message carries."""
        return ChatRef(self.channel.platform, self.channel.team, self.channel.channel,
                       self.message_id)


class RecordingPublisher:
    """A Publisher that delivers to a list. With `fail_at=n`, the n-th send (1-based)
    raises PublishFailed instead of delivering, as a chat platform dropping the connection
    mid-post does; with `lost_answer_at=n` the n-th message IS delivered but the call
    raises, as when the answer is lost on the way back; with `refuse_at=n` the platform
    refuses the n-th message (UpstreamError: certainly not posted). Later sends deliver again.
    `history` may be shared with the publisher of a restarted bot: it is the channel."""

    def __init__(
        self, *, fail_at: int | None = None, lost_answer_at: int | None = None,
        refuse_at: int | None = None, history: list[Sent] | None = None,
    ) -> None:
        self.sent: list[Sent] = [] if history is None else history
        self.summaries: dict[str, Summary | None] = {}  # each pick's TL;DR, by arXiv id
        self.attempts = 0
        self.lookups: list[str] = []
        self.fail_at = fail_at
        self.lost_answer_at = lost_answer_at
        self.refuse_at = refuse_at

    def target(self, channel: ChannelConfig = CHANNEL,
               identity: Identity = IDENTITY) -> PostTarget:
        """The post target of a configured channel on this publisher's connection."""
        return identity.targets([channel], self)[0]

    async def post_header(self, out: Outgoing, digest: Digest) -> str:
        return self._send(out, "header", None, f"{digest.channel}: {len(digest.picks)} picks")

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str:
        self.summaries[pick.paper.arxiv_id] = pick.summary
        return self._send(out, "pick", pick.paper.arxiv_id, f"{pick.rank}. {pick.reason}")

    async def post_note(self, out: Outgoing, text: str) -> str:
        return self._send(out, "note", None, text)

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        self.lookups.append(out.key)
        return next((s.message_id for s in self.sent
                     if s.channel == out.channel and s.day == out.day and s.key == out.key),
                    None)

    async def post_in_thread(self, reply: DetailsReply) -> str:
        return self._send(Outgoing(reply.where, date.min, "details"), "note", None,
                          reply.paper.abstract)

    async def post_notice(self, where: ChatRef, text: str) -> str:
        return self._send(Outgoing(where, date.min, "notice"), "note", None, text)

    def _send(self, out: Outgoing, kind: Kind, arxiv_id: str | None, text: str) -> str:
        self.attempts += 1
        if self.attempts == self.refuse_at:
            # The platform answered with a refusal (HTTP 5xx): nothing was posted.
            raise UpstreamError("HTTP 503", source="slack")
        if self.attempts == self.fail_at:
            raise PublishFailed(f"connection lost sending message {self.attempts}")
        message_id = f"1781251200.{next(_MESSAGE_IDS):06d}"
        self.sent.append(Sent(out.channel, kind, arxiv_id, text, message_id, out.day, out.key))
        if self.attempts == self.lost_answer_at:
            raise PublishFailed(f"answer lost for message {self.attempts}")
        return message_id

    # --- what a test asks -------------------------------------------------------------

    @property
    def kinds(self) -> list[Kind]:
        return [s.kind for s in self.sent]

    @property
    def paper_ids(self) -> list[str]:
        return [s.arxiv_id for s in self.sent if s.arxiv_id is not None]

    def message_of(self, arxiv_id: str) -> Sent:
        return next(s for s in self.sent if s.arxiv_id == arxiv_id)

    def header(self) -> Sent:
        return next(s for s in self.sent if s.kind == "header")


class Services:
    """Builds Services over one data directory; `reopen()` restarts the store."""

    def __init__(
        self, data_dir: Path, store: TinyDBStore, hf: HuggingFaceClient, clock: Clock
    ) -> None:
        self.data_dir = data_dir
        self.store = store
        self.hf = hf
        self.clock = clock

    def make(
        self,
        *channels: ChannelConfig,
        searcher: Searcher | None = None,
        arxiv: ArxivClient | None = None,
        hf: HuggingFaceClient | None = None,
        save_emoji: str = "pushpin",
        summarizer: Summarizer | None = None,
        admin: AdminConfig | None = None,
        source_path: Path | None = None,
    ) -> Service:
        """A Service for `channels` (default: CHANNEL); `source_path` is the config file they
        came from (None: built-in defaults)."""
        config = Config(channels=channels or (CHANNEL,), admin=admin,
                        storage=StorageConfig(self.data_dir), source_path=source_path)
        return Service(
            config, store=self.store, hf=hf or self.hf,
            summarizer=summarizer or Summarizer(self.store),
            searcher=searcher, arxiv=arxiv, clock=self.clock, save_emoji=save_emoji,
        )

    async def reopen(self) -> TinyDBStore:
        """Close the store and open the data directory again (a restarted process)."""
        await self.store.close()
        self.store = await TinyDBStore.open(self.data_dir)
        return self.store


def new_paper(template: Item, arxiv_id: str, title: str) -> Item:
    """A Hugging Face item like `template` (same abstract) under another id and title: a
    paper the similarity to saved papers will match."""
    item = copy.deepcopy(template)
    item["paper"].update(id=arxiv_id, title=title)
    item["title"] = title
    return item


@pytest_asyncio.fixture
async def hf_fake(sample_items: list[Item]) -> AsyncIterator[FakeHuggingFace]:
    async with FakeHuggingFace(batches={DAY: sample_items}) as server:
        yield server


@pytest.fixture
def hf_client(hf_fake: FakeHuggingFace, http: httpx.AsyncClient) -> HuggingFaceClient:
    return HuggingFaceClient(http, base_url=hf_fake.base_url)


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest_asyncio.fixture
async def services(
    tmp_path: Path, hf_client: HuggingFaceClient, clock: Clock
) -> AsyncIterator[Services]:
    data_dir = tmp_path / "data"
    built = Services(data_dir, await TinyDBStore.open(data_dir), hf_client, clock)
    yield built
    await built.store.close()


@pytest.fixture
def service(services: Services) -> Service:
    """The Service for the one configured channel, CHANNEL (no search, no arXiv)."""
    return services.make()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


async def post(
    service: Service, publisher: RecordingPublisher, *, day: date = DAY,
    channel: ChannelConfig = CHANNEL, force: bool = False,
) -> PostOutcome:
    """Run `channel`'s daily post for `day` through `publisher`, as the scheduler does."""
    return await service.poster.post(publisher.target(channel), day, force=force)
