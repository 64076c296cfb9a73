"""bench/discord_defer.py reports a burst whose answers never come as a shortfall.

Against the fake Discord with no bot connected nothing defers or follows up: the burst must
come back counting what is missing (not raise), and the table must say so and miss.
"""

from __future__ import annotations

from bench.discord_defer import Burst, burst, table
from tests.fakes.discord_api import FakeDiscord


async def test_unanswered_burst_is_counted_not_raised(fake_discord: FakeDiscord) -> None:
    result = await burst(fake_discord, 4, within=0.2)
    assert (result.latencies, result.followed, result.sent) == ([], 0, 4)


def test_table_reports_the_shortfall_and_misses() -> None:
    results = {"bare discord.py": [Burst([0.01, 0.02, 0.03], 3, 3)],
               "Paperboy": [Burst([0.01, 0.02], 1, 3)]}
    figures, ok = table(results, 3)
    assert ("| 2 of 3 | 1 of 3 |" in figures, ok) == (True, False)


def test_table_with_no_defers_at_all_still_renders() -> None:
    results = {"bare discord.py": [Burst([0.01, 0.02], 2, 2)], "Paperboy": [Burst([], 0, 2)]}
    figures, ok = table(results, 2)
    assert ("| Paperboy | — | — | — | 0 of 2 | 0 of 2 |" in figures, ok) == (True, False)
