"""Uninstalling the app or revoking its tokens deletes that workspace's tokens — and only
that workspace's — while its team list stays in Paperboy's store."""

from __future__ import annotations

from tests.service.conftest import DAY, Services

from .conftest import LAB, LAB_CHANNEL, OBS, USER, Deployment

INSTALLED = "SELECT DISTINCT team_id FROM slack_installations ORDER BY team_id"
BOTS = "SELECT DISTINCT team_id FROM slack_bots ORDER BY team_id"


async def _teams(deployment: Deployment, query: str) -> list[str]:
    return [row["team_id"] for row in await deployment.rows(query)]


async def _lab_saves_a_paper(deployment: Deployment, services: Services) -> None:
    """The day's post in LAB, then 📌 on its first paper, confirmed privately."""
    adapter = deployment.replicas[0].adapter
    assert adapter.identity is not None
    [target] = adapter.identity.targets([LAB_CHANNEL], adapter)
    await adapter.service.poster.post(target, DAY)
    paper = deployment.fake.posted(LAB_CHANNEL.id)[1]
    await deployment.event(LAB, {"type": "reaction_added", "user": USER, "reaction": "pushpin",
                                 "item": {"type": "message", "channel": LAB_CHANNEL.id,
                                          "ts": paper["ts"]}}, replica=1)
    await deployment.fake.wait_until(lambda: bool(deployment.fake.ephemerals))


async def test_app_uninstalled_deletes_the_workspace_tokens(deployment: Deployment) -> None:
    await deployment.install(LAB)
    await deployment.install(OBS)
    await deployment.uninstall(LAB, replica=1)
    assert (await _teams(deployment, INSTALLED), await _teams(deployment, BOTS)) == (
        [OBS], [OBS])


async def test_app_uninstalled_keeps_the_team_list(
    deployment: Deployment, services: Services
) -> None:
    await deployment.install(LAB)
    await _lab_saves_a_paper(deployment, services)
    await deployment.uninstall(LAB)
    assert len(await services.store.saved_papers("slack", LAB)) == 1


async def test_revoked_bot_token_deletes_the_workspace_tokens(deployment: Deployment) -> None:
    await deployment.install(LAB)
    await deployment.install(OBS)
    bot_user = deployment.fake.oauth.workspaces[LAB].bot_user
    await deployment.uninstall(LAB, event={"type": "tokens_revoked",
                                           "tokens": {"oauth": [], "bot": [bot_user]}})
    assert await _teams(deployment, INSTALLED) == [OBS]


async def test_after_uninstall_a_command_is_told_to_reinstall(deployment: Deployment) -> None:
    await deployment.install(LAB)
    await deployment.uninstall(LAB)
    _, url = await deployment.command("help", team=LAB, channel=LAB_CHANNEL.id, replica=1)
    assert "reinstall this app" in str((await deployment.replied(url))["text"])


async def test_reinstalling_after_uninstall_serves_the_workspace_again(
    deployment: Deployment, services: Services
) -> None:
    await deployment.install(LAB)
    await _lab_saves_a_paper(deployment, services)
    await deployment.uninstall(LAB)
    await deployment.install(LAB)
    _, url = await deployment.command("list", team=LAB, channel=LAB_CHANNEL.id)
    reply = await deployment.replied(url)
    assert "reinstall" not in str(reply["text"])
