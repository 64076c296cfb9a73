"""The Slack adapter: the bot in a Slack workspace, in Socket Mode or HTTP mode."""
