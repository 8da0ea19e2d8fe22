"""Generations of a library's index: how `briefing reindex` replaces every chunk and vector without a
moment where searches see a half-built index.

A generation is a pair of Chroma collections, `<name>-<generation>_chunks` and `_articles`; the base
generation ("") is the original pair `<name>_chunks` / `<name>_articles`. The base chunks collection
is also the *anchor*: its metadata names the active generation (`generation`), the one being built
(`pending`, with the settings it is built with) and the library version every Store reads. Switching
is one metadata write, so a reader sees the old index or the new one, never a mix.

Works on any Chroma client (embedded or server) through its collection calls; chromadb itself is
imported by store.py only.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Mapping

ACTIVE = "generation"
PENDING = "pending"
PENDING_BUILD = "pending_build"  # what the pending generation is built with (embedder, chunk size, overlap)


def names(name: str, generation: str) -> tuple[str, str]:
    """The (chunks, articles) collection names of a generation of the library `name`."""
    prefix = f"{name}-{generation}" if generation else name
    return f"{prefix}_chunks", f"{prefix}_articles"


def active(anchor_meta: Mapping[str, Any] | None) -> str:
    """The generation searches read ("" for the original collections)."""
    return str((anchor_meta or {}).get(ACTIVE) or "")


_GENERATION = re.compile(r"^g[0-9a-f]{8}$")


def new_name() -> str:
    """A fresh generation name: random, so two interrupted runs never reuse each other's collections."""
    return "g" + secrets.token_hex(4)


def stale(client: Any, name: str, keep: set[str]) -> list[str]:
    """Collections of library `name`'s non-base generations that are not in `keep`: left by a reindex
    that was killed after its switch (the old generation) or that started over (its abandoned build)."""
    prefix = f"{name}-g"
    found = []
    for col in client.list_collections():
        col_name = col if isinstance(col, str) else col.name
        if col_name.startswith(prefix) and col_name.endswith(("_chunks", "_articles")):
            generation = col_name[len(name) + 1:].rsplit("_", 1)[0]
            if _GENERATION.match(generation) and generation not in keep:
                found.append(col_name)
    return sorted(found)


def drop(client: Any, name: str, generation: str) -> None:
    """Remove a generation that is no longer active: delete its collections, or empty the base pair,
    which stays because the anchor lives in it. Idempotent: a killed drop is finished by the next one."""
    if generation:
        for col_name in names(name, generation):
            drop_collection(client, col_name)
        return
    for col_name in names(name, ""):
        col = client.get_collection(col_name)
        while ids := col.get(include=[], limit=5000)["ids"]:
            col.delete(ids=ids)


def drop_collection(client: Any, col_name: str) -> None:
    """Delete one collection; one that is already gone is fine."""
    try:
        client.delete_collection(col_name)
    except Exception as exc:  # chromadb.errors.NotFoundError: "Collection [x] does not exist"
        if type(exc).__name__ != "NotFoundError" and "does not exist" not in str(exc):
            raise
