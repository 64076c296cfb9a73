"""The Discord adapter: daily posts, `/papers` slash commands and 📌-to-save in a server.

Imported only by the `paperboy` command, and only when Discord is started (it needs
discord.py, the `discord` extra)."""
