"""Run the real `briefing` command (assistant.app.cli.main) in a child process with the test embedder, and
optionally SIGKILL the process at a named point of the store's write path.

    python -m tests.support.cli_child ingest --data-dir D corpus/

The packaged MiniLM embeds ~10 chunks a second on a busy 2-core machine, so a kill test with it
would need many minutes; the hashing FakeEmbedder keeps everything else real (argument parsing,
ingest, Chroma on disk, the report, exit codes). Environment:

  CHILD_EMBED_DELAY  seconds slept per embed call, so a parent has time to kill between writes
  CHILD_KILL_AT      "<point>:<n>": SIGKILL just before the n-th time the point is reached, where
                     point is chunks_upsert, articles_upsert, stale_delete (chunk deletes in a write),
                     regroup or delete_article
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from typing import Any

from assistant import assistant as assistant_module
from assistant.app import cli
from assistant.search.store import Store

from .fakes import FakeEmbedder


class SlowFakeEmbedder(FakeEmbedder):
    """The test embedder, slowed down per call as a real model would be."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def embed(self, texts):
        time.sleep(self.delay)
        return super().embed(texts)


def _install_kill_point(spec: str) -> None:
    point, _, nth = spec.partition(":")
    target = int(nth or 1)
    seen: Counter[str] = Counter()

    def reached(name: str) -> None:
        seen[name] += 1
        if name == point and seen[name] == target:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no atexit: as a power cut or OOM kill

    original_call = Store._call

    def call(fn: Any, **kwargs: Any) -> Any:
        col = getattr(getattr(fn, "__self__", None), "name", "")
        op = getattr(fn, "__name__", "")
        if op == "upsert":
            reached("articles_upsert" if col.endswith("_articles") else "chunks_upsert")
        elif op == "delete" and col.endswith("_chunks") and "where" in kwargs:
            reached("stale_delete")
        return original_call(fn, **kwargs)

    Store._call = staticmethod(call)
    for name in ("regroup", "delete_article"):
        original = getattr(Store, name)

        def wrapped(self, *args, _original=original, _name=name, **kwargs):
            reached(_name)
            return _original(self, *args, **kwargs)

        setattr(Store, name, wrapped)


def main(argv: list[str]) -> int:
    delay = float(os.environ.get("CHILD_EMBED_DELAY", "0") or 0)
    assistant_module.make_embedder = lambda name, settings: SlowFakeEmbedder(delay)
    if os.environ.get("CHILD_KILL_AT"):
        _install_kill_point(os.environ["CHILD_KILL_AT"])
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
