"""`briefing serve` in a child process over a fake slow model, for the load and shutdown tests and
evals/bench_serve.py:

    python -m tests.support.serve_child serve --port P --no-page      (the `briefing` arguments)

The real command (assistant.app.cli.main) with an injected Assistant: the hashing FakeEmbedder, embedded
Chroma seeded with the sample briefing, and SlowChat, which writes a fixed answer one word every
SERVE_CHILD_DELAY seconds, as a model on a busy CPU does. Settings come from the environment as for
the real command (BRIEFING_DATA_DIR, BRIEFING_AUTH, BRIEFING_UI__CONCURRENCY...).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterator

from assistant.app import cli
from assistant.assistant import Assistant
from assistant.config import load_settings
from assistant.models.llm import Completion
from assistant.search.store import Store

from .fakes import FakeEmbedder

ANSWER = "Many Western experts suspect they are stalling for time as Russian troops make progress [1]."


class SlowChat:
    """A model that takes `delay` seconds per word and never runs out of replies (safe across threads:
    it keeps no state)."""

    name = "slow-scripted"

    def __init__(self, delay: float, text: str = ANSWER) -> None:
        self.delay, self.text = delay, text

    def complete(self, messages: list[dict], **_: Any) -> Completion:
        time.sleep(self.delay * len(self.text.split()))
        return Completion(text=self.text, model=self.name, usage={"prompt_tokens": 0, "completion_tokens": 1})

    def stream(self, messages: list[dict], **_: Any) -> Iterator[str | Completion]:
        for word in self.text.split(" "):
            time.sleep(self.delay)
            yield word + " "
        yield Completion(text=self.text, model=self.name, usage={"prompt_tokens": 0, "completion_tokens": 1})


def factory(delay: float) -> Any:
    """An Assistant factory for cli.main: fake embedder, real store seeded once, SlowChat."""
    from ..conftest import SEED

    def build(**overrides: Any) -> Assistant:
        settings = load_settings(**overrides)
        embedder = FakeEmbedder()
        store = Store.open(settings.data_dir, None, settings.collection, embedder)
        assistant = Assistant(settings, store, embedder, llm=SlowChat(delay))
        if not assistant.articles():
            assistant.ingest([SEED])
        return assistant
    return build


if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:], factory=factory(float(os.environ.get("SERVE_CHILD_DELAY", "0.05")))))
