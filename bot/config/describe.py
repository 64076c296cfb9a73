"""Report the settings in effect, for `paperboy config check`, with secrets masked.

One job: write a Config back as TOML that loads to the same Config, followed by comments
saying which secrets the environment sets ("set (••••)" or "not set": never a value, not even
a prefix) and which adapters `paperboy run` would start. Pure: reads the environment mapping
it is given, nothing else. Called by the `paperboy` command.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import Any

from bot.config.schema import ENV_DATA, ENV_DATABASE_PASSWORD, PLATFORM_TOKENS, Config
from bot.models import Platform


def platforms_from_env(env: Mapping[str, str]) -> tuple[Platform, ...]:
    """The adapters `paperboy run` starts: slack and/or discord by token (Slack's client
    secret for an app installed in many workspaces), else console."""
    started: list[Platform] = []
    if _is_set(env, "SLACK_BOT_TOKEN") or _is_set(env, "SLACK_CLIENT_SECRET"):
        started.append("slack")
    if _is_set(env, "DISCORD_TOKEN"):
        started.append("discord")
    return tuple(started) or ("console",)


def describe_config(config: Config, env: Mapping[str, str]) -> str:
    """The settings in effect as TOML (loadable again), then secrets and adapters as comments.

    Secrets appear only as "set (••••)" or "not set": never a value, not even a prefix.
    """
    source = str(config.source_path) if config.source_path else "built-in defaults (no file)"
    lines = [f"# Paperboy settings in effect — from {source}", ""]
    storage_note = f"from ${ENV_DATA}" if _is_set(env, ENV_DATA) else None
    lines += _section("storage", config.storage, storage_note)
    lines += _section("sources.huggingface", config.huggingface)
    lines += _section("sources.arxiv", config.arxiv)
    llm_note = None if config.summaries.llm_enabled else "LLM step off: HF summaries, then offline"
    lines += _section("summaries", config.summaries, llm_note)
    lines += _section("slack", config.slack)
    lines += _section("health", config.health)
    lines += _section("discord", config.discord)
    for channel in config.channels:
        lines += _section("channels", channel, array=True)
    if config.admin is not None:
        lines += _section("admin", config.admin)
    lines += _secrets(config, env)
    return "\n".join(lines).rstrip() + "\n"


def _section(name: str, values: Any, note: str | None = None, *, array: bool = False) -> list[str]:
    header = f"[[{name}]]" if array else f"[{name}]"
    lines = [f"{header}  # {note}" if note else header]
    for item in fields(values):
        value = getattr(values, item.name)
        if value is not None:  # TOML has no null: an unset optional key is left out
            lines.append(f"{item.name} = {_toml_value(value)}")
    return [*lines, ""]


def _secrets(config: Config, env: Mapping[str, str]) -> Iterator[str]:
    yield "# Secrets, read from the environment (values are never shown)"
    key_env = config.summaries.api_key_env
    for name in dict.fromkeys([key_env, *PLATFORM_TOKENS] if key_env else PLATFORM_TOKENS):
        state = "set (••••)" if _is_set(env, name) else "not set"
        if name == key_env and not config.summaries.llm_enabled:
            state += " — unused while [summaries] base_url is empty"
        yield f"#   {name}: {state}"
    if config.storage.url:
        state = "set (••••)" if _is_set(env, ENV_DATABASE_PASSWORD) else "not set"
        yield f"#   {ENV_DATABASE_PASSWORD}: {state}"
    platforms = platforms_from_env(env)
    yield ""
    yield f"# paperboy run starts: {', '.join(platforms)}"
    if "slack" in platforms:
        if _is_set(env, "SLACK_APP_TOKEN"):
            yield "#   slack: Socket Mode (SLACK_APP_TOKEN)"
        elif _is_set(env, "SLACK_SIGNING_SECRET"):
            yield "#   slack: HTTP mode (SLACK_SIGNING_SECRET)"
        else:
            yield "#   slack: needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"
    for channel in config.channels:
        if channel.platform not in platforms:
            yield f"#   channel '{channel.name}' ({channel.platform}) gets no posts: not started"


def _is_set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return toml_string(str(value))


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
