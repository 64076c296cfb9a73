"""Socket Mode: the same adapter, driven through a local WebSocket speaking Slack's envelopes.

The fake answers `apps.connections.open` with its own socket URL, says `hello`, pushes
envelopes (slash_commands, events_api) and records the app's acks. Every envelope must be
acknowledged by its id; the work then happens as in HTTP mode.
"""

from __future__ import annotations

import json

from adapters.slack.adapter import SlackAdapter
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import CHANNEL, DAY, PICKS, Services

from .conftest import SignedSlack, command_payload


async def test_socket_mode_opens_its_connection_with_the_app_token(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    call = next(c for c in fake_slack.calls if c.path == "/api/apps.connections.open")
    assert call.headers["Authorization"] == "Bearer xapp-test-token"


async def test_slash_command_envelope_is_acknowledged_by_its_id(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "help"),
                                   "env-1", accepts_response_payload=True)
    await fake_slack.wait_until(lambda: bool(fake_slack.acks))
    assert fake_slack.acks[0]["envelope_id"] == "env-1"


async def test_slash_command_reply_reaches_the_response_url(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "help"),
                                   "env-1", accepts_response_payload=True)
    await fake_slack.wait_until(lambda: bool(fake_slack.responses))
    assert "/papers search" in json.dumps(fake_slack.responses[0]["blocks"])


async def test_reaction_envelope_saves_the_paper(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack, services: Services
) -> None:
    assert socket_adapter.identity is not None
    target = socket_adapter.identity.targets([CHANNEL], socket_adapter)[0]
    await socket_adapter.service.poster.post(target, DAY)
    ts = fake_slack.posted(CHANNEL.id)[1]["ts"]
    body = json.loads(SignedSlack("", fake_slack).reaction_body(ts))
    await fake_slack.send_envelope("events_api", body, "env-2")
    await fake_slack.wait_until(lambda: bool(fake_slack.ephemerals))
    saved = await services.store.saved_papers("slack", CHANNEL.team or "")
    assert [e.paper.arxiv_id for e in saved] == [PICKS[0]]
