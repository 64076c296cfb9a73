"""Block Kit output: within Slack's limits for extreme papers, and escaped so it pings no one.

Papers with 10,000-character abstracts, 300 authors, 1,000-character titles and mention or
link injections in every field go through each renderer; each message is checked against
Slack's limits (section 3,000, header 150, button 75, 50 blocks, ~12,000 characters).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adapters.slack import render
from bot.events import DetailsReply, DigestReply, ListReply, SearchHitView, SearchReply
from bot.models import (
    ChatRef,
    Digest,
    Paper,
    Pick,
    SavedPaper,
    Saver,
    SimilarToSaved,
    Summary,
)

INJECTION = "<!channel> <!here> <@U123> <https://evil.example|click> & friends"
WHERE = ChatRef("slack", "T0", "C0", "1.1")


def _paper(n: int = 0, **changes: Any) -> Paper:
    fields: dict[str, Any] = {
        "arxiv_id": f"2606.{10000 + n}",
        "title": ("A very long title about diffusion " * 40)[:1000] + INJECTION,
        "abstract": ("Abstract words & more " * 500)[:10000] + INJECTION,
        "authors": tuple(f"Author Number{i} {INJECTION if i == 0 else ''}" for i in range(300)),
        "organization": INJECTION, "upvotes": 12, "github_stars": 1234,
        "github_repo": "javascript:alert(1)", "project_page": "http://plain.example",
    }
    fields.update(changes)
    return Paper(**fields)


def _pick(n: int = 0) -> Pick:
    reasons = (SimilarToSaved("Saved one", "2601.00001", ("U0ANA",)),)
    return Pick(_paper(n), 1.0, n + 1, reasons, Summary(INJECTION * 20, "extractive"))


def _messages() -> list[render.Message]:
    picks = tuple(_pick(n) for n in range(25))
    digest = Digest("papers", date(2026, 6, 12), picks, 400)
    hits = tuple(SearchHitView(_paper(n), INJECTION * 30, INJECTION * 10, "local")
                 for n in range(20))
    saved = tuple(SavedPaper(_paper(n), (Saver("U0ANA", datetime(2026, 6, 1, tzinfo=UTC)),))
                  for n in range(20))
    return [
        render.header_message(digest, "pushpin"),
        render.pick_message(_pick(), {"U0ANA": "Ana Lee"}),
        render.note_message(INJECTION * 300),
        render.render_reply(DigestReply(digest)),
        render.render_reply(SearchReply(INJECTION * 20, hits, note=INJECTION)),
        render.render_reply(ListReply(saved, 400)),
        render.render_reply(DetailsReply(_paper(), WHERE)),
    ]


MESSAGES = _messages()
NAMES = ["header", "pick", "note", "digest", "search", "list", "details"]


def _texts(block: dict[str, Any]) -> list[str]:
    found = []
    if isinstance(block.get("text"), dict):
        found.append(block["text"]["text"])
    for element in block.get("elements", ()):
        text = element.get("text")
        found.append(text["text"] if isinstance(text, dict) else text)
    return found


def _all_text(message: render.Message) -> str:
    return "\n".join(t for block in message.blocks for t in _texts(block))


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_at_most_50_blocks(message: render.Message) -> None:
    assert len(message.blocks) <= render.BLOCKS_MAX


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_total_text_within_the_message_limit(message: render.Message) -> None:
    assert len(_all_text(message)) <= render.MESSAGE_MAX


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_every_section_within_3000_characters(message: render.Message) -> None:
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert max(map(len, sections), default=0) <= render.SECTION_MAX


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_every_header_within_150_characters(message: render.Message) -> None:
    headers = [b["text"]["text"] for b in message.blocks if b["type"] == "header"]
    assert max(map(len, headers), default=0) <= render.HEADER_MAX


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_every_button_label_within_75_characters(message: render.Message) -> None:
    labels = [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
              for e in b["elements"]]
    assert max(map(len, labels), default=0) <= render.BUTTON_MAX


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_no_mention_or_special_command_survives(message: render.Message) -> None:
    assert re.search(r"<[!@#]", _all_text(message)) is None


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_no_link_to_a_disguised_url(message: render.Message) -> None:
    assert "<https://evil" not in _all_text(message)


@pytest.mark.parametrize("message", MESSAGES, ids=NAMES)
def test_notification_text_mentions_no_one(message: render.Message) -> None:
    assert re.search(r"<[!@#]", message.text) is None


def test_only_https_links_become_buttons() -> None:
    actions = next(b for b in render.pick_message(_pick()).blocks if b["type"] == "actions")
    urls = [e["url"] for e in actions["elements"] if "url" in e]
    assert all(url.startswith("https://") for url in urls)


def test_saver_appears_by_display_name() -> None:
    assert "Ana Lee" in _all_text(render.pick_message(_pick(), {"U0ANA": "Ana Lee"}))


def test_saver_is_never_a_user_id_that_could_ping() -> None:
    assert "U0ANA" not in _all_text(render.pick_message(_pick(), {}))


def test_long_search_says_how_many_were_left_out() -> None:
    assert "not shown" in _all_text(MESSAGES[NAMES.index("search")])


def test_overlong_title_is_cut_with_an_ellipsis() -> None:
    first = render.pick_message(_pick()).blocks[0]["text"]["text"]
    assert "…" in first


def test_escape_replaces_ampersand_first() -> None:
    assert render.escape("<&>") == "&lt;&amp;&gt;"


def test_fit_never_splits_an_entity() -> None:
    assert render.fit("&" * 50, 23).endswith(("&amp;", "…"))


def test_plain_text_fallback_is_short_enough_for_notifications() -> None:
    assert max(len(m.text) for m in MESSAGES) <= render.TEXT_MAX
