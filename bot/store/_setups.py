"""Channels set up from chat, in the TinyDB store: one small team-state file, `channels.json`.

One job: read and write `ChannelSetup`s in the TinyDB table it is handed. The table's
storage (bot.store._files.AtomicJSONStorage) makes every change one atomic, fsynced rewrite
of the file with its previous version kept as `channels.json.bak`, refuses a corrupt file
naming that backup, and lets a read-only store follow a live writer. The file stays small
(a few hundred bytes a channel), so a whole rewrite per change costs nothing worth sharding.
Runs on the TinyDB store's worker thread; bot.store.tinydb delegates its four
channel-setup methods here.
"""

from __future__ import annotations

import json

from tinydb.table import Document, Table

from bot.channel_setup import ChannelSetup, setup_from_dict, setup_key, setup_to_dict
from bot.models import ChatRef

FILE = "channels.json"
TABLE = "setups"


def get(table: Table, channel: ChatRef) -> ChannelSetup | None:
    doc = table.get(doc_id=_doc_id(channel))
    return setup_from_dict(dict(doc)) if doc is not None else None  # type: ignore[arg-type]


def put(table: Table, setup: ChannelSetup) -> None:
    key = _doc_id(setup.channel)
    document = setup_to_dict(setup)
    if table.get(doc_id=key) is None:
        table.insert(Document(document, doc_id=key))  # type: ignore[arg-type]
        return

    def overwrite(old: dict[str, object]) -> None:
        old.clear()
        old.update(document)

    table.update(overwrite, doc_ids=[key])  # type: ignore[list-item]


def delete(table: Table, channel: ChatRef) -> bool:
    key = _doc_id(channel)
    if table.get(doc_id=key) is None:
        return False
    table.remove(doc_ids=[key])  # type: ignore[list-item]
    return True


def everything(table: Table) -> list[ChannelSetup]:
    setups = [setup_from_dict(dict(doc)) for doc in table.all()]
    return sorted(setups, key=lambda s: setup_key(s.channel))


def _doc_id(channel: ChatRef) -> str:
    # A JSON list keeps the three parts apart whatever characters the ids hold.
    return json.dumps(list(setup_key(channel)))
