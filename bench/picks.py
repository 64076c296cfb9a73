"""Time the daily fan-out of `bot.picks`: one day's batch ranked for 500 channel profiles.

Takes a real day from the corpus (bench/_corpus.py) — by default the day whose batch is
closest to 50 papers, plus the corpus's busiest day as a second row — and 500 generated
channel profiles: 0–6 keywords and 0–3 exclude terms drawn from real HF keywords, authors
(some from that day's papers, so boosts happen), min_upvotes, top_n, ~200 already-posted ids,
and for one profile in three a saved list of 15–25 earlier papers. Saved lists are drawn
independently per profile — the worst case, since channels of one team share a list and
`Prepared` computes a saved paper's similarity once.

Each repetition times `prepare` + 500 `rank` calls from scratch (a new Prepared), five times;
it prints the first (cold: the tokeniser's word memo is empty) and the best and median,
plus peak RSS, in a markdown table with the machine, and rewrites its own section of
docs/benchmarks.md (between `<!-- bench:picks -->` markers). Target: the ≈50-paper day in
≤ 1 s, and the same with one 20,000-paper team list shared by all profiles, median of 5.
Exit status 1 when a target is missed.
Run: .venv/bin/python bench/picks.py [--day YYYY-MM-DD] [--profiles 500] [--no-docs]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from bot.config import ChannelConfig
from bot.models import Paper, SavedPaper, Saver
from bot.picks import prepare, rank

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import DOCS, machine, write_section  # noqa: E402

TARGET_SECONDS = 1.0
REPEATS = 5
SEED = 20251130
TEAM_LIST = 20_000


@dataclass(frozen=True)
class Profile:
    channel: ChannelConfig
    posted: frozenset[str]
    saved: tuple[SavedPaper, ...]


@dataclass(frozen=True)
class Row:
    label: str
    day: date
    papers: int
    seconds: list[float]  # one per repetition, in order
    prepare_seconds: float  # best of the repetitions
    picks: int  # picks made in the last repetition
    similar: int  # of which carry a "similar to" reason
    empty: int  # digests with no picks

    @property
    def first(self) -> float:
        return self.seconds[0]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def make_profiles(papers: Sequence[Paper], day: date, count: int, seed: int) -> list[Profile]:
    """`count` varied channel profiles for `day`, the same for a given seed."""
    rng = random.Random(seed)
    earlier = [p for p in papers if p.featured_on and p.featured_on < day]
    today = [p for p in papers if p.featured_on == day]
    keyword_counts = Counter(k.lower() for p in papers for k in p.ai_keywords)
    vocabulary = [k for k, _ in keyword_counts.most_common(400)]
    topics = ["diffusion", "video", "agents", "reasoning", "robotics", "speech", "3D",
              "reinforcement learning", "retrieval", "multimodal", "code generation",
              "benchmark", "survey", "mixture of experts", "quantization", "alignment"]
    authors_today = [a for p in today for a in p.authors[:3]]
    authors_any = [a for p in rng.sample(earlier, 300) for a in p.authors[:2]]
    profiles = []
    for index in range(count):
        keywords = rng.sample(topics, rng.randint(0, 3)) + rng.sample(vocabulary,
                                                                       rng.randint(0, 3))
        exclude = rng.sample(topics + vocabulary[:50], rng.randint(0, 3))
        authors = []
        if rng.random() < 0.3:
            authors = rng.sample(authors_today, 1) + rng.sample(authors_any, rng.randint(0, 2))
        channel = ChannelConfig(
            name=f"bench-{index:03d}",
            platform="slack",
            id=f"C{index:010d}",
            top_n=rng.randint(3, 10),
            min_upvotes=rng.choice((0, 0, 0, 5, 10, 20, 50)),
            keywords=tuple(keywords),
            exclude=tuple(k for k in exclude if k not in keywords),
            authors=tuple(authors),
        )
        posted = frozenset(p.arxiv_id for p in rng.sample(earlier, 200))
        if rng.random() < 0.1:  # a re-run later in the day: some of today's already went out
            posted |= {p.arxiv_id for p in rng.sample(today, 3)}
        saved: tuple[SavedPaper, ...] = ()
        if index % 3 == 0:
            saved = tuple(
                SavedPaper(paper=p, savers=(Saver(user=f"U{rng.randint(1, 40):03d}",
                                                  saved_at=datetime(2024, 1, 1, tzinfo=UTC)),))
                for p in rng.sample(earlier, rng.randint(15, 25))
            )
        profiles.append(Profile(channel, posted, saved))
    return profiles


def time_day(
    label: str, papers: Sequence[Paper], day: date, profiles: int, team_list: int = 0
) -> Row:
    """`team_list` > 0: every profile shares one team list of that many saved papers
    (distinct ids, newest first), as the channels of one team do."""
    batch = [p for p in papers if p.featured_on == day]
    channels = make_profiles(papers, day, profiles, SEED)
    if team_list:
        shared = _team_list(papers, team_list)
        channels = [replace(p, saved=shared) for p in channels]
    seconds: list[float] = []
    prepare_seconds: list[float] = []
    digests = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        prepared = prepare(batch)
        prepared_at = time.perf_counter()
        digests = [
            rank(prepared, p.channel, posted=p.posted, saved=p.saved, day=day)
            for p in channels
        ]
        finished = time.perf_counter()
        seconds.append(finished - started)
        prepare_seconds.append(prepared_at - started)
    picks = [pick for d in digests for pick in d.picks]
    return Row(
        label=label,
        day=day,
        papers=len(batch),
        seconds=seconds,
        prepare_seconds=min(prepare_seconds),
        picks=len(picks),
        similar=sum("similar to" in p.reason for p in picks),
        empty=sum(not d.picks for d in digests),
    )


def choose_days(papers: Sequence[Paper], wanted: date | None) -> list[tuple[str, date]]:
    counts = Counter(p.featured_on for p in papers if p.featured_on)
    if wanted is not None:
        if wanted not in counts:
            sys.exit(f"no papers were featured on {wanted} in the corpus")
        return [("chosen day", wanted)]
    near_50 = min(counts, key=lambda d: (abs(counts[d] - 50), -counts[d], d))
    busiest = min(counts, key=lambda d: (-counts[d], d))
    days = [("≈50 papers", near_50)]
    if busiest != near_50:
        days.append(("busiest day", busiest))
    return days


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024




def render(rows: Sequence[Row], profiles: int, rss_loaded: float, rss_peak: float,
           when: date | None = None) -> str:
    when = when or date.today()
    lines = [
        "## Picks: one day ranked for many channels (`bench/picks.py`)",
        "",
        f"Measured {when.isoformat()} on {machine()}.",
        f"Each run: `prepare(batch)` + `rank` for {profiles} generated profiles (keywords, "
        "exclude, authors, min_upvotes, top_n, ~200 posted ids; one in three with its own "
        f"saved list of 15–25 papers). {REPEATS} runs from scratch; the first is cold.",
        "",
        "| batch | day | papers | first s | best s | median s | prepare ms | per channel µs "
        "| picks | similar-to reasons | empty digests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        per_channel = (row.best - row.prepare_seconds) / profiles * 1e6
        lines.append(
            f"| {row.label} | {row.day.isoformat()} | {row.papers} | {row.seconds[0]:.3f} | "
            f"{row.best:.3f} | {row.median:.3f} | {row.prepare_seconds * 1000:.1f} | "
            f"{per_channel:.0f} | {row.picks} | {row.similar} | {row.empty} |"
        )
    verdict = "met" if target_met(rows) else "MISSED"
    lines += [
        "",
        f"The last row shares one {TEAM_LIST:,}-paper team list among all {profiles} profiles "
        "(its similarity is computed once per day over the team's most recent "
        "`picks.SIMILAR_RECENT` saves).",
        "",
        f"Peak RSS {rss_peak:.0f} MiB ({rss_loaded:.0f} MiB of it is the 8,036-paper corpus "
        "loaded before timing).",
        f"Target: the ≈50-paper day and the one-team row, prepare + {profiles} ranks ≤ "
        f"{TARGET_SECONDS:g} s (median of {REPEATS}): **{verdict}**.",
    ]
    return "\n".join(lines)


def target_met(rows: Sequence[Row]) -> bool:
    """The ≈50-paper day and the one-team row, each within the target, median of the runs."""
    return all(row.median <= TARGET_SECONDS for row in (rows[0], rows[-1]))


def _team_list(papers: Sequence[Paper], count: int) -> tuple[SavedPaper, ...]:
    saver = (Saver(user="U001", saved_at=datetime(2024, 1, 1, tzinfo=UTC)),)
    out: list[SavedPaper] = []
    for copy in range(count // len(papers) + 1):
        for paper in papers:
            if len(out) == count:
                return tuple(out)
            month, number = paper.arxiv_id.split(".")
            arxiv_id = f"{month}.{int(number) + 50_000 * copy:05d}" if copy else paper.arxiv_id
            out.append(SavedPaper(replace(paper, arxiv_id=arxiv_id), saver))
    return tuple(out)






def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=date.fromisoformat, help="time this feature day only")
    parser.add_argument("--profiles", type=int, default=500, help="channel profiles (500)")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)

    from _corpus import load_corpus  # bench/ is on sys.path when run as a script

    papers = load_corpus()
    rss_loaded = peak_rss_mib()
    days = choose_days(papers, args.day)
    rows = [time_day(label, papers, day, args.profiles) for label, day in days]
    rows.append(time_day(f"one team, {TEAM_LIST:,} saved", papers, days[0][1], args.profiles,
                         team_list=TEAM_LIST))
    section = render(rows, args.profiles, rss_loaded, peak_rss_mib())
    print(section)
    if not args.no_docs:
        write_section("picks", section)
        print(f"\nupdated {DOCS.relative_to(PROJECT)}")
    return 0 if target_met(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
