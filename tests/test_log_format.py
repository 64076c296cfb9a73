"""Log lines of the `paperboy` command: text on a terminal, JSON lines with
`--log-format json`, the request id on a command's lines, and secrets masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import requestid
from paperboy.logs import MASK, mask_variables, secret_values, setup_logging

TOKEN = "xoxb-2026-0000-logFormatTestValue"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    yield out
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_json_format_writes_one_object_per_line(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, "json", stream=stream, env={})
    logging.getLogger("bot.test").info("%d fetched", 41)
    logging.getLogger("bot.test").warning("second")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["level"], e["logger"], e["msg"]) for e in lines] == [
        ("INFO", "bot.test", "41 fetched"), ("WARNING", "bot.test", "second")]
    assert all(e["ts"].endswith("+00:00") for e in lines)


def test_json_format_carries_extras_and_the_request_id(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, "json", stream=stream, env={})
    with requestid.new_request() as rid:
        logging.getLogger("bot.test").info("posted", extra={"channel": "C0PAPERS"})
    entry = json.loads(stream.getvalue())
    assert (entry["request_id"], entry["channel"]) == (rid, "C0PAPERS")


def test_json_traceback_stays_on_one_line(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, "json", stream=stream, env={})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.test").exception("failed")
    [line] = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_text_format_shows_the_request_id(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, "text", stream=stream, env={})
    with requestid.new_request() as rid:
        logging.getLogger("bot.test").info("hello")
    assert f"INFO bot.test [{rid}]: hello" in stream.getvalue()


def test_text_line_without_a_request_has_no_brackets(stream: io.StringIO) -> None:
    setup_logging(logging.INFO, "text", stream=stream, env={})
    logging.getLogger("bot.test").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO bot.test: hello")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_secret_in_a_log_line_is_masked(stream: io.StringIO, log_format: str) -> None:
    setup_logging(logging.DEBUG, log_format, stream=stream,  # type: ignore[arg-type]
                  env={"SLACK_BOT_TOKEN": TOKEN})
    logging.getLogger("slack_sdk").debug("headers: {'Authorization': 'Bearer %s'}", TOKEN)
    assert TOKEN not in stream.getvalue() and MASK in stream.getvalue()


def test_secrets_are_found_by_variable_name() -> None:
    env = {"MY_LLM_API_KEY": "sk-value-123456", "HF_TOKEN": "hf_value_123456",
           "HOME": "/root/not-a-secret", "DB_PASSWORD": "short"}
    assert secret_values(env) == ["hf_value_123456", "sk-value-123456"]


def test_a_named_variable_is_masked_whatever_its_name() -> None:
    assert secret_values({"LLM_ACCESS": "value-of-the-key"}, ["LLM_ACCESS"]) == [
        "value-of-the-key"]


def test_variable_named_by_the_config_is_masked_once_known(stream: io.StringIO) -> None:
    env = {"LLM_ACCESS": "value-of-the-llm-key"}
    setup_logging(logging.INFO, "text", stream=stream, env=env)
    mask_variables(["LLM_ACCESS"], env)
    logging.getLogger("bot.test").info("key %s", env["LLM_ACCESS"])
    assert "value-of-the-llm-key" not in stream.getvalue()
