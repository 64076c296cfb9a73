"""Token rotation: a bot token about to expire is refreshed once per workspace, however
many requests and replicas notice it at the same moment (Slack's refresh tokens are
single-use: a second refresh with the same one fails, and its request would go unanswered)."""

from __future__ import annotations

import asyncio

from tests.service.conftest import DAY, Services

from .conftest import LAB, LAB_CHANNEL, Deployment, Replica, make_replica

SHORT = 60  # seconds: inside slack-bolt's two-hour rotation window
LONG = 12 * 3600  # what Slack grants on a refresh


async def _install_expiring(deployment: Deployment) -> None:
    deployment.fake.oauth.token_lifetime = SHORT
    await deployment.install(LAB)
    deployment.fake.oauth.token_lifetime = LONG


def _refreshes(deployment: Deployment) -> list[dict[str, object]]:
    return [g for g in deployment.fake.oauth.grants if g["grant_type"] == "refresh_token"]


async def _two_commands_at_once(deployment: Deployment) -> list[dict[str, object]]:
    sent = await asyncio.gather(*(
        deployment.command("help", team=LAB, channel=LAB_CHANNEL.id, replica=replica)
        for replica in (0, 1)))
    return [await deployment.replied(url) for _, url in sent]


async def test_two_replicas_noticing_an_expiring_token_refresh_it_once(
    deployment: Deployment,
) -> None:
    await _install_expiring(deployment)
    await _two_commands_at_once(deployment)
    assert _refreshes(deployment) == [{"grant_type": "refresh_token", "team": LAB, "ok": True}]


async def test_both_requests_are_answered_while_the_token_rotates(
    deployment: Deployment,
) -> None:
    await _install_expiring(deployment)
    replies = await _two_commands_at_once(deployment)
    assert not any("reinstall" in str(reply["text"]) for reply in replies)


async def test_the_rotated_token_is_stored_for_every_replica(deployment: Deployment) -> None:
    await _install_expiring(deployment)
    await _two_commands_at_once(deployment)
    stored = {r["bot_token"] for r in await deployment.rows(
        "SELECT bot_token FROM slack_installations")}
    assert stored == set(deployment.fake.oauth.tokens)


async def test_the_daily_post_rotates_an_expiring_token_first(deployment: Deployment) -> None:
    await _install_expiring(deployment)
    adapter = deployment.replicas[1].adapter
    assert adapter.identity is not None
    [target] = adapter.identity.targets([LAB_CHANNEL], adapter)
    await adapter.service.poster.post(target, DAY)
    used = {deployment.fake.posted_with[m["ts"]] for m in deployment.fake.posted(LAB_CHANNEL.id)}
    assert used == set(deployment.fake.oauth.tokens)  # only the new token, valid now


async def test_many_requests_waiting_for_a_rotation_do_not_starve_it_of_connections(
    deployment: Deployment, services: Services
) -> None:
    """A replica with a pool of one connection (and one spare) takes twelve requests at
    once while the token rotates: they wait without holding what the rotation needs."""
    small = make_replica(services.make(LAB_CHANNEL), deployment.fake, deployment.database,
                         pool_size=1)
    await small.connect()
    task = asyncio.ensure_future(small.run())
    await small.serving.wait()
    deployment.replicas.append(Replica(small, task))
    await _install_expiring(deployment)
    sent = await asyncio.gather(*(
        deployment.command("help", team=LAB, channel=LAB_CHANNEL.id, replica=2)
        for _ in range(12)))
    replies = [await deployment.replied(url) for _, url in sent]
    assert (len(replies), len(_refreshes(deployment))) == (12, 1)


async def test_a_token_far_from_expiry_is_not_refreshed(deployment: Deployment) -> None:
    deployment.fake.oauth.token_lifetime = LONG
    await deployment.install(LAB)
    await _two_commands_at_once(deployment)
    assert _refreshes(deployment) == []
