"""TL;DRs for papers: the offline TL;DR, the LLM client, the output guard and the chain
that runs them (in the background ahead of a post, and with a short wait at post time).

- bot.summaries.offline — the abstract's contribution sentence, no network;
- bot.summaries.llm — one request to an OpenAI-compatible endpoint;
- bot.summaries.guard — an LLM answer made into a plain TL;DR, or rejected;
- bot.summaries.chain — `Summarizer`: HF summary, else LLM (cached, in background), else
  offline.
"""

from bot.summaries.chain import EXTRACTIVE, LLM, Summarizer
from bot.summaries.llm import SYSTEM_PROMPT
from bot.summaries.offline import LIMIT, extractive_tldr, instant_summary, split_sentences

__all__ = [
    "EXTRACTIVE", "LIMIT", "LLM", "SYSTEM_PROMPT", "Summarizer", "extractive_tldr",
    "instant_summary", "split_sentences",
]
