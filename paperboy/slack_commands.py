"""`paperboy slack forget TEAM`: an admin removes a workspace from an app installed in many.

Deletes the workspace's tokens from slack_sdk's installation store (what Slack's
`app_uninstalled` event does by itself) and, only with `--list`, its team state as well:
the team list and the channels set up from chat. Without `--list` the list is kept, so a
workspace that installs the app again finds it as it was. Needs `[slack] client_id` and
`[storage] url`; the password comes from the environment. Prints what it removed.
Called through paperboy.cli's handler table.
"""

from __future__ import annotations

import argparse
import os

from bot.config import Config
from bot.errors import ConfigError
from bot.runtime import database_password, open_runtime


async def slack_forget(config: Config, team: str, *, with_list: bool) -> list[str]:
    """The lines `paperboy slack forget` prints."""
    from adapters.slack.installations import Installations, OAuthSecrets, open_engine

    if not config.slack.client_id or not config.storage.url:
        raise ConfigError("workspaces are installed only with [slack] client_id and [storage] "
                          "url set", key="slack.client_id")
    # Deleting rows needs no client secret: the flow never runs here.
    installations = Installations(open_engine(config.storage.url,
                                              database_password(os.environ)),
                                  OAuthSecrets(config.slack.client_id, ""))
    try:
        installed = await installations.store.async_find_installation(enterprise_id=None,
                                                                      team_id=team)
        await installations.uninstalled(team)
    finally:
        await installations.close()
    lines = [f"slack:{team}: " + ("tokens deleted" if installed else "no tokens were stored")]
    if not with_list:
        return [*lines, f"slack:{team}: team list kept (add --list to delete it too)"]
    async with open_runtime(config) as rt:
        removed = 0
        for entry in await rt.store.saved_papers("slack", team):
            for saver in entry.savers:
                await rt.store.unsave("slack", team, entry.paper.arxiv_id, saver.user)
            removed += 1
        setups = [s for s in await rt.store.channel_setups()
                  if s.channel.platform == "slack" and s.channel.team == team]
        for setup in setups:
            await rt.store.delete_channel_setup(setup.channel)
    return [*lines, f"slack:{team}: {removed} papers removed from the team list, "
                    f"{len(setups)} channel setups removed"]


def add_slack_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                     forget: object) -> None:
    """The `slack` command group, for paperboy.parser."""
    slack = sub.add_parser("slack", parents=[common], help="Slack app installed in many "
                           "workspaces")
    slack_sub = slack.add_subparsers(title="slack commands", metavar="ACTION")
    cmd = slack_sub.add_parser(
        "forget", parents=[common], help="delete a workspace's tokens (and, with --list, "
        "its team list)",
        description="Delete the app's tokens for workspace TEAM (as uninstalling does). "
        "The team list and the channels set up from chat are kept unless --list is given.")
    cmd.add_argument("team", metavar="TEAM", help="the workspace id (T…)")
    cmd.add_argument("--list", dest="with_list", action="store_true",
                     help="also delete the workspace's team list and channel setups")
    cmd.set_defaults(handler=forget)
