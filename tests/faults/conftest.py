"""Setup for the fault suite: the fixtures of the service, Slack and Discord tests, shared.

Each test here injects one real fault (an upstream down or rate limited, a full or
read-only filesystem, kill -9 at a durable write, a burst of concurrent events) into the
bot as it runs, and checks the promises that must survive it: no duplicate post, no lost
post, no lost save, a clear error, recovery without a person. README.md lists the command
that reproduces each.
"""

from __future__ import annotations

from tests.discord_adapter import conftest as discord_setup
from tests.service import conftest as service_setup
from tests.slack import conftest as slack_setup

clock, hf_fake, hf_client, services = (service_setup.clock, service_setup.hf_fake,
                                       service_setup.hf_client, service_setup.services)
fake_slack = slack_setup.fake_slack
fake_discord = discord_setup.fake_discord
bot = discord_setup.bot
running = slack_setup.running
