"""slack-manifest.yml asks for exactly what the code uses: scopes, the command, the events,
interactivity, and one URL path for all three."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from adapters.slack import adapter, translate
from adapters.slack.installations import REDIRECT_PATH
from bot.config import SlackConfig
from tests.conftest import PROJECT

MANIFEST = PROJECT / "slack-manifest.yml"


def _manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def _methods_called() -> set[str]:
    # Every `self.client.<method>(` in the adapter: slack_sdk's name for a Web API method.
    source = Path(adapter.__file__).read_text(encoding="utf-8")
    return set(re.findall(r"self\.client\.(\w+)\(", source))


def _sdk_names(methods: Iterable[str]) -> set[str]:
    return {method.replace(".", "_") for method in methods}


def test_every_method_the_adapter_calls_has_its_scopes_listed() -> None:
    assert _methods_called() <= _sdk_names(adapter.SCOPES) | _sdk_names(adapter.APP_LEVEL)


def test_app_level_methods_ask_nothing_of_installs() -> None:
    assert not set(adapter.APP_LEVEL) & set(adapter.SCOPES)
    assert "connections:write" not in _manifest()["oauth_config"]["scopes"]["bot"]


def test_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    needed = {s for scopes in (*adapter.SCOPES.values(), *adapter.RECEIVES.values())
              for s in scopes}
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_manifest_declares_the_papers_command() -> None:
    commands = [c["command"] for c in _manifest()["features"]["slash_commands"]]
    assert commands == [adapter.COMMAND]


def test_manifest_subscribes_to_exactly_the_events_handled() -> None:
    events = _manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted((*translate.EVENT_TYPES, *adapter.INSTALL_EVENTS))


def test_manifest_redirect_url_is_the_oauth_redirect_path() -> None:
    [url] = _manifest()["oauth_config"]["redirect_urls"]
    assert url == "https://paperboy.example.com" + REDIRECT_PATH


def test_manifest_turns_interactivity_on_for_the_buttons() -> None:
    assert _manifest()["settings"]["interactivity"]["is_enabled"] is True


def test_every_manifest_url_ends_with_the_default_path() -> None:
    manifest = _manifest()
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls += [manifest["settings"]["event_subscriptions"]["request_url"],
             manifest["settings"]["interactivity"]["request_url"]]
    assert {url.removeprefix("https://paperboy.example.com") for url in urls} == {
        SlackConfig().path}
