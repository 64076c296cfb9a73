"""adapters/discord/render.py: embeds within Discord's limits, outside text made inert.

Pure: built from Paper/Pick/Digest values. Discord answers 400 to an embed past a limit,
and renders markdown and mentions in what a paper's authors or a user wrote, so extreme
fields and injection strings are the cases that matter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import discord
import pytest

from adapters.discord import render
from bot.commands import HELP
from bot.config import ChannelConfig
from bot.events import (
    DigestReply,
    HelpReply,
    Ignored,
    ListReply,
    SearchHitView,
    SearchReply,
    SettingsReply,
)
from bot.models import Digest, MatchesKeywords, Paper, Pick, SavedPaper, Saver, Summary

DAY = date(2026, 6, 12)
INJECTIONS = ("@everyone", "@here", "<@123>", "<@&456>", "<#789>", "[x](https://evil.example)",
              "`code`", "**bold**", "||spoiler||")
HOSTILE = " ".join(INJECTIONS)
MSA = Paper(arxiv_id="2606.13392", title="MiniMax Sparse Attention",
            abstract="We present MSA.", authors=("Xunhao Lai", "Weiqi Xu"), upvotes=103,
            organization="MiniMax")
HUGE = Paper(arxiv_id="2606.99999", title="word " * 400, abstract="a " * 5000,
             authors=tuple(f"Author Number{n} " * 20 for n in range(500)),
             upvotes=10**9, github_stars=10**9, organization="Org " * 500,
             github_repo="https://github.com/" + "x" * 2000,
             project_page="https://example.org/" + "y" * 2000)
EVIL = Paper(arxiv_id="2606.66666", title=HOSTILE, abstract=HOSTILE, authors=(HOSTILE,),
             organization=HOSTILE)


def _pick(paper: Paper = MSA, summary: str = "MSA makes long contexts cheap.",
          rank: int = 1) -> Pick:
    return Pick(paper, 1.0, rank, (MatchesKeywords(("attention",)),),
                Summary(summary, "huggingface"))


def _texts(embed: discord.Embed) -> list[str]:
    data = embed.to_dict()
    texts = [data.get("title", ""), data.get("description", ""),
             data.get("footer", {}).get("text", ""), data.get("author", {}).get("name", "")]
    for f in data.get("fields", []):
        texts += [f["name"], f["value"]]
    return texts


def _within_limits(embed: discord.Embed) -> bool:
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (len(data.get("title", "")) <= 256 and len(data.get("description", "")) <= 4096
            and len(fields) <= 25 and all(len(f["name"]) <= 256 for f in fields)
            and all(len(f["value"]) <= 1024 for f in fields)
            and len(data.get("footer", {}).get("text", "")) <= 2048
            and len(data.get("author", {}).get("name", "")) <= 256)


# --- limits -----------------------------------------------------------------------------------


def test_pick_of_a_paper_with_extreme_fields_stays_within_every_embed_limit() -> None:
    embed = render.render_pick(_pick(HUGE, summary="s " * 5000)).embeds[0]
    assert _within_limits(embed)


def test_pick_of_a_paper_with_extreme_fields_stays_within_6000_characters() -> None:
    embed = render.render_pick(_pick(HUGE, summary="s " * 5000)).embeds[0]
    assert len(embed) <= render.MESSAGE_TOTAL


def test_long_title_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    title = render.render_pick(_pick(HUGE)).embeds[0].title or ""
    assert title.endswith("word…")


def test_clip_keeps_text_that_fits() -> None:
    assert render.clip("short", 10) == "short"


def test_clip_never_leaves_a_dangling_escape_before_the_ellipsis() -> None:
    assert render.clip("aaaa \\*bbbbbbbb", 7) == "aaaa…"


def test_todays_reply_with_many_picks_sends_at_most_ten_embeds() -> None:
    digest = Digest("papers", DAY, tuple(_pick(HUGE, rank=n) for n in range(1, 31)), 40)
    assert len(render.render_reply(DigestReply(digest)).embeds) <= 10  # type: ignore[union-attr]


def test_todays_reply_with_many_picks_stays_within_6000_characters() -> None:
    digest = Digest("papers", DAY, tuple(_pick(HUGE, rank=n) for n in range(1, 31)), 40)
    rendered = render.render_reply(DigestReply(digest))
    assert sum(len(e) for e in rendered.embeds) <= 6000  # type: ignore[union-attr]


def test_todays_reply_says_how_many_picks_were_not_shown() -> None:
    digest = Digest("papers", DAY, tuple(_pick(HUGE, rank=n) for n in range(1, 31)), 40)
    content = render.render_reply(DigestReply(digest)).content  # type: ignore[union-attr]
    assert content is not None and content.endswith("more not shown")


def test_search_reply_with_huge_hits_stays_within_6000_characters() -> None:
    hits = tuple(SearchHitView(HUGE, "s " * 3000, "m " * 3000, "local") for _ in range(20))
    rendered = render.render_reply(SearchReply("q", hits))
    assert sum(len(e) for e in rendered.embeds) <= 6000  # type: ignore[union-attr]


def test_long_team_list_fits_one_description() -> None:
    saver = Saver("201", datetime(2026, 6, 12, tzinfo=UTC))
    entries = tuple(SavedPaper(HUGE, (saver,)) for _ in range(20))
    embed = render.render_list(ListReply(entries, 20))
    assert len(embed.description or "") <= 4096


def test_settings_with_huge_filters_stay_within_every_embed_limit() -> None:
    channel = ChannelConfig(keywords=tuple(f"keyword{n}" for n in range(900)),
                            exclude=("x" * 3000,))
    assert _within_limits(render.render_settings(SettingsReply(channel)))


# --- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injection_in_a_paper_never_reaches_the_embed_as_is(injection: str) -> None:
    embed = render.render_pick(_pick(EVIL, summary=HOSTILE)).embeds[0]
    assert not any(injection in text for text in _texts(embed))


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injection_in_a_search_query_never_reaches_the_reply_as_is(injection: str) -> None:
    content = render.render_reply(SearchReply(HOSTILE, ())).content  # type: ignore[union-attr]
    assert injection not in (content or "")


def test_escaped_text_still_reads_the_same() -> None:
    assert render.escape("<@123> **x**").replace("\\", "").replace("\u200b", "") == \
        "<@123> **x**"


def test_link_with_a_non_https_url_shows_only_its_label() -> None:
    assert render.link("GitHub", "javascript:alert(1)") == "GitHub"


# --- replies ----------------------------------------------------------------------------------


def test_ignored_reply_says_nothing() -> None:
    assert render.render_reply(Ignored("not mine")) is None


def test_help_after_bad_input_starts_with_the_explanation() -> None:
    embed = render.render_help(HelpReply(HELP, error="unknown command 'x'"))
    assert (embed.description or "").startswith("**unknown command 'x'**")


def test_pick_shows_the_papers_thumbnail() -> None:
    paper = replace(MSA, thumbnail="https://cdn-thumbnails.huggingface.co/p/2606.13392.png")
    embed = render.render_pick(_pick(paper)).embeds[0]
    assert embed.thumbnail.url == "https://cdn-thumbnails.huggingface.co/p/2606.13392.png"


def test_pick_never_shows_a_thumbnail_that_is_not_https() -> None:
    paper = replace(MSA, thumbnail="http://evil.example/x.png")
    assert render.render_pick(_pick(paper)).embeds[0].thumbnail.url is None


def test_pick_footer_names_the_paper_and_the_save_emoji() -> None:
    embed = render.render_pick(_pick()).embeds[0]
    assert embed.footer.text == "arXiv 2606.13392 · react 📌 to save"


def test_header_names_the_day_and_the_counts() -> None:
    digest = Digest("papers", DAY, (_pick(),), 41)
    assert render.render_header(digest).content == \
        "**Daily papers — Fri 12 Jun 2026** · 1 pick of 41 · react 📌 to save"
