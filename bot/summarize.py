"""The TL;DR chain: one or two sentences (≤ 300 characters) for every paper, never empty.

For each paper, in order:
1. Hugging Face's `ai_summary` when the paper has one (free; ~99% of Daily Papers);
2. an LLM behind any OpenAI-compatible `/v1/chat/completions` endpoint, when configured
   (`[summaries] base_url` + `model`): bounded concurrency, one deadline for the whole
   batch, answers validated (no links, no numbers the abstract does not contain);
3. `extractive_tldr`: the abstract's contribution sentence ("We propose …"), offline.

LLM and extractive results are cached in the Store per (paper, summarizer, model), so a
paper costs at most one LLM call per model, ever: each `summarize` call does one batched
cache read and sends only the misses. HF summaries arrive with the paper and are not cached.
A failed LLM call (HTTP error, timeout, unreadable or invalid answer) logs one warning —
never the API key — and that paper falls back to the extractive TL;DR, uncached, so the next
run tries the LLM again. A refused key (HTTP 401 or 403) is the same answer for every paper:
the first one stops the LLM step for the rest of the batch, with one warning naming the key's
environment variable (never its value). Nothing here raises for an LLM failure: a summary
never blocks a post.

Network only through the `httpx.AsyncClient` it is given (or one it opens per batch); it
never reads the environment — the caller passes the key read from `api_key_env`.
Called by bot.daily for the union of all channels' picks (built in bot.runtime);
`extractive_tldr` is also used by bot.picks for a pick that arrives without a summary.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from bot.config import SummariesConfig
from bot.errors import StoreError
from bot.models import Paper, Summary
from bot.store import Store

log = logging.getLogger(__name__)

LIMIT = 300
LLM = "llm"
EXTRACTIVE = "extractive"

SYSTEM_PROMPT = (
    "You write TL;DRs of research papers for a team's chat channel. Answer with one or two "
    "plain sentences, at most 300 characters in total, saying what the paper contributes. "
    "No links, no markdown, no preamble, and no numbers that are not in the abstract."
)

# --- extractive ---------------------------------------------------------------------

# A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by space and
# something that can start a sentence. "3.5" never matches (no space after the dot).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset({
    "e.g.", "i.e.", "al.", "vs.", "cf.", "fig.", "figs.", "eq.", "eqs.", "sec.", "secs.",
    "no.", "nos.", "approx.", "resp.", "ref.", "refs.", "tab.", "vol.", "pp.", "ca.", "dr.",
    "mr.", "ms.", "prof.", "inc.", "ltd.", "co.", "st.", "jr.", "viz.", "ch.", "app.", "def.",
    "thm.", "lem.", "prop.",
})
_INITIALS = re.compile(r"(?:[a-z]\.)+")  # "J." in "J. Smith", "u.s."

# Sentence openings that state what the paper does, with how strongly they say so.
_CONTRIBUTION = (
    (re.compile(r"\b(?:in this|this) (?:paper|work|study|report|article)\b", re.I), 3.0),
    (re.compile(r"\b(?:here,? we|we here)\b", re.I), 3.0),
    (
        re.compile(
            r"\bwe (?:\w+ )?(?:propose|introduce|present|develop|design|release|build|"
            r"describe|unveil|construct|curate|formulate|devise|contribute|open-source)",
            re.I,
        ),
        3.0,
    ),
    (re.compile(r"^(?:to (?:this end|address|tackle|overcome|bridge|solve|fill)\b.*?, we)\b",
                re.I), 2.5),
    (
        re.compile(
            r"\bwe (?:\w+ )?(?:study|investigate|explore|examine|address|tackle|"
            r"analy[sz]e|train|generalize|extend)\b",
            re.I,
        ),
        2.0,
    ),
    (re.compile(r"\bour (?:\w+ )?(?:method|approach|model|framework|system|technique|"
                r"algorithm|pipeline|benchmark|dataset)\b", re.I), 1.5),
    # Results ("we show that …") say what was found, not what was made: the weakest cue.
    (re.compile(r"\bwe (?:\w+ )?(?:show|demonstrate|find)\b", re.I), 1.0),
)
_SHORT = 140  # a contribution sentence shorter than this takes the next one along


def extractive_tldr(paper: Paper, limit: int = LIMIT) -> str:
    """The abstract's contribution sentence (plus the next when both fit), at most `limit`
    characters, cut at a word boundary with "…". Falls back to the title; never empty."""
    sentences = split_sentences(paper.abstract)
    if not sentences:
        return _trim(_normalise(paper.title) or f"arXiv:{paper.arxiv_id}", limit)
    name = _paper_name(paper.title)
    best, best_score = 0, 0.0
    for index, sentence in enumerate(sentences):
        score = max((weight for pattern, weight in _CONTRIBUTION if pattern.search(sentence)),
                    default=0.0)
        if score and name and name in sentence:
            score += 0.5  # "We present Shap-E, …" names the contribution
        if score > best_score:  # strictly greater: the earliest of equals wins
            best, best_score = index, score
    text = sentences[best]
    if len(text) < _SHORT and best + 1 < len(sentences):
        joined = f"{text} {sentences[best + 1]}"
        if len(joined) <= limit:
            text = joined
    return _trim(text, limit)


def instant_summary(paper: Paper) -> Summary:
    """A TL;DR without any network: Hugging Face's summary, else the extractive one.
    For answers that must come at once (search results), where an LLM has no place."""
    hf = _normalise(paper.ai_summary)
    if hf:
        return Summary(text=_trim(hf), source="huggingface")
    return Summary(text=extractive_tldr(paper), source="extractive")


def split_sentences(text: str) -> list[str]:
    """Sentences of normalised `text`, keeping "e.g.", "et al.", initials and decimals inside."""
    text = _normalise(text)
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start() + 1]
        last = head.rsplit(None, 1)[-1].lstrip("([{\"'“‘").lower() if head.strip() else ""
        if last in _ABBREVIATIONS or _INITIALS.fullmatch(last):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _paper_name(title: str) -> str | None:
    # "Shap-E: Generating …" → "Shap-E"; only short names, not a whole first clause.
    head, colon, _ = title.partition(":")
    head = head.strip()
    return head if colon and 0 < len(head) <= 30 else None


def _normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def _trim(text: str, limit: int = LIMIT) -> str:
    """`text` with whitespace normalised, cut at the last word boundary before `limit`."""
    text = _normalise(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    if text[limit - 1] != " ":
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:-–—([{") + "…"


# --- the chain --------------------------------------------------------------------------


class _Rejected(Exception):
    """An LLM answer that cannot be used; the message is a short reason safe to log."""


class _KeyRefused(_Rejected):
    """The LLM refused our credentials (HTTP 401/403): no other paper will fare better."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Summarizer:
    """Produce `Summary`s through the chain; counts LLM calls and cache hits for tests and
    benchmarks. One instance may serve many batches; it holds no per-batch state."""

    def __init__(
        self,
        store: Store,
        llm: SummariesConfig | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        api_key: str | None = None,
    ) -> None:
        """`llm` None (or one without base_url and model) skips step 2. `http` is used for
        the LLM when given, else a client is opened per batch. `api_key` is sent as a
        Bearer token when given; the caller reads it from `llm.api_key_env`."""
        self._store = store
        self._config = llm or SummariesConfig()
        self._http = http
        self._api_key = api_key or None
        self.llm_calls = 0  # HTTP requests sent to the LLM
        self.cache_hits = 0  # summaries served from the store instead of being made

    @property
    def _url(self) -> str:
        base = self._config.base_url.rstrip("/")
        # The documented form is the API root (".../v1", or a vendor's own such as
        # ".../v1beta/openai"); a bare host ("http://localhost:11434") means its /v1.
        if not urlsplit(base).path:
            base += "/v1"
        return base + "/chat/completions"

    async def summarize(self, papers: Sequence[Paper]) -> dict[str, Summary]:
        """A Summary for every paper, keyed by arXiv id, in input order."""
        unique = list({p.arxiv_id: p for p in papers}.values())
        result: dict[str, Summary] = {}
        need: list[Paper] = []
        for paper in unique:
            hf = _normalise(paper.ai_summary)
            if hf:
                result[paper.arxiv_id] = Summary(text=_trim(hf), source="huggingface")
            else:
                need.append(paper)
        if need:
            result.update(await self._summarize_rest(need))
        return {p.arxiv_id: result[p.arxiv_id] for p in unique}

    async def _summarize_rest(self, papers: list[Paper]) -> dict[str, Summary]:
        use_llm = self._config.llm_enabled
        summarizer, model = (LLM, self._config.model) if use_llm else (EXTRACTIVE, None)
        cached = await self._cached(papers, summarizer, model)
        self.cache_hits += len(cached)
        missing = [p for p in papers if p.arxiv_id not in cached]
        made: dict[str, Summary] = {}
        if use_llm and missing:
            made = await self._ask_all(missing)
            for arxiv_id, summary in made.items():
                await self._remember(arxiv_id, LLM, summary)
        result = dict(cached)
        result.update(made)
        for paper in missing:
            if paper.arxiv_id in result:
                continue
            summary = Summary(text=extractive_tldr(paper), source="extractive")
            result[paper.arxiv_id] = summary
            if not use_llm:
                # A fallback after an LLM failure is not cached: the next run retries.
                await self._remember(paper.arxiv_id, EXTRACTIVE, summary)
        return result

    async def _cached(
        self, papers: list[Paper], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        try:
            return await self._store.get_summaries(
                [p.arxiv_id for p in papers], summarizer, model
            )
        except StoreError as exc:
            log.warning("summary cache unreadable (%s); summarising without it", exc)
            return {}

    async def _remember(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        if self._store.readonly:
            return
        try:
            await self._store.put_summary(arxiv_id, summarizer, summary)
        except StoreError as exc:
            log.warning("could not cache the summary of %s (%s)", arxiv_id, exc)

    async def _ask_all(self, papers: list[Paper]) -> dict[str, Summary]:
        """LLM summaries for as many papers as finish before one shared deadline.

        The deadline is the batch's start plus `timeout`, and it covers waiting for a
        concurrency slot too: whatever the LLM's speed, the post waits at most `timeout`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.timeout
        slots = asyncio.Semaphore(max(1, self._config.concurrency))
        unstarted = 0
        refused: _KeyRefused | None = None  # set by the first 401/403 of this batch

        async def one(client: httpx.AsyncClient, paper: Paper) -> Summary | None:
            nonlocal unstarted, refused
            started = False
            try:
                async with asyncio.timeout_at(deadline), slots:
                    if refused is not None:
                        return None  # the key was refused: asking again cannot help
                    started = True
                    return await self._ask(client, paper)
            except TimeoutError:
                if started:
                    self._warn(paper, f"no answer within {self._config.timeout:g}s")
                else:
                    unstarted += 1
            except _KeyRefused as exc:
                # Requests already in flight may be refused too: one warning for the batch.
                if refused is None:
                    refused = exc
                    self._warn_key_refused(exc.status)
            except _Rejected as exc:
                self._warn(paper, str(exc))
            return None

        if self._http is not None:
            answers = await asyncio.gather(*(one(self._http, p) for p in papers))
        else:
            async with httpx.AsyncClient() as client:
                answers = await asyncio.gather(*(one(client, p) for p in papers))
        if unstarted:
            log.warning(
                "LLM: %d of %d papers not summarised within %gs; using the extractive TL;DR",
                unstarted, len(papers), self._config.timeout,
            )
        return {p.arxiv_id: s for p, s in zip(papers, answers, strict=True) if s is not None}

    async def _ask(self, client: httpx.AsyncClient, paper: Paper) -> Summary:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {
            "model": self._config.model,
            # No temperature or max_tokens: some OpenAI-compatible servers and models
            # reject them, and the deadline already bounds a rambling answer.
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": f"Title: {_normalise(paper.title)}\n\n"
                    f"Abstract: {_normalise(paper.abstract)}",
                },
            ],
            "stream": False,
        }
        self.llm_calls += 1
        try:
            response = await client.post(
                self._url, json=body, headers=headers, timeout=self._config.timeout
            )
        except httpx.TimeoutException as exc:
            raise _Rejected(f"no answer within {self._config.timeout:g}s") from exc
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError, ExceptionGroup) as exc:
            # The class name only: an exception's text may quote the request. Bad URLs
            # (a port out of range) end here too: a broken LLM never blocks a post.
            raise _Rejected(type(exc).__name__) from exc
        if response.status_code in (401, 403):
            raise _KeyRefused(response.status_code)
        if response.status_code != 200:
            raise _Rejected(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise _Rejected("answer is not JSON") from exc
        text = _validated(_content(data), paper)
        return Summary(text=text, source="llm", model=self._config.model)

    def _warn_key_refused(self, status: int) -> None:
        variable = self._config.api_key_env or "the key variable in [summaries] api_key_env"
        if self._api_key:
            problem = f"LLM refused the key in {variable} (HTTP {status}): check that variable"
        else:
            problem = f"LLM wants a key (HTTP {status}) but {variable} is not set"
        log.warning("%s; this batch uses the extractive TL;DR", problem)

    def _warn(self, paper: Paper, reason: str) -> None:
        if self._api_key:  # reasons are ours, but never let the key through regardless
            reason = reason.replace(self._api_key, "***")
        log.warning(
            "LLM summary of %s failed (%s); using the extractive TL;DR", paper.arxiv_id, reason
        )


def _content(data: object) -> str:
    """choices[0].message.content of a chat-completions answer."""
    try:
        content = data["choices"][0]["message"]["content"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError) as exc:
        raise _Rejected("answer has no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise _Rejected("answer content is not text")
    return content


_THINKING = re.compile(r"<think>.*?</think>", re.S | re.I)  # reasoning models' scratchpad
_LABEL = re.compile(r"^(?:tl;?\s*dr|summary)\s*[:\-–—]\s*", re.I)
_MARKDOWN = re.compile(r"\*\*|__|`|^#+\s*|^\s*[-*•]\s+", re.M)
_LINK = re.compile(r"https?://|www\.|\]\(", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTES = "\"'“”‘’«»"


def _validated(answer: str, paper: Paper) -> str:
    """The answer as a plain TL;DR, or _Rejected when it is empty or invents links/numbers."""
    text = _THINKING.sub(" ", answer)
    text = _MARKDOWN.sub("", text)
    text = _normalise(text)
    text = _LABEL.sub("", text)
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if not text:
        raise _Rejected("empty answer")
    if _LINK.search(text):
        raise _Rejected("answer contains a link")
    source = f"{paper.title} {paper.abstract}"
    known = set(_NUMBER.findall(source))
    invented = [n for n in _NUMBER.findall(text) if n not in known]
    if invented:
        raise _Rejected(f"answer has numbers not in the abstract ({', '.join(invented[:3])})")
    return _trim(text)


__all__ = ["LIMIT", "SYSTEM_PROMPT", "Summarizer", "extractive_tldr", "split_sentences"]
