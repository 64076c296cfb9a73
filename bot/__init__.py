"""Paperboy's platform-free core. The names most callers need, re-exported.

Adapters and scripts import the models and the error tree from here; the use cases live in
`bot.service`, the command line in `bot.cli`.
"""

from bot.errors import (
    BadPayload,
    ConfigError,
    InvalidPaperId,
    PaperboyError,
    RateLimited,
    StoreError,
    StoreLocked,
    UnknownCommand,
    UpstreamError,
    UpstreamTimeout,
    UserInputError,
)
from bot.models import ChatRef, Digest, Links, Paper, Pick, SavedPaper, Saver, Summary

__all__ = [
    "BadPayload",
    "ChatRef",
    "ConfigError",
    "Digest",
    "InvalidPaperId",
    "Links",
    "Paper",
    "PaperboyError",
    "Pick",
    "RateLimited",
    "SavedPaper",
    "Saver",
    "StoreError",
    "StoreLocked",
    "Summary",
    "UnknownCommand",
    "UpstreamError",
    "UpstreamTimeout",
    "UserInputError",
]
