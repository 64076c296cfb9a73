"""Where papers come from: Hugging Face's papers API and arXiv, over one shared httpx client.

Each source turns upstream answers into `bot.models.Paper`s and every failure into the
`bot.errors` tree (via `bot.sources.http`). Nothing here ranks, caches or summarises.
Built by bot.runtime; used by bot.daily, bot.search and bot.service.
"""

from bot.sources.arxiv import ArxivClient
from bot.sources.http import RetryPolicy, make_client
from bot.sources.huggingface import HuggingFaceClient, SearchHit

__all__ = ["ArxivClient", "HuggingFaceClient", "RetryPolicy", "SearchHit", "make_client"]
