"""Two processes writing to one data dir at once (issue 28, item 6): a page upload while a cron
`briefing ingest` runs. Each ingest begins by deleting chunks of articles not committed yet; without
a lock across processes, that took the other writer's chunks in flight and left its articles with
records but no chunks: never found by search, and "unchanged" on every re-ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store

from ..support.fakes import FakeEmbedder

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FILES = 25  # per writer
ROUNDS = 2  # the second round is all unchanged: cleanups only, racing the other writer's writes


def _folder(root: Path, tag: str) -> Path:
    root.mkdir()
    for n in range(FILES):
        token = f"{tag}{n:03d}marker"
        paras = [f"Report {token} from the harbour desk, part {p}: the port of Kestrel {n} reopened to cargo "
                 f"ships on Tuesday after a closure, and dock workers expect {100 + n + p} ships, {token} said."
                 for p in range(6)]
        (root / f"{tag}-{n:03d}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return root


def _writer(data_dir: Path, folder: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    return subprocess.Popen([sys.executable, "-m", "tests.support.writer_child", str(data_dir), str(folder),
                             str(ROUNDS)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_ingesting_into_one_data_dir_lose_nothing(tmp_path):
    data = tmp_path / "data"
    folders = [_folder(tmp_path / "alpha", "alpha"), _folder(tmp_path / "bravo", "bravo")]
    writers = [_writer(data, f) for f in folders]
    outputs = [w.communicate(timeout=600) for w in writers]
    for w, (out, err) in zip(writers, outputs):
        assert w.returncode == 0, err[-2000:]
    added = [json.loads(out)["added"] for out, _ in outputs]
    assert [len(x) for x in added] == [FILES, FILES]

    settings = Settings(data_dir=data, chroma_url=None)
    store = Store.open(data, None, settings.collection, FakeEmbedder())
    records = store.article_records()
    stored = Counter(m["article_id"] for _, m in store._chunk_metas()  # noqa: SLF001 - the raw rows are the point
                     if records.get(m["article_id"]) and records[m["article_id"]].content_hash == m["content_hash"])
    wrong = {i: (r.chunk_count, stored.get(i, 0)) for i, r in records.items() if stored.get(i, 0) != r.chunk_count}
    print(f"two writers: {len(records)} articles, {sum(stored.values())} chunks, "
          f"{len(wrong)} with the wrong chunk count {sorted(wrong.values())[:5]}")
    assert len(records) == 2 * FILES
    assert wrong == {}, f"{len(wrong)} articles lost chunks to the other writer's cleanup"
    a = Assistant(settings, store, FakeEmbedder())
    for tag in ("alpha", "bravo"):
        for n in range(FILES):
            token = f"{tag}{n:03d}marker"
            hits = a.search(token, k=1, mode="bm25")
            assert hits and token in hits[0].text, f"{token} is not searchable"
