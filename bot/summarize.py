"""The former home of the TL;DR chain, kept so existing imports keep working; the code is
in the bot.summaries package (offline TL;DR, LLM client, guard, chain)."""

from bot.summaries import (
    LIMIT,
    SYSTEM_PROMPT,
    Summarizer,
    extractive_tldr,
    instant_summary,
    split_sentences,
)

__all__ = [
    "LIMIT", "SYSTEM_PROMPT", "Summarizer", "extractive_tldr", "instant_summary",
    "split_sentences",
]
