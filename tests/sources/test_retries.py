"""Retries as an admin sees them: one readable WARNING per retry, a bounded call, one error.

Against real local servers (tests/fakes): a Hugging Face fake that never answers, and a port
where nothing listens. Backoff waits are zero (stamina test mode, tests/conftest.py); a hung
attempt lasts the client's short timeout. The bound on one call is checked by counting
attempts and by the policy's arithmetic, never by a stopwatch.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from bot.config import ArxivConfig, HuggingFaceConfig
from bot.errors import UpstreamError, UpstreamTimeout
from bot.sources.http import DEFAULT_RETRY, MAX_CALL_SECONDS, RetryPolicy, make_client
from bot.sources.huggingface import HuggingFaceClient
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.refusing_port import refusing_url

DAY = date(2026, 6, 12)
DAILY = "/api/daily_papers"
HTTP_LOG = "bot.sources.http"


def _retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == HTTP_LOG]


@pytest.fixture
async def quick() -> AsyncIterator[httpx.AsyncClient]:
    # A hung attempt ends at this client timeout; the policy's attempt bound is the default.
    async with make_client(timeout=0.05) as client:
        yield client


async def _daily_from_hanging(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace
) -> pytest.ExceptionInfo[UpstreamError]:
    fake_hf.fail_next(DAILY, hang=True, times=DEFAULT_RETRY.attempts)
    with pytest.raises(UpstreamError) as caught:
        await HuggingFaceClient(quick, base_url=fake_hf.base_url).daily(DAY)
    return caught


# --- a hung upstream ------------------------------------------------------------------


async def test_hung_upstream_gets_the_policys_attempts(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace
) -> None:
    await _daily_from_hanging(quick, fake_hf)
    assert fake_hf.requests[DAILY] == DEFAULT_RETRY.attempts


async def test_hung_upstream_ends_in_upstream_timeout(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace
) -> None:
    caught = await _daily_from_hanging(quick, fake_hf)
    assert isinstance(caught.value, UpstreamTimeout)


async def test_each_retry_of_a_hung_upstream_is_one_readable_warning(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _daily_from_hanging(quick, fake_hf)
    assert _retry_lines(caplog) == [
        "Hugging Face did not answer in time (attempt 1 of 3); retrying in 0 s",
        "Hugging Face did not answer in time (attempt 2 of 3); retrying in 0 s",
    ]


async def test_retry_lines_are_warnings(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _daily_from_hanging(quick, fake_hf)
    assert {r.levelno for r in caplog.records if r.name == HTTP_LOG} == {logging.WARNING}


async def test_stamina_logs_nothing_of_its_own(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _daily_from_hanging(quick, fake_hf)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("stamina")] == []


async def test_retry_lines_never_carry_the_url_query(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_hf.fail_next("/api/papers/search", hang=True, times=DEFAULT_RETRY.attempts)
    with pytest.raises(UpstreamTimeout):
        await HuggingFaceClient(quick, base_url=fake_hf.base_url).search("private-words")
    assert [line for line in _retry_lines(caplog) if "private-words" in line] == []


async def test_server_error_retry_line_names_the_status(
    quick: httpx.AsyncClient, fake_hf: FakeHuggingFace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_hf.fail_next(DAILY, status=503)
    await HuggingFaceClient(quick, base_url=fake_hf.base_url).daily(DAY)
    assert _retry_lines(caplog) == [
        "Hugging Face answered HTTP 503 Service Unavailable (attempt 1 of 3); retrying in 0 s"
    ]


# --- nothing listening ----------------------------------------------------------------


async def _daily_from_nowhere(quick: httpx.AsyncClient) -> HuggingFaceClient:
    client = HuggingFaceClient(quick, base_url=refusing_url())
    with pytest.raises(UpstreamError):
        await client.daily(DAY)
    return client


async def test_refused_connection_is_retried_with_one_line_each(
    quick: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _daily_from_nowhere(quick)
    assert _retry_lines(caplog) == [
        "Hugging Face could not be reached (attempt 1 of 3); retrying in 0 s",
        "Hugging Face could not be reached (attempt 2 of 3); retrying in 0 s",
    ]


async def test_refused_connection_counts_its_attempts(quick: httpx.AsyncClient) -> None:
    client = await _daily_from_nowhere(quick)
    assert client.requests == DEFAULT_RETRY.attempts


async def test_final_failure_is_raised_not_logged(
    quick: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The caller reports the error once; a log line here would make it appear twice.
    caplog.set_level(logging.DEBUG)
    await _daily_from_nowhere(quick)
    assert [line for line in _retry_lines(caplog) if "retrying" not in line] == []


# --- the bound on one call ------------------------------------------------------------


def test_three_hung_attempts_at_hugging_faces_default_timeout_fit_the_bound() -> None:
    worst = DEFAULT_RETRY.attempts * HuggingFaceConfig().timeout + DEFAULT_RETRY.longest_backoff()
    assert worst <= MAX_CALL_SECONDS


def test_default_backoffs_add_up_to_five_seconds_at_most() -> None:
    assert DEFAULT_RETRY.longest_backoff() == 5.0


def test_shared_client_at_arxivs_slower_timeout_is_capped_by_the_bound() -> None:
    shared = max(HuggingFaceConfig().timeout, ArxivConfig().timeout)  # as bot.runtime builds it
    assert DEFAULT_RETRY.longest_call(shared) == MAX_CALL_SECONDS


def test_default_policy_bounds_a_call_by_the_named_constant() -> None:
    assert DEFAULT_RETRY.timeout == MAX_CALL_SECONDS


async def test_call_is_cut_at_the_policys_bound_even_mid_attempt(
    fake_hf: FakeHuggingFace,
) -> None:
    # The client would wait 30 s for an answer; the policy allows the call 0.3 s in all.
    fake_hf.fail_next(DAILY, hang=True)
    async with make_client(timeout=30.0) as patient:
        client = HuggingFaceClient(
            patient, base_url=fake_hf.base_url, retry=RetryPolicy(timeout=0.3)
        )
        with pytest.raises(UpstreamTimeout, match=r"no answer within 0\.3 s, retries included"):
            await client.daily(DAY)
    assert fake_hf.requests[DAILY] == 1


async def test_a_source_waits_its_own_timeout_on_a_shared_client(
    fake_hf: FakeHuggingFace,
) -> None:
    # The shared client would wait 60 s (arXiv's setting, say); Hugging Face's own 0.05 s
    # decides, so three hung attempts end at once instead of after minutes.
    fake_hf.fail_next(DAILY, hang=True, times=DEFAULT_RETRY.attempts)
    async with make_client(timeout=60) as shared:
        hf = HuggingFaceClient(shared, base_url=fake_hf.base_url, timeout=0.05)
        with pytest.raises(UpstreamTimeout):
            await hf.daily(DAY)
    assert fake_hf.requests[DAILY] == DEFAULT_RETRY.attempts  # each cut at 0.05 s, not 60 s
