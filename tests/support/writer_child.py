"""One of two writers on one data dir (tests/integration/test_two_writers.py): ingests each file of a
folder as its own ingest, several rounds, with the real Assistant, embedded Chroma and the hashing
test embedder. Every ingest begins with the store's cleanup, so two of these running at once give a
cleanup many chances to meet the other writer's chunks in flight.

    python -m tests.support.writer_child DATA_DIR FOLDER ROUNDS
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store

from .fakes import FakeEmbedder


def main(data_dir: str, folder: str, rounds: int) -> int:
    settings = Settings(data_dir=Path(data_dir))
    embedder = FakeEmbedder()
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    a = Assistant(settings, store, embedder)
    added: list[str] = []
    for _ in range(rounds):
        for f in sorted(Path(folder).iterdir()):
            report = a.ingest([f])
            added += report.added
            assert not report.failed, report.failed
    print(json.dumps({"added": added}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
