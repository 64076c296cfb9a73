"""Installing the app in a workspace: /slack/install → Slack's consent → /slack/oauth_redirect
→ oauth.v2.access → an installation row in PostgreSQL, with either replica answering each
step; then requests from that workspace are answered with its own token."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.models import ChatRef
from tests.service.conftest import DAY

from .conftest import LAB, LAB_CHANNEL, OBS, OBS_CHANNEL, USER, Deployment


async def test_install_redirects_to_slack_consent_with_a_state_kept_in_postgres(
    deployment: Deployment,
) -> None:
    answer = await deployment.browser.get(deployment.replicas[0].url + "/slack/install")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    states = [row["state"] for row in await deployment.rows("SELECT state FROM slack_oauth_states")]
    assert states == query["state"]


async def test_install_asks_for_the_manifest_scopes(deployment: Deployment) -> None:
    answer = await deployment.browser.get(deployment.replicas[0].url + "/slack/install")
    scopes = parse_qs(urlsplit(answer.headers["Location"]).query)["scope"][0].split(",")
    assert {"commands", "chat:write", "reactions:read"} <= set(scopes)


async def test_redirect_on_the_other_replica_stores_the_installation(
    deployment: Deployment,
) -> None:
    finished = await deployment.install(LAB, start=0, finish=1)
    assert finished.status_code == 200, finished.text
    rows = await deployment.rows("SELECT team_id, bot_token FROM slack_installations")
    assert [(r["team_id"], r["bot_token"]) for r in rows] == [
        (LAB, next(iter(deployment.fake.oauth.tokens)))]


async def test_the_code_is_exchanged_once(deployment: Deployment) -> None:
    await deployment.install(LAB)
    assert deployment.fake.oauth.grants == [
        {"grant_type": "authorization_code", "team": LAB, "ok": True}]


async def test_redirect_with_a_forged_state_stores_nothing(deployment: Deployment) -> None:
    deployment.fake.oauth.redirect_uri = "unused"
    answer = await deployment.browser.get(
        deployment.replicas[1].url + "/slack/oauth_redirect?code=code-1&state=forged")
    assert answer.status_code == 400
    assert await deployment.rows("SELECT id FROM slack_installations") == []


async def test_redirect_with_a_used_state_is_refused(deployment: Deployment) -> None:
    finished = await deployment.install(LAB)
    replay = await deployment.browser.get(str(finished.url))
    assert replay.status_code == 400


async def test_command_from_an_installed_workspace_is_answered(deployment: Deployment) -> None:
    await deployment.install(LAB)
    answer, response_url = await deployment.command("help", team=LAB,
                                                    channel=LAB_CHANNEL.id, replica=1)
    assert answer.status_code == 200
    assert (await deployment.replied(response_url))["text"]


async def test_each_workspace_is_answered_with_its_own_token(deployment: Deployment) -> None:
    """A 📌 in each workspace, each on the other replica than its install: the private
    confirmation goes out with that workspace's token."""
    await deployment.install(LAB, start=0, finish=1)
    await deployment.install(OBS, start=1, finish=0)
    poster = deployment.replicas[0].adapter
    assert poster.identity is not None
    for target in poster.identity.targets([LAB_CHANNEL, OBS_CHANNEL], poster):
        await poster.service.poster.post(target, DAY)
    for replica, (team, channel) in enumerate(((LAB, LAB_CHANNEL), (OBS, OBS_CHANNEL))):
        paper = deployment.fake.posted(channel.id)[1]
        await deployment.event(team, {"type": "reaction_added", "user": USER,
                                      "reaction": "pushpin", "item": {
                                          "type": "message", "channel": channel.id,
                                          "ts": paper["ts"]}},
                               replica=replica, event_id=f"Ev{team}")
        await deployment.fake.wait_until(lambda n=replica: len(deployment.fake.ephemerals) > n)
    tokens = deployment.fake.oauth.tokens
    assert [tokens[t] for t in deployment.tokens_used("chat.postEphemeral")] == [LAB, OBS]


async def test_command_from_a_workspace_without_the_app_is_told_to_reinstall(
    deployment: Deployment,
) -> None:
    await deployment.install(LAB)
    _, refused = await deployment.command("help", team=OBS, channel=OBS_CHANNEL.id)
    assert "reinstall this app" in (await deployment.replied(refused))["text"]


async def test_daily_posts_use_each_workspace_token(deployment: Deployment) -> None:
    await deployment.install(LAB)
    await deployment.install(OBS)
    adapter = deployment.replicas[0].adapter
    assert adapter.identity is not None
    for target in adapter.identity.targets([LAB_CHANNEL, OBS_CHANNEL], adapter):
        await adapter.service.poster.post(target, DAY)
    tokens = deployment.fake.oauth.tokens
    teams = {channel.id: {tokens[deployment.fake.posted_with[m["ts"]]]
                          for m in deployment.fake.posted(channel.id)}
             for channel in (LAB_CHANNEL, OBS_CHANNEL)}
    assert teams == {LAB_CHANNEL.id: {LAB}, OBS_CHANNEL.id: {OBS}}


async def test_an_admin_notice_uses_its_workspace_token(deployment: Deployment) -> None:
    await deployment.install(LAB)
    await deployment.install(OBS)
    adapter = deployment.replicas[0].adapter
    ts = await adapter.post_notice(ChatRef("slack", OBS, OBS_CHANNEL.id), "Hugging Face is down")
    assert deployment.fake.oauth.tokens[deployment.fake.posted_with[ts]] == OBS
