"""`reindex` in a child process, for tests/integration/test_kill_reindex.py: the real Assistant over embedded
Chroma with the hashing test embedder slowed per call, so the parent can SIGKILL it between batches.

    python -m tests.support.reindex_child reindex DATA_DIR CHUNK_SIZE DELAY   progress lines, then the report as JSON
    python -m tests.support.reindex_child search DATA_DIR QUESTION            the chunk ids found, as JSON
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store

from .cli_child import SlowFakeEmbedder


def main(argv: list[str]) -> int:
    command, data_dir = argv[0], Path(argv[1])
    if command == "search":
        embedder = SlowFakeEmbedder(0.0)
        s = Settings(data_dir=data_dir)
        a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder)
        print(json.dumps([p.chunk_id for p in a.search(argv[2], k=5)]))
        return 0
    embedder = SlowFakeEmbedder(float(argv[3]))
    s = Settings(data_dir=data_dir, chunk_size=int(argv[2]))
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder, check_embedder=False), embedder)
    report = a.reindex(on_chunks=lambda done, total: print(f"progress {done} {total}", flush=True))
    print(json.dumps(asdict(report)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
