"""Builders and fixtures for the search tests: small papers, raw HF items, a real corpus slice.

The inline papers are enough for every behaviour test; the corpus slice (../shared/data,
skipped with a reason when absent) checks the same behaviours on real text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from bot.models import Paper
from bot.search import INDEX_DIR
from bot.search.index import PaperIndex
from bot.sources.huggingface import HuggingFaceClient
from bot.store.memory import MemoryStore
from tests.conftest import corpus_path
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.refusing_port import refusing_url

CORPUS_SLICE = 600


def paper(arxiv_id: str, title: str, abstract: str = "", **changes: Any) -> Paper:
    """A paper with readable defaults: one author, published 2024-02-10."""
    fields: dict[str, Any] = {
        "arxiv_id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": ("Ada Lovelace",),
        "published_at": datetime(2024, 2, 10, 12, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return Paper(**fields)


def hf_item(
    arxiv_id: str,
    title: str,
    summary: str = "",
    *,
    authors: tuple[str, ...] = ("Ada Lovelace",),
    day: str = "2024-02-12",
    published: str = "2024-02-10T12:00:00.000Z",
    upvotes: int = 3,
) -> dict[str, Any]:
    """One raw Daily Papers item, in the shape `/api/daily_papers` returns."""
    inner = {
        "id": arxiv_id,
        "title": title,
        "summary": summary,
        "authors": [{"name": name, "hidden": False} for name in authors],
        "publishedAt": published,
        "submittedOnDailyAt": f"{day}T08:00:00.000Z",
        "upvotes": upvotes,
    }
    return {"paper": inner, "title": title, "summary": summary, "publishedAt": published,
            "numComments": 0}


# A handful of papers that each behaviour test can reason about by hand.
SPECULATIVE = paper(
    "2211.17192",
    "Fast Inference from Transformers via Speculative Decoding",
    "Inference from large autoregressive models is slow. We sample from a small draft model "
    "and verify its guesses with the large model in parallel.",
    authors=("Yaniv Leviathan", "Matan Kalman", "Yossi Matias"),
    published_at=datetime(2022, 11, 30, 18, 0, tzinfo=UTC),
)
MENTIONS_SPECULATIVE = paper(
    "2402.00002",
    "A Survey of Efficient Language Model Serving",
    "We review batching, quantization and speculative decoding among other serving methods.",
    authors=("Grace Hopper",),
)
DIT = paper(
    "2212.09748",
    "Scalable Diffusion Models with Transformers",
    "We explore a new class of diffusion models based on the transformer architecture, "
    "replacing the U-Net backbone with a transformer that operates on latent patches.",
    authors=("William Peebles", "Saining Xie"),
    published_at=datetime(2022, 12, 19, 18, 0, tzinfo=UTC),
    ai_keywords=("diffusion transformer", "latent patches"),
)
FORWARD_FORWARD = paper(
    "2212.13345",
    "The Forward-Forward Algorithm: Some Preliminary Investigations",
    "We replace the forward and backward passes of backpropagation by two forward passes.",
    authors=("Geoffrey Hinton",),
    published_at=datetime(2022, 12, 27, 10, 0, tzinfo=UTC),
)
RECENT = paper(
    "2501.04519",
    "Reasoning Models that Think in Latent Space",
    "A 2025 model that reasons with continuous thoughts instead of tokens.",
    authors=("Ada Lovelace", "Alan Turing"),
    published_at=datetime(2025, 1, 8, 9, 0, tzinfo=UTC),
    featured_on=date(2025, 1, 9),
    ai_summary="Reasoning happens in a latent space rather than in generated tokens.",
)
SMALL_SET = (SPECULATIVE, MENTIONS_SPECULATIVE, DIT, FORWARD_FORWARD, RECENT)


@pytest.fixture
def small_index() -> PaperIndex:
    index = PaperIndex.in_memory()
    index.add(SMALL_SET)
    return index


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    # The source clients retry with real backoff; one attempt keeps failure tests instant.
    with stamina.set_testing(True, attempts=1):
        yield


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


async def store_with_papers() -> MemoryStore:
    """A store holding SMALL_SET, for the index to be built from."""
    store = MemoryStore()
    await store.put_papers(SMALL_SET)
    return store


def broken_copies(data_dir: Path) -> list[Path]:
    """The damaged index directories set aside (renamed `.broken-*`) in `data_dir`."""
    return list(data_dir.glob(f"{INDEX_DIR}.broken-*"))


@pytest.fixture
def refused_url() -> str:
    """An address on 127.0.0.1 where a connection is refused (tests/fakes/refusing_port.py)."""
    return refusing_url()


@pytest.fixture
def hf_client(fake_hf: FakeHuggingFace, http: httpx.AsyncClient) -> HuggingFaceClient:
    return HuggingFaceClient(http, base_url=fake_hf.base_url)


def corpus_papers(limit: int = CORPUS_SLICE) -> list[Paper]:
    """The first `limit` papers of the real corpus (skips when ../shared/data is absent)."""
    papers = []
    with corpus_path().open(encoding="utf-8") as lines:
        for line in lines:
            if len(papers) == limit:
                break
            papers.append(_from_record(json.loads(line)))
    return papers


def _from_record(record: dict[str, Any]) -> Paper:
    organization = record.get("organization") or {}
    return Paper(
        arxiv_id=record["arxiv_id"],
        title=" ".join(record["title"].split()),
        abstract=" ".join(record.get("abstract", "").split()),
        authors=tuple(record.get("authors", ())),
        published_at=datetime.fromisoformat(record["published_at"]),
        featured_on=date.fromisoformat(record["daily_date"]),
        upvotes=record.get("upvotes"),
        ai_summary=record.get("ai_summary"),
        ai_keywords=tuple(record.get("ai_keywords", ())),
        organization=organization.get("fullname") or organization.get("name"),
    )
