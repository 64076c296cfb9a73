"""Logging for the `paperboy` command: plain text or JSON lines, request ids, no secrets.

`setup_logging` installs one stderr handler. Text (the default) is one readable line per
record; `--log-format json` writes one JSON object per line — `ts`, `level`, `logger`,
`msg`, `request_id` when a command or post caused it, any `extra=` fields, and `exc` for a
traceback — for a log collector. Every line, in both formats, passes through a redactor
that replaces the value of each secret in the environment (chat tokens, the LLM key, any
variable named like a token, key, secret or password) with "[secret]": a library logging a
request's headers at DEBUG cannot leak a token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from bot import requestid
from bot.config import PLATFORM_TOKENS

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[str, ...] = ("text", "json")
MASK = "[secret]"
# Variable names whose values are secrets, beyond the ones Paperboy names itself.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.I)
# Shorter values are too likely to occur in ordinary text to be masked everywhere.
_MIN_SECRET = 8
# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName",
                                                     "request_id"}


def secret_values(env: Mapping[str, str], names: Iterable[str] = ()) -> list[str]:
    """The values to mask: the named variables, Paperboy's chat tokens and every variable
    named like a secret; longest first, so a secret containing another is masked whole."""
    wanted = {*names, *PLATFORM_TOKENS}
    values = {
        value.strip() for name, value in env.items()
        if (name in wanted or _SECRET_NAME.search(name)) and len(value.strip()) >= _MIN_SECRET
    }
    return sorted(values, key=lambda value: (-len(value), value))


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt)
        self._secrets = list(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        merged = set(self._secrets) | set(secrets)
        self._secrets = sorted(merged, key=lambda value: (-len(value), value))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def mask_variables(names: Iterable[str], env: Mapping[str, str] | None = None) -> None:
    """Also mask the values of these variables (the LLM key variable the config names,
    known only once the config is read) in every line logged from now on."""
    extra = secret_values(os.environ if env is None else env, names)
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, _Redacting):
            handler.formatter.add(extra)


class TextFormatter(_Redacting):
    """`2026-06-12 09:00:01,234 INFO bot.posting [r1a2b3c4]: message`"""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__(secrets, "%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


class JsonFormatter(_Redacting):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and key != "rid":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = record.stack_info
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = requestid.current.get()
        return True


def setup_logging(
    level: int,
    log_format: LogFormat = "text",
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    secret_names: Iterable[str] = (),
) -> logging.Handler:
    """Send every log record at `level` and above to `stream` (stderr) in `log_format`,
    replacing whatever handlers the root logger had. Returns the handler."""
    secrets = secret_values(os.environ if env is None else env, secret_names)
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets)
    handler.setFormatter(formatter)
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if level > logging.DEBUG:
        # httpx logs every request URL at INFO; useful only when debugging.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


__all__ = ["LOG_FORMATS", "MASK", "JsonFormatter", "LogFormat", "TextFormatter",
           "mask_variables", "secret_values", "setup_logging"]
