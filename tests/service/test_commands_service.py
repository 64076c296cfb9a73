"""`/papers` commands through the real Service: every reply a user can get, and bad input.

The store is a real TinyDB directory, Hugging Face (and arXiv, where a test needs it) are
local fakes, and what a command says is checked on the Reply the adapter would render.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import bibtexparser
import httpx
import pytest
import pytest_asyncio

from bot import commands
from bot.commands import HELP, help_for
from bot.events import (
    CommandEvent,
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    ListReply,
    NoticeReply,
    Reply,
    SaveReply,
    SearchReply,
    SettingsReply,
)
from bot.models import ChatRef, Paper, Saver
from bot.search import PaperIndex, Searcher
from bot.service import LIST_SHOWN, Service
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient, parse_daily_item
from tests.conftest import FIXTURES
from tests.fakes.arxiv_server import FakeArxiv, entries_from_feed
from tests.fakes.hf_server import FakeHuggingFace

from .conftest import CHANNEL, PICKS, WHERE, Clock, Item, Services

MINIMAX = "2606.13392"  # "MiniMax Sparse Attention", in the sample batch
UNKNOWN = "2606.99999"  # known to no upstream
ARXIV_ONLY = "2406.12345"  # in the recorded arXiv answer, not on Hugging Face
ELSEWHERE = ChatRef("slack", "T0PAPERS", "C0RANDOM")  # a channel with no daily post


async def ask(service: Service, text: str, user: str = "U0ANA",
              where: ChatRef = WHERE) -> Reply:
    return await service.handle_command(CommandEvent(where, user, text, raw=text))


def _ids(reply: Reply) -> list[str]:
    assert isinstance(reply, ListReply)
    return [entry.paper.arxiv_id for entry in reply.entries]


# --- help and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "help", "/papers", "  HELP  "])
async def test_help_answers_with_the_usage(service: Service, text: str) -> None:
    assert await ask(service, text) == HelpReply(HELP)


async def test_help_for_one_command_gives_its_line(service: Service) -> None:
    assert await ask(service, "help search") == HelpReply(help_for("search"))


BAD_INPUT = [
    pytest.param("frobnicate", id="unknown-command"),
    pytest.param("serch diffusion", id="misspelt-command"),
    pytest.param("save", id="save-without-an-id"),
    pytest.param("save not-a-paper", id="malformed-id"),
    pytest.param("save 2606.13392 2606.12303", id="two-ids"),
    pytest.param("search", id="empty-query"),
    pytest.param("search " + "diffusion " * 500, id="5000-character-query"),
    pytest.param("list everything", id="list-with-arguments"),
    pytest.param("export docx", id="unknown-export-format"),
    pytest.param("settings --share", id="share-on-settings"),
]
# Refusals that are not about how the command was typed: one line, and no usage after it.
REFUSED = [
    pytest.param(f"unsave {MINIMAX}", id="unsave-what-nobody-saved"),
    pytest.param("search diffusion", id="search-in-a-bot-without-search"),
]


@pytest.mark.parametrize("text", REFUSED)
async def test_a_refusal_not_about_usage_is_a_one_line_notice(
    service: Service, text: str
) -> None:
    reply = await ask(service, text)
    assert isinstance(reply, NoticeReply) and "\n" not in reply.text


@pytest.mark.parametrize("text", BAD_INPUT)
async def test_bad_input_gets_a_help_reply(service: Service, text: str) -> None:
    assert isinstance(await ask(service, text), HelpReply)


@pytest.mark.parametrize("text", BAD_INPUT)
async def test_bad_input_is_explained_in_one_line(service: Service, text: str) -> None:
    reply = await ask(service, text)
    assert isinstance(reply, HelpReply) and reply.error and "\n" not in reply.error


@pytest.mark.parametrize("text", BAD_INPUT)
async def test_bad_input_reply_carries_the_usage(service: Service, text: str) -> None:
    reply = await ask(service, text)
    assert isinstance(reply, HelpReply) and reply.commands


async def test_unknown_command_suggests_the_closest_one(service: Service) -> None:
    reply = await ask(service, "serch diffusion")
    assert isinstance(reply, HelpReply) and "did you mean 'search'" in (reply.error or "")


# --- today ----------------------------------------------------------------------------------


async def test_today_returns_this_channels_digest(service: Service) -> None:
    reply = await ask(service, "today")
    assert isinstance(reply, DigestReply) and reply.digest.channel == CHANNEL.name


async def test_today_lists_the_days_picks_in_rank_order(service: Service) -> None:
    reply = await ask(service, "today")
    assert isinstance(reply, DigestReply)
    assert [p.paper.arxiv_id for p in reply.digest.picks] == list(PICKS)


async def test_today_is_private_to_the_caller(service: Service) -> None:
    reply = await ask(service, "today")
    assert reply.private is True


async def test_today_with_share_is_shown_to_the_channel(service: Service) -> None:
    reply = await ask(service, "today --share")
    assert reply.private is False


async def test_today_posts_and_claims_nothing(service: Service, services: Services) -> None:
    await ask(service, "today")
    assert await services.store.get_post(WHERE, services.clock().date()) is None


async def test_today_in_a_channel_without_schedule_uses_the_default_profile(
    service: Service,
) -> None:
    reply = await ask(service, "today", where=ELSEWHERE)
    assert isinstance(reply, DigestReply) and len(reply.digest.picks) == 5


async def test_today_when_hugging_face_fails_is_a_one_line_error(
    service: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next("/api/daily_papers", status=503, times=10)
    reply = await ask(service, "today")
    assert isinstance(reply, ErrorReply) and "\n" not in reply.message


# --- save -----------------------------------------------------------------------------------


async def test_save_by_id_puts_the_paper_on_the_team_list(service: Service) -> None:
    await ask(service, f"save {MINIMAX}")
    assert _ids(await ask(service, "list")) == [MINIMAX]


async def test_save_reply_confirms_a_new_save(service: Service) -> None:
    reply = await ask(service, f"save {MINIMAX}")
    assert isinstance(reply, SaveReply) and (reply.saved, reply.changed) == (True, True)


@pytest.mark.parametrize("link", [
    f"https://arxiv.org/abs/{MINIMAX}v2",
    f"https://arxiv.org/pdf/{MINIMAX}v1.pdf",
    f"https://huggingface.co/papers/{MINIMAX}",
    f"<https://arxiv.org/abs/{MINIMAX}|MiniMax Sparse Attention>",
    f"arXiv:{MINIMAX}v3",
])
async def test_save_by_link_saves_the_canonical_id(service: Service, link: str) -> None:
    reply = await ask(service, f"save {link}")
    assert isinstance(reply, SaveReply) and reply.paper.arxiv_id == MINIMAX


async def test_save_of_a_cached_paper_asks_no_upstream(
    service: Service, services: Services, sample_items: list[Item], hf_fake: FakeHuggingFace
) -> None:
    await services.store.put_papers([parse_daily_item(sample_items[1])])
    await ask(service, f"save {MINIMAX}")
    assert hf_fake.total_requests == 0


async def test_save_of_an_uncached_paper_asks_hugging_face_once(
    service: Service, hf_fake: FakeHuggingFace
) -> None:
    await ask(service, f"save {MINIMAX}")
    assert hf_fake.requests[f"/api/papers/{MINIMAX}"] == 1


async def test_save_of_an_uncached_paper_keeps_hugging_faces_title(service: Service) -> None:
    reply = await ask(service, f"save {MINIMAX}")
    assert isinstance(reply, SaveReply) and reply.paper.title == "MiniMax Sparse Attention"


@pytest_asyncio.fixture
async def arxiv_fake() -> AsyncIterator[FakeArxiv]:
    entries = entries_from_feed(FIXTURES / "arxiv_api_query_id_list_two.xml")
    # The tests that use this fake need an id the recorded arXiv answer knows.
    if ARXIV_ONLY not in entries:
        raise AssertionError(f"{ARXIV_ONLY} is not in arxiv_api_query_id_list_two.xml")
    async with FakeArxiv(entries) as server:
        yield server


@pytest.fixture
def with_arxiv(services: Services, arxiv_fake: FakeArxiv, http: httpx.AsyncClient) -> Service:
    arxiv = ArxivClient(http, base_url=arxiv_fake.base_url, rss_url=arxiv_fake.base_url,
                        min_interval=0)
    return services.make(arxiv=arxiv)


async def test_save_of_a_paper_hugging_face_lacks_comes_from_arxiv(with_arxiv: Service) -> None:
    reply = await ask(with_arxiv, f"save {ARXIV_ONLY}")
    assert isinstance(reply, SaveReply) and reply.paper.source == "arxiv"


async def test_save_asks_hugging_face_before_arxiv(
    with_arxiv: Service, hf_fake: FakeHuggingFace
) -> None:
    await ask(with_arxiv, f"save {ARXIV_ONLY}")
    assert hf_fake.requests[f"/api/papers/{ARXIV_ONLY}"] == 1


async def test_save_of_a_paper_no_upstream_knows_is_a_notice(with_arxiv: Service) -> None:
    reply = await ask(with_arxiv, f"save {UNKNOWN}")
    assert isinstance(reply, NoticeReply) and UNKNOWN in reply.text


async def test_save_of_a_paper_no_upstream_knows_saves_nothing(with_arxiv: Service) -> None:
    await ask(with_arxiv, f"save {UNKNOWN}")
    assert _ids(await ask(with_arxiv, "list")) == []


async def test_second_save_by_the_same_user_changes_nothing(service: Service) -> None:
    await ask(service, f"save {MINIMAX}")
    reply = await ask(service, f"save {MINIMAX}")
    assert isinstance(reply, SaveReply) and reply.changed is False


async def test_save_by_a_second_user_counts_two_savers(service: Service) -> None:
    await ask(service, f"save {MINIMAX}", user="U0ANA")
    reply = await ask(service, f"save {MINIMAX}", user="U0BO")
    assert isinstance(reply, SaveReply) and reply.savers == 2


# --- upstream failures ----------------------------------------------------------------------


@pytest.fixture
def behind_credentials(services: Services, hf_fake: FakeHuggingFace,
                       http: httpx.AsyncClient) -> Service:
    # A base URL with user:password, as an admin behind a proxy may write it: the error a
    # user sees must name the request without the password.
    url = hf_fake.base_url.replace("http://", "http://paperboy:hunter2-SECRET@")
    return services.make(hf=HuggingFaceClient(http, base_url=url))


async def test_upstream_failure_on_save_is_an_error_reply(
    behind_credentials: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next(f"/api/papers/{MINIMAX}", status=500, times=10)
    assert isinstance(await ask(behind_credentials, f"save {MINIMAX}"), ErrorReply)


async def test_upstream_failure_on_save_is_said_in_one_line(
    behind_credentials: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next(f"/api/papers/{MINIMAX}", status=500, times=10)
    reply = await ask(behind_credentials, f"save {MINIMAX}")
    assert isinstance(reply, ErrorReply) and "\n" not in reply.message


async def test_upstream_failure_on_save_names_the_upstream(
    behind_credentials: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next(f"/api/papers/{MINIMAX}", status=500, times=10)
    reply = await ask(behind_credentials, f"save {MINIMAX}")
    assert isinstance(reply, ErrorReply) and "huggingface: HTTP 500" in reply.message


async def test_upstream_failure_on_save_never_shows_credentials(
    behind_credentials: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next(f"/api/papers/{MINIMAX}", status=500, times=10)
    reply = await ask(behind_credentials, f"save {MINIMAX}")
    assert isinstance(reply, ErrorReply) and "hunter2" not in reply.message


async def test_upstream_failure_on_save_saves_nothing(
    service: Service, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next(f"/api/papers/{MINIMAX}", status=500, times=10)
    await ask(service, f"save {MINIMAX}")
    assert _ids(await ask(service, "list")) == []


# --- unsave ---------------------------------------------------------------------------------


async def test_unsave_of_the_last_saver_removes_the_entry(service: Service) -> None:
    await ask(service, f"save {MINIMAX}")
    await ask(service, f"unsave {MINIMAX}")
    assert _ids(await ask(service, "list")) == []


async def test_unsave_reply_confirms_the_removal(service: Service) -> None:
    await ask(service, f"save {MINIMAX}")
    reply = await ask(service, f"unsave {MINIMAX}")
    assert isinstance(reply, SaveReply) and (reply.saved, reply.changed) == (False, True)


async def test_unsave_keeps_the_entry_for_the_other_savers(service: Service) -> None:
    await ask(service, f"save {MINIMAX}", user="U0ANA")
    await ask(service, f"save {MINIMAX}", user="U0BO")
    await ask(service, f"unsave {MINIMAX}", user="U0ANA")
    reply = await ask(service, "list")
    assert isinstance(reply, ListReply)
    assert [s.user for s in reply.entries[0].savers] == ["U0BO"]


async def test_unsave_by_someone_who_did_not_save_changes_nothing(service: Service) -> None:
    await ask(service, f"save {MINIMAX}", user="U0ANA")
    reply = await ask(service, f"unsave {MINIMAX}", user="U0BO")
    assert isinstance(reply, SaveReply) and reply.changed is False


# --- list -----------------------------------------------------------------------------------


async def test_list_shows_the_newest_save_first(service: Service, clock: Clock) -> None:
    for offset, arxiv_id in enumerate(PICKS[:3]):
        clock.now += timedelta(minutes=offset)
        await ask(service, f"save {arxiv_id}")
    assert _ids(await ask(service, "list")) == list(reversed(PICKS[:3]))


async def test_list_orders_by_the_latest_save_of_each_paper(
    service: Service, clock: Clock
) -> None:
    await ask(service, f"save {PICKS[0]}", user="U0ANA")
    clock.now += timedelta(minutes=1)
    await ask(service, f"save {PICKS[1]}", user="U0ANA")
    clock.now += timedelta(minutes=1)
    await ask(service, f"save {PICKS[0]}", user="U0BO")
    assert _ids(await ask(service, "list")) == [PICKS[0], PICKS[1]]


async def test_list_shows_everyone_who_saved_a_paper(service: Service, clock: Clock) -> None:
    await ask(service, f"save {MINIMAX}", user="U0ANA")
    clock.now += timedelta(minutes=1)
    await ask(service, f"save {MINIMAX}", user="U0BO")
    reply = await ask(service, "list")
    assert isinstance(reply, ListReply)
    assert [(s.user, s.saved_at) for s in reply.entries[0].savers] == [
        ("U0ANA", clock.now - timedelta(minutes=1)), ("U0BO", clock.now)
    ]


async def test_list_is_the_teams_not_the_channels(service: Service) -> None:
    await ask(service, f"save {MINIMAX}", where=ELSEWHERE)
    assert _ids(await ask(service, "list")) == [MINIMAX]


async def test_list_of_another_team_is_separate(service: Service) -> None:
    await ask(service, f"save {MINIMAX}")
    other_team = ChatRef("slack", "T0OTHER", WHERE.channel)
    assert _ids(await ask(service, "list", where=other_team)) == []


async def _save_many(services: Services, count: int) -> None:
    for n in range(count):
        paper = Paper(arxiv_id=f"2605.{n:05d}", title=f"Paper {n}", abstract="",
                      authors=("Ada Lovelace",))
        saver = Saver("U0ANA", services.clock() + timedelta(minutes=n), WHERE)
        await services.store.save("slack", WHERE.team, paper, saver)


async def test_long_list_shows_the_newest_twenty(service: Service, services: Services) -> None:
    await _save_many(services, LIST_SHOWN + 3)
    reply = await ask(service, "list")
    assert isinstance(reply, ListReply) and len(reply.entries) == LIST_SHOWN


async def test_long_list_counts_every_entry(service: Service, services: Services) -> None:
    await _save_many(services, LIST_SHOWN + 3)
    reply = await ask(service, "list")
    assert isinstance(reply, ListReply) and reply.total == LIST_SHOWN + 3


# --- export ---------------------------------------------------------------------------------


async def _export(service: Service, fmt: str = "bibtex") -> FileReply:
    for arxiv_id in PICKS[:3]:
        await ask(service, f"save {arxiv_id}")
    reply = await ask(service, f"export {fmt}")
    assert isinstance(reply, FileReply)
    return reply


async def test_export_bibtex_parses_without_failed_blocks(service: Service) -> None:
    library = bibtexparser.parse_string((await _export(service)).content)
    assert library.failed_blocks == []


async def test_export_bibtex_has_one_entry_per_saved_paper(service: Service) -> None:
    library = bibtexparser.parse_string((await _export(service)).content)
    assert sorted(entry["eprint"] for entry in library.entries) == sorted(PICKS[:3])


async def test_export_bibtex_is_a_bib_file(service: Service) -> None:
    assert (await _export(service)).filename.endswith(".bib")


async def test_export_counts_the_papers(service: Service) -> None:
    assert (await _export(service, "csv")).count == 3


async def test_export_of_an_empty_list_is_an_empty_library(service: Service) -> None:
    reply = await ask(service, "export bibtex")
    assert isinstance(reply, FileReply)
    assert bibtexparser.parse_string(reply.content).entries == []


# --- settings -------------------------------------------------------------------------------


async def test_settings_of_a_configured_channel_show_its_profile(service: Service) -> None:
    reply = await ask(service, "settings")
    assert isinstance(reply, SettingsReply) and reply.channel == CHANNEL


async def test_settings_name_the_save_emoji(service: Service) -> None:
    reply = await ask(service, "settings")
    assert isinstance(reply, SettingsReply) and reply.save_emoji == "pushpin"


async def test_settings_say_when_the_next_post_is(service: Service) -> None:
    # The clock is Friday 12 June 2026, 08:00 UTC; CHANNEL posts at 09:00 UTC on weekdays.
    reply = await ask(service, "settings")
    assert isinstance(reply, SettingsReply)
    assert reply.next_run == datetime(2026, 6, 12, 9, 0, tzinfo=ZoneInfo("UTC"))


async def test_settings_after_fridays_post_name_monday(
    service: Service, clock: Clock
) -> None:
    clock.now = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)
    reply = await ask(service, "settings")
    assert isinstance(reply, SettingsReply) and reply.next_run is not None
    assert reply.next_run.date() == date(2026, 6, 15)


async def test_a_typed_command_needs_no_text(service: Service) -> None:
    # Discord hands over options already split: the service takes the command as built.
    reply = await service.handle_command(
        CommandEvent(WHERE, "U0ANA", command=commands.build_export("csv"))
    )
    assert isinstance(reply, FileReply) and reply.filename.endswith(".csv")


async def test_settings_of_an_unconfigured_channel_say_it_has_none(service: Service) -> None:
    reply = await ask(service, "settings", where=ELSEWHERE)
    assert isinstance(reply, SettingsReply) and reply.channel is None


# --- search ---------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def searcher(services: Services, hf_client: HuggingFaceClient) -> AsyncIterator[Searcher]:
    built = Searcher(PaperIndex.in_memory(), services.store, hf_client, None)
    yield built
    await built.close()


@pytest.fixture
def searching(services: Services, searcher: Searcher) -> Service:
    return services.make(searcher=searcher)


def _hit_ids(reply: Reply) -> list[str]:
    assert isinstance(reply, SearchReply)
    return [hit.paper.arxiv_id for hit in reply.hits]


async def test_search_finds_a_paper_of_the_day_by_title_words(searching: Service) -> None:
    await ask(searching, "today")  # fetches the day, which indexes its candidates
    assert _hit_ids(await ask(searching, "search sparse attention"))[0] == MINIMAX


async def test_search_by_arxiv_id_finds_exactly_that_paper(searching: Service) -> None:
    reply = await ask(searching, f"search {MINIMAX}")
    assert isinstance(reply, SearchReply) and [h.match for h in reply.hits] == ["exact"]


async def test_search_reply_is_private(searching: Service) -> None:
    assert (await ask(searching, "search sparse attention")).private is True


async def test_search_with_no_match_says_so(searching: Service) -> None:
    reply = await ask(searching, "search zzyzx")
    assert isinstance(reply, SearchReply) and reply.note == "no papers matched"


async def test_search_when_hugging_face_fails_falls_back_to_local_results(
    searching: Service, searcher: Searcher, hf_fake: FakeHuggingFace
) -> None:
    await ask(searching, "today")
    # The day's papers are searchable locally once the indexer has committed them.
    await searcher.drain()
    hf_fake.fail_next("/api/papers/search", status=500, times=10)
    assert MINIMAX in _hit_ids(await ask(searching, "search sparse attention"))
