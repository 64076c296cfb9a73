"""`paperboy summaries test` and the speed warnings of `paperboy config check`.

`probe` sends ONE request to the configured endpoint for a built-in sample paper and reports
its latency, whether the guard accepted the answer (and why not), and the answer itself. The
latency is kept in `<data dir>/llm-speed.json` (model, endpoint, seconds, when), so that
`speed_warnings` can say when `[summaries] timeout` is below what this very model needs,
or when `prefetch_minutes` leaves too little time for the day's likely picks. Without a
measurement, a local endpoint (localhost, a LAN address, Ollama's port) with a short
timeout is warned about too: a small model on a CPU takes about a minute per paper.
Reads no environment (the caller passes the key); never prints or stores the key.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.config import Config, SummariesConfig
from bot.models import Paper
from bot.prefetch import MARGIN
from bot.summaries.guard import Rejected, guard
from bot.summaries.llm import LLMClient, LLMError

SPEED_FILE = "llm-speed.json"
# How much slower than the measured request a timeout must allow for: answers vary with the
# abstract's length and with what else the machine does.
HEADROOM = 1.5
# A local model on a CPU: 30–70 s per paper was seen (llama.cpp, a 1.5B model, 2 cores).
LOCAL_LIKELY_SECONDS = 60.0
LOCAL_PORTS = frozenset({11434, 8080, 1234, 5000, 8000})  # Ollama, llama.cpp, LM Studio, …

SAMPLE = Paper(
    arxiv_id="0000.00000",
    title="TinyRoute: Routing Questions to the Smallest Model That Can Answer Them",
    abstract=(
        "Large language models answer most questions well but cost much to run, while small "
        "models are cheap but fail on hard questions. In this paper, we propose TinyRoute, a "
        "router that predicts from the question alone whether a small model will answer it "
        "correctly and sends it to a large model only when it will not. TinyRoute is trained "
        "on the answers of both models to 20,000 questions and adds under 5 ms per question. "
        "On four question-answering benchmarks it keeps 97% of the large model's accuracy "
        "while sending 60% of the questions to the small one."
    ),
    authors=("A. Example",),
)


@dataclass(frozen=True)
class Probe:
    """One request's outcome: `verdict` is "accepted", "rejected: <reason>" or
    "failed: <reason>"; `tldr` what a post would show (None when it would fall back)."""

    seconds: float
    verdict: str
    answer: str | None
    tldr: str | None


@dataclass(frozen=True)
class Measured:
    model: str
    base_url: str
    seconds: float
    at: str


async def probe(
    config: SummariesConfig, *, api_key: str | None, http: httpx.AsyncClient
) -> Probe:
    """Ask the endpoint once about SAMPLE, waiting up to `config.timeout` seconds."""
    client = LLMClient(config, http=http, api_key=api_key)
    started = datetime.now(UTC)
    try:
        answer = await client.ask(SAMPLE)
    except LLMError as exc:
        seconds = (datetime.now(UTC) - started).total_seconds()
        return Probe(seconds, f"failed: {exc.reason}", None, None)
    try:
        tldr = guard(answer.text, SAMPLE, truncated=answer.truncated)
    except Rejected as exc:
        return Probe(answer.seconds, f"rejected: {exc}", answer.text, None)
    return Probe(answer.seconds, "accepted", answer.text, tldr)


def record(data_dir: Path, config: SummariesConfig, seconds: float) -> None:
    """Keep the measured latency for `config check` (temp file + rename: never half-written)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SPEED_FILE
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps({
        "model": config.model, "base_url": config.base_url, "seconds": round(seconds, 2),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }), encoding="utf-8")
    os.replace(temp, path)


def measured(data_dir: Path, config: SummariesConfig) -> Measured | None:
    """The latency `paperboy summaries test` measured for this model and endpoint, if any."""
    try:
        data = json.loads((data_dir / SPEED_FILE).read_text(encoding="utf-8"))
        found = Measured(str(data["model"]), str(data["base_url"]), float(data["seconds"]),
                         str(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (found.model, found.base_url) != (config.model, config.base_url):
        return None  # another model's speed says nothing about this one
    return found


def speed_warnings(config: Config, speed: Measured | None) -> list[str]:
    """What `config check` should say about the LLM's timeout and prefetch for its speed."""
    summaries = config.summaries
    if not summaries.llm_enabled:
        return []
    warnings: list[str] = []
    if speed is not None:
        seconds, how = speed.seconds, f"`paperboy summaries test` measured {speed.seconds:g}s " \
            f"per paper for {summaries.model} ({speed.at})"
    elif is_local(summaries.base_url):
        seconds, how = LOCAL_LIKELY_SECONDS, (
            f"a local model on a CPU usually takes ~{LOCAL_LIKELY_SECONDS:g}s per paper "
            "(run `paperboy summaries test` to measure yours)")
    else:
        return []
    needed = seconds * HEADROOM
    if summaries.timeout < needed:
        warnings.append(
            f"[summaries] timeout = {summaries.timeout:g} is too short: {how}; set timeout "
            f"to at least {math.ceil(needed)}, or every TL;DR falls back to the offline one"
        )
    papers = likely_papers(config)
    minutes = papers * seconds / max(1, summaries.concurrency) / 60
    if papers and minutes > summaries.prefetch_minutes:
        warnings.append(
            f"[summaries] prefetch_minutes = {summaries.prefetch_minutes} is too short: "
            f"up to {papers} likely picks at ~{seconds:g}s each ({summaries.concurrency} at "
            f"a time) take ~{minutes:.0f} minutes; set prefetch_minutes to at least "
            f"{int(minutes) + 1}, or the post waits only `wait` for the rest"
        )
    return warnings


def likely_papers(config: Config) -> int:
    """At most how many papers the prefetch summarises: each channel's picks plus the margin
    (channels often share picks, so this is an upper bound)."""
    return sum(channel.top_n + MARGIN for channel in config.channels)


def is_local(base_url: str) -> bool:
    """Whether `base_url` points at this machine or the local network (a self-hosted model)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host in {"localhost", "host.docker.internal"} or host.endswith((".local", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return parts.port in LOCAL_PORTS
    return address.is_loopback or address.is_private or address.is_link_local


__all__ = ["SAMPLE", "Measured", "Probe", "is_local", "measured", "probe", "record",
           "speed_warnings"]
