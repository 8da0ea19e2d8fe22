"""SIGKILL during `briefing ingest`, at timed and at exact points of the write path.

Each case: a few hundred generated articles (JSONL plus text files) are ingested by the real CLI in
a child process (tests/support/cli_child.py) that is killed part-way. The store left behind must be
consistent (every chunk belongs to a fully recorded article, or is an orphan the next run removes;
no duplicate ids), and running the same ingest again must end in exactly the state of an
uninterrupted run into another data dir: same articles, metadata, bodies, chunks.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.search.store import Store

from ..conftest import ROOT
from ..support.fakes import FakeEmbedder

pytestmark = pytest.mark.integration

WORDS = ("talks envoy sanctions pressure ceasefire Moscow Washington officials market oil gas deal analysts "
         "troops border statement report meeting week minister partner summit grain port drones").split()
VOLATILE = {"ingested_ts"}  # when a record was written: differs between any two runs


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def make_corpus(root: Path, seed: int = 1, records: int = 420, files: int = 20) -> Path:
    """A JSONL feed (ids given, some near-duplicates of each other) and a folder of text files."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(records):
        if i % 25 == 24:  # a reworded copy of an earlier story: exercises the duplicate groups
            body = rows[i - 3]["body"].replace(".", " today.", 1)
        else:
            body = " ".join(sentence(rng) for _ in range(rng.randint(3, 30)))
        rows.append({"id": f"r-{i:04d}", "title": f"Story {i}", "published_at": f"2025-04-{1 + i % 28:02d}", "body": body})
    (root / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    for i in range(files):
        (root / f"2025-05-{1 + i:02d}-brief-{i}.txt").write_text(
            "\n\n".join(" ".join(sentence(rng) for _ in range(8)) for _ in range(3)) + "\n", encoding="utf-8")
    return root


def edit_corpus(root: Path) -> None:
    """Version 2: one text file rewritten (a new article replaces the old one of that file), and one
    JSONL record with new text under the same id (an update in place)."""
    f = root / "2025-05-03-brief-2.txt"
    f.write_text("Rewritten: the summit was postponed, officials said.\n" + f.read_text(encoding="utf-8"))
    feed = root / "feed.jsonl"
    rows = [json.loads(x) for x in feed.read_text(encoding="utf-8").splitlines()]
    rows[7]["body"] = "Corrected: " + rows[7]["body"]
    feed.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def briefing(data_dir: Path, corpus: Path, kill_at: str = "", delay: float = 0.0, background: bool = False):
    """`briefing ingest --json` in a child process (fast test embedder, optional self-kill point)."""
    env = {**os.environ, "CHILD_KILL_AT": kill_at, "CHILD_EMBED_DELAY": str(delay), "PYTHONUNBUFFERED": "1"}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFING_DATA_DIR", "BRIEFING_CHROMA_URL"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "tests.support.cli_child", "ingest", "--json", "--data-dir", str(data_dir), str(corpus)]
    if background:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def completed(data_dir: Path, corpus: Path) -> dict:
    done = briefing(data_dir, corpus)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == []
    return report


def recorded_articles(data_dir: Path) -> int:
    """Committed article records, read straight from Chroma's SQLite file (read-only, no client), so
    the parent never opens a second Chroma client on a store another process is writing."""
    path = data_dir / "chroma" / "chroma.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute(
                "SELECT count(*) FROM embeddings e JOIN segments s ON e.segment_id = s.id "
                "JOIN collections c ON s.collection = c.id WHERE c.name = 'briefings_articles' AND s.scope = 'METADATA'"
            ).fetchone()
        return int(row[0])
    except sqlite3.Error:  # the schema is not there yet, or the writer holds a lock: try again
        return 0


def open_store(data_dir: Path) -> Store:
    return Store.open(data_dir, None, "briefings", FakeEmbedder())


def state(data_dir: Path) -> dict:
    """Everything stored: article records (metadata without timestamps, body) and chunks (metadata, text)."""
    store = open_store(data_dir)
    arts = store.articles_col.get(include=["metadatas", "documents"])
    chunks = store.chunks.get(include=["metadatas", "documents"])
    assert len(set(chunks["ids"])) == len(chunks["ids"]), "duplicate chunk ids"
    assert len(set(arts["ids"])) == len(arts["ids"]), "duplicate article ids"
    return {
        "articles": {i: ({k: v for k, v in m.items() if k not in VOLATILE}, d)
                     for i, m, d in zip(arts["ids"], arts["metadatas"], arts["documents"])},
        "chunks": {i: (m, d) for i, m, d in zip(chunks["ids"], chunks["metadatas"], chunks["documents"])},
    }


def check_consistent(data_dir: Path) -> dict:
    """The store a kill left: committed articles are whole, anything else is an orphan chunk.
    Returns counts (recorded articles, their chunks, orphans)."""
    s = state(data_dir)
    per_version = Counter((m["article_id"], m["content_hash"]) for m, _ in s["chunks"].values())
    for aid, (meta, body) in s["articles"].items():
        assert body, f"article {aid} recorded without its body"
        assert per_version[(aid, meta["content_hash"])] == meta["chunk_count"], f"article {aid} is not whole"
    committed = {(aid, m["content_hash"]) for aid, (m, _) in s["articles"].items()}
    orphans = sum(n for key, n in per_version.items() if key not in committed)
    return {"articles": len(s["articles"]), "chunks": len(s["chunks"]) - orphans, "orphans": orphans}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The corpus (v1), a second copy for updates (v1, edited to v2 in place: origins are absolute
    paths), and the state of an uninterrupted run of each: the baselines."""
    base = tmp_path_factory.mktemp("kill")
    v1, upd = make_corpus(base / "v1"), make_corpus(base / "upd")
    data = base / "baseline-v1"
    first = completed(data, v1)
    assert len(first["added"]) == 440 and first["chunks_written"] > 600  # several flushes to kill between
    data = base / "baseline-upd"
    completed(data, upd)
    edit_corpus(upd)
    second = completed(data, upd)
    assert len(second["updated"]) == 2 and second["added"] == []
    return {"v1": v1, "upd": upd, "want_v1": state(base / "baseline-v1"), "want_v2": state(data)}


def finish_and_compare(data: Path, corpus: Path, want: dict) -> dict:
    """Re-run the same ingest to completion; the end state must equal the uninterrupted run's."""
    report = completed(data, corpus)
    got = state(data)
    assert set(got["articles"]) == set(want["articles"])
    assert set(got["chunks"]) == set(want["chunks"])
    assert got == want
    assert check_consistent(data)["orphans"] == 0
    return report


# (kind, where): "signal" kills from the parent once that many articles are recorded; the others
# make the child kill itself at an exact point of the write path.
KILLS = [
    ("signal", 1),  # early: inside the first batches
    ("signal", 220),  # about half way
    ("chunks_upsert", 3),  # between two batches
    ("articles_upsert", 2),  # a batch's chunks written, its article records not: orphans
    ("stale_delete", 3),  # records written, stale-chunk removal not run
    ("regroup", 1),  # every article written, duplicate groups not computed
]


@pytest.mark.parametrize("kind,where", KILLS, ids=[f"{k}-{w}" for k, w in KILLS])
def test_kill_during_a_fresh_ingest(corpora, kind, where, tmp_path):
    data = tmp_path / "data"
    if kind == "signal":
        proc = briefing(data, corpora["v1"], delay=0.25, background=True)
        deadline = time.monotonic() + 300
        while recorded_articles(data) < where:
            assert proc.poll() is None, f"ingest ended before the kill: {proc.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
    else:
        done = briefing(data, corpora["v1"], kill_at=f"{kind}:{where}")
        assert done.returncode == -signal.SIGKILL, done.stderr
    left = check_consistent(data)
    assert left["articles"] < 440 or kind == "regroup"  # the kill landed part-way
    if kind == "articles_upsert":
        assert left["orphans"] > 0
    report = finish_and_compare(data, corpora["v1"], corpora["want_v1"])
    assert len(report["added"]) == 440 - left["articles"] and len(report["unchanged"]) == left["articles"]


@pytest.mark.parametrize("point", ["stale_delete:1", "delete_article:1"])
def test_kill_while_updating_changed_files(corpora, point, tmp_path):
    """Version 1 fully ingested, then version 2 killed mid-update: the rerun ends where an
    uninterrupted update ends (the rewritten file's old article is gone, the edited record's old
    chunks too)."""
    data, corpus = tmp_path / "data", corpora["upd"]
    make_corpus(corpus)  # back to version 1 in the same place
    completed(data, corpus)
    edit_corpus(corpus)
    done = briefing(data, corpus, kill_at=point)
    assert done.returncode == -signal.SIGKILL, done.stderr
    check_consistent(data)
    finish_and_compare(data, corpus, corpora["want_v2"])
