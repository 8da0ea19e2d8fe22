"""SIGKILL during `reindex` (issue 29 item 6): the old index keeps answering, and a re-run finishes.

A library of a few hundred generated articles is reindexed with smaller chunks by a child process
(tests/support/reindex_child.py: the real Assistant, embedded Chroma on disk, the hashing test embedder
slowed per batch) that is killed once it has written part of the new index. Then: a search in this
process (opened before the kill) and one in a new process still answer from the old chunks; a re-run
resumes the same generation and ends with exactly the chunks of an uninterrupted reindex.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search import generations
from assistant.search.store import Store

from ..conftest import ROOT
from ..support.fakes import FakeEmbedder

pytestmark = pytest.mark.integration

QUESTION = "ceasefire talks in Geneva"
WORDS = ("talks envoy sanctions pressure ceasefire Moscow Geneva officials market oil gas deal analysts troops "
         "border statement report meeting week minister partner summit grain port drones").split()


def make_corpus(path: Path, rows: int = 300, seed: int = 3) -> Path:
    rng = random.Random(seed)

    def sentence() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    items = [{"id": f"r-{i:04d}", "title": f"Story {i}", "published_at": f"2025-04-{1 + i % 28:02d}",
              "body": " ".join(sentence() for _ in range(rng.randint(4, 24)))} for i in range(rows)]
    path.write_text("\n".join(json.dumps(r) for r in items) + "\n", encoding="utf-8")
    return path


def library(data_dir: Path, corpus: Path) -> Assistant:
    s = Settings(data_dir=data_dir)
    embedder = FakeEmbedder()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder)
    assert not a.ingest([corpus]).failed
    return a


def child(*args: str, background: bool = False):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    cmd = [sys.executable, "-m", "tests.support.reindex_child", *args]
    if background:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def chunk_ids(store: Store) -> set[str]:
    return {sc.chunk.id for sc in store.all_chunks()}


def test_kill_reindex_midway_old_index_answers_and_a_rerun_finishes(tmp_path):
    corpus = make_corpus(tmp_path / "feed.jsonl")
    a = library(tmp_path / "data", corpus)
    old_chunks = chunk_ids(a.store)
    before = [p.chunk_id for p in a.search(QUESTION, k=5)]
    assert before

    # Killed once part of the new index is written (progress reported after a stored batch, before the switch).
    proc = child("reindex", str(tmp_path / "data"), "200", "0.4", background=True)
    total = 0
    for line in proc.stdout:
        if line.startswith("progress "):
            done, total = map(int, line.split()[1:])
            if 0 < done < total:
                break
    else:
        pytest.fail(f"the reindex ended before it could be killed: {proc.stderr.read()}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    anchor = a.store.anchor_meta()
    assert generations.active(anchor) == "" and anchor[generations.PENDING]  # killed before the switch
    # The old index keeps answering: here (a process that was running all along) and in a new process.
    assert [p.chunk_id for p in a.search(QUESTION, k=5)] == before
    fresh = child("search", str(tmp_path / "data"), QUESTION)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout) == before
    assert chunk_ids(a.store) == old_chunks

    # A re-run resumes the pending generation and finishes.
    done = child("reindex", str(tmp_path / "data"), "200", "0")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["generation"] == anchor[generations.PENDING] and report["resumed"] > 0
    assert report["written"] < report["chunks"]  # the killed run's batches were kept, not redone

    # Exactly what an uninterrupted reindex of the same library builds.
    b = library(tmp_path / "control", corpus)
    Assistant(Settings(data_dir=tmp_path / "control", chunk_size=200), b.store, b.embedder).reindex()
    reread = Store.open(tmp_path / "data", None, "briefings", FakeEmbedder())  # a fresh open, no ingest (no repair)
    assert chunk_ids(reread) == chunk_ids(b.store) and chunk_ids(reread) != old_chunks
    assert reread.miscounted() == [] and set(reread.article_records()) == set(b.store.article_records())
    after = a.search(QUESTION, k=5)  # the long-running process follows the switch
    assert after and {p.chunk_id for p in after} <= chunk_ids(reread)
