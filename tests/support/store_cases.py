"""Store behaviours checked on a real Chroma, written once and run twice: against an embedded
PersistentClient (tests/component/test_store.py) and against a `chroma run` server (tests/integration/test_chroma_server.py).

Each case takes a StoreEnv: an Assistant with the deterministic FakeEmbedder, a folder for
briefing files, and `open()` to build another Assistant over the same Chroma collections.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from assistant.assistant import Assistant
from assistant.errors import ConfigError, StoreError
from assistant.ingest.chunk import chunk_article
from assistant.ingest.files import read_file
from assistant.types import Article, Passage

from ..conftest import SEED
from .fakes import FakeEmbedder

MODES = ("dense", "bm25", "hybrid")


@dataclass
class StoreEnv:
    assistant: Assistant
    files: Path
    open: Callable[..., Assistant]  # open(embedder=None, **setting_overrides) on the same collections

    def write(self, name: str, text: str) -> Path:
        path = self.files / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def jsonl(self, name: str, records: list[dict[str, Any] | str]) -> Path:
        return self.write(name, "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")

    def seed(self) -> Path:
        return Path(shutil.copy(SEED, self.files / SEED.name))


# --- helpers ------------------------------------------------------------------------------


def expected(path: Path, a: Assistant) -> tuple[Article, dict[str, tuple[str, int, int, str]]]:
    """The article a file should become, and its chunks as {id: (text, start, end, section)}."""
    [article] = [x for x in read_file(path, 10**7) if isinstance(x, Article)]
    chunks = chunk_article(article, a.settings.chunk_size, a.settings.chunk_overlap)
    return article, {c.id: (c.text, c.start, c.end, c.section) for c in chunks}


def stored(a: Assistant) -> dict[str, tuple[str, int, int, str]]:
    return {s.chunk.id: (s.chunk.text, s.chunk.start, s.chunk.end, s.chunk.section) for s in a.store.all_chunks()}


def stored_by_article(a: Assistant) -> Counter:
    return Counter(s.chunk.article_id for s in a.store.all_chunks())


def article_ids(passages: list[Passage]) -> set[str]:
    return {p.article_id for p in passages}


def long_paragraph(topic: str, n: int = 6) -> str:
    return " ".join(f"Sentence {i} of the {topic} paragraph adds plain filler words to reach a useful length."
                    for i in range(n))


# --- cases --------------------------------------------------------------------------------


def ingest_round_trips_article_and_chunks(env: StoreEnv) -> None:
    a = env.assistant
    path = env.seed()
    article, chunks = expected(path, a)
    report = a.ingest(env.files)
    assert report.ok and report.added == [article.id] and report.unchanged == [] and report.updated == []
    assert report.chunks_written == len(chunks) == a.store.count() == 6
    [listed] = a.articles()
    assert (listed.id, listed.title, listed.chunk_count, listed.body) == (article.id, "Russia envoy washington", 6, "")
    full = a.article(article.id)
    assert full is not None and full.body == article.body and full.origin == str(path.resolve())
    assert full.content_hash == article.content_hash
    assert stored(a) == chunks
    for text, start, end, _ in stored(a).values():
        assert full.body[start:end] == text
    assert a.article("a-nonexistent") is None


def reingest_unchanged_adds_nothing(env: StoreEnv) -> None:
    a = env.assistant
    env.seed()
    env.write("notes.md", "---\ntitle: Notes\nsource: Desk\n---\n# Oil\n\nOil prices fell on Tuesday.\n")
    first = a.ingest(env.files)
    assert len(first.added) == 2 and first.chunks_written == a.store.count()
    before = stored(a)
    second = a.ingest(env.files)
    assert (second.added, second.updated, second.failed, second.chunks_written) == ([], [], [], 0)
    assert sorted(second.unchanged) == sorted(first.added)
    # A new client on the same collections sees the same library and also writes nothing.
    third = env.open().ingest([env.files / SEED.name, env.files / "notes.md"])
    assert (third.added, third.updated, third.chunks_written) == ([], [], 0) and len(third.unchanged) == 2
    assert stored(a) == before


def changed_article_replaces_its_chunks(env: StoreEnv) -> None:
    a = env.assistant
    head = f"{long_paragraph('first')}\n\n{long_paragraph('second')}\n\n"
    v1 = {"id": "brief-1", "title": "Brief", "body": head + "A walrus was seen near the port today."}
    v2 = {**v1, "body": head + "A zeppelin flew over the port today."}
    path = env.jsonl("feed.jsonl", [v1])
    assert a.ingest(path).added == ["brief-1"]
    old = stored(a)
    env.jsonl("feed.jsonl", [v2])
    article, chunks = expected(path, a)
    report = a.ingest(path)
    assert (report.added, report.updated, report.unchanged) == ([], ["brief-1"], [])
    assert stored(a) == chunks, "exactly the new version's chunks, no stale ones"
    assert not any("walrus" in text for text, *_ in stored(a).values())
    assert len(set(old) & set(chunks)) == 1, "the unchanged first chunk keeps its id (same article id and content)"
    assert a.article("brief-1").body == article.body
    hashes = {s.meta["content_hash"] for s in a.store.all_chunks()}
    assert hashes == {article.content_hash}
    assert a.search("walrus", mode="bm25") == []
    for mode in ("dense", "hybrid"):
        assert all("walrus" not in p.text for p in a.search("walrus", mode=mode))
        assert "zeppelin" in a.search("zeppelin", k=1, mode=mode)[0].text


def changed_file_replaces_old_version(env: StoreEnv) -> None:
    a = env.assistant
    path = env.write("daily.txt", "Markets opened higher on Monday. Oil rose two percent.\n")
    env.write("other.txt", "Rain is expected in Lisbon this weekend.\n")
    first = a.ingest(env.files)
    old_id = next(i for i in first.added if a.article(i).origin == str(path.resolve()))
    env.write("daily.txt", "Markets opened lower on Monday. Oil fell three percent.\n")
    article, chunks = expected(path, a)
    report = a.ingest(env.files)
    assert report.updated == [article.id] and report.added == [] and len(report.unchanged) == 1
    assert article.id != old_id and a.article(old_id) is None
    assert old_id not in stored_by_article(a)
    assert {x.id for x in a.articles()} == {article.id, report.unchanged[0]}
    assert {k: v for k, v in stored(a).items() if k in chunks} == chunks
    assert a.search("higher", mode="bm25") == []


def jsonl_bad_lines_are_reported_and_the_rest_ingested(env: StoreEnv) -> None:
    a = env.assistant
    path = env.jsonl("feed.jsonl", [
        {"id": "r-1", "title": "One", "source": "Reuters", "published_at": "2025-04-01", "body": "Ceasefire talks resumed."},
        '{"id": "r-2", "body": "cut off',
        {"id": "r-3", "title": "Three", "body": "Sanctions on oil buyers were discussed."},
        {"id": "r-4", "title": "No body"},
        {"id": "r-1", "title": "Dup", "body": "A different body under a repeated id."},
    ])
    env.write("broken.json", "{not json")
    report = a.ingest([env.files, env.files / "missing.txt"])
    assert sorted(report.added) == ["r-1", "r-3"] and not report.ok
    reasons = {f.where.replace(str(path.resolve()), "feed"): f.reason for f in report.failed}
    assert set(reasons) == {"feed:2", "feed:4", "feed:5", str((env.files / "broken.json")), str(env.files / "missing.txt")}
    assert "malformed JSON line" in reasons["feed:2"]
    assert "body" in reasons["feed:4"]
    assert "duplicate id 'r-1'" in reasons["feed:5"]
    assert "invalid JSON" in reasons[str(env.files / "broken.json")]
    assert "failed 5" in str(report)
    assert {x.id for x in a.articles()} == {"r-1", "r-3"}
    assert a.article("r-1").body == "Ceasefire talks resumed."
    again = a.ingest(path)
    assert sorted(again.unchanged) == ["r-1", "r-3"] and len(again.failed) == 3 and again.chunks_written == 0


def jsonl_inserted_line_keeps_the_other_articles(env: StoreEnv) -> None:
    a = env.assistant
    rec = {i: {"id": i, "title": i, "body": f"Report {i} about the {i} market."} for i in ("A", "B", "X")}
    path = env.jsonl("feed.jsonl", [rec["A"], rec["B"]])
    a.ingest(path)
    env.jsonl("feed.jsonl", [rec["X"], rec["A"], rec["B"]])  # a new line on top shifts the others down
    report = a.ingest(path)
    assert report.added == ["X"] and sorted(report.unchanged) == ["A", "B"]
    assert {x.id for x in a.articles()} == {"A", "B", "X"}, "an unchanged article moved to another line was deleted"


def delete_removes_article_and_chunks(env: StoreEnv) -> None:
    a = env.assistant
    env.seed()
    env.write("other.txt", "Cocoa prices in Ghana reached a record as the harvest shrank.\n")
    a.ingest(env.files)
    seed_id = next(x.id for x in a.articles() if x.title == "Russia envoy washington")
    per = stored_by_article(a)
    total = a.store.count()
    assert a.delete(seed_id) is True
    assert a.article(seed_id) is None and seed_id not in {x.id for x in a.articles()}
    assert seed_id not in stored_by_article(a) and a.store.count() == total - per[seed_id]
    for mode in MODES:
        assert seed_id not in article_ids(a.search("Is Russia stalling for time in Moscow?", mode=mode))
    assert a.delete(seed_id) is False
    assert a.ingest(env.files / SEED.name).added == [seed_id], "a deleted article comes back as new"


class _CrashOnCommit:
    """Stands in for the articles collection: writing the article record fails, as if the process
    died between writing the chunks and committing the article."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def upsert(self, **_: Any) -> None:
        raise RuntimeError("simulated crash before the article record was written")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def cleanup_removes_uncommitted_chunks(env: StoreEnv) -> None:
    a = env.assistant
    v1 = {"id": "brief-1", "title": "Brief", "body": "Moscow is stalling for time. Talks are slow."}
    path = env.jsonl("feed.jsonl", [v1])
    a.ingest(path)
    committed = stored(a)
    # 1. A new version whose chunks were written but whose article record never was.
    env.jsonl("feed.jsonl", [{**v1, "body": "Moscow is stalling for time. Talks are slow. A new sentence."}])
    real = a.store.articles_col
    a.store.articles_col = _CrashOnCommit(real)
    try:
        with pytest.raises(StoreError, match="simulated crash"):
            a.ingest(path)
    finally:
        a.store.articles_col = real
    # 2. Chunks written without any article record at all.
    ghost_texts = ["Ghost chunk: Moscow is stalling for time.", "Ghost chunk two: stalling again."]
    a.store.chunks.upsert(
        ids=["c-ghost-1", "c-ghost-2"], documents=ghost_texts,
        embeddings=[row.tolist() for row in a.embedder.embed(ghost_texts)],
        metadatas=[{"article_id": "a-ghost", "content_hash": "0" * 64, "title": "Ghost", "source": "", "url": "",
                    "start": 0, "end": len(t), "section": "", "index": i} for i, t in enumerate(ghost_texts)])
    assert a.store.count() == len(committed) + 3
    assert a.article("brief-1").body == v1["body"], "the committed version is still the old one"
    for mode in MODES:  # readers never see uncommitted chunks
        got = a.search("Moscow stalling for time new sentence ghost", mode=mode)
        assert got and {p.chunk_id for p in got} <= set(committed)
    assert a.store.cleanup() == 3
    assert stored(a) == committed
    assert a.store.cleanup() == 0
    # Ingest runs the cleanup itself before writing.
    a.store.chunks.upsert(ids=["c-ghost-3"], documents=["ghost"], embeddings=[a.embedder.embed(["ghost"])[0].tolist()],
                          metadatas=[{"article_id": "a-ghost", "content_hash": "x", "start": 0, "end": 5}])
    report = a.ingest(path)
    assert report.updated == ["brief-1"]
    assert set(stored_by_article(a)) == {"brief-1"} and "c-ghost-3" not in stored(a)


FILTER_FEED = [
    {"id": "A", "source": "Reuters", "published_at": "2025-03-01T08:00:00Z", "body": "Ceasefire talks: alpha report."},
    {"id": "B", "source": "Semafor", "published_at": "2025-04-01T12:00:00Z", "body": "Ceasefire talks: bravo report."},
    {"id": "C", "source": "Semafor", "published_at": "2025-04-02T09:00:00+02:00", "body": "Ceasefire talks: charlie report."},
    {"id": "D", "source": "Semafor", "body": "Ceasefire talks: delta report, undated."},
    {"id": "E", "source": "AP", "published_at": "April 3, 2025", "body": "Ceasefire talks: echo report."},
]
FILTER_EXPECTATIONS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"A", "B", "C", "D", "E"}),
    ({"published_after": "2025-04-01"}, {"B", "C", "E"}),
    ({"published_before": "2025-04-01"}, {"A", "B"}),  # a bare date includes its whole day
    ({"published_after": "2025-04-01", "published_before": "2025-04-02"}, {"B", "C"}),
    ({"since": "2025-04-02T08:00:00Z"}, {"E"}),  # C is 07:00 UTC
    ({"source": "Semafor"}, {"B", "C", "D"}),
    ({"sources": ["Reuters", "AP"]}, {"A", "E"}),
    ({"as_of": "2025-04-01"}, {"A", "B", "D"}),  # as_of hides later briefings, never undated ones
    ({"as_of": "2025-04-02", "source": "Semafor"}, {"B", "C", "D"}),
    ({"published_after": "2025-05-01"}, set()),
    ({"source": "Nobody"}, set()),
]


def filters_by_date_and_source(env: StoreEnv) -> None:
    a = env.assistant
    assert a.ingest(env.jsonl("feed.jsonl", FILTER_FEED)).ok
    ts = {s.chunk.article_id: s.meta.get("published_ts") for s in a.store.all_chunks()}
    assert ts["D"] is None and all(type(ts[i]) is int for i in "ABCE"), "dates are stored as integer epoch seconds"
    assert ts["C"] == 1743577200  # 2025-04-02T07:00:00Z
    for filters, want in FILTER_EXPECTATIONS:
        for mode in MODES:
            got = article_ids(a.search("ceasefire talks report", k=10, mode=mode, **filters))
            assert got == want, f"{mode} {filters}: {sorted(got)} != {sorted(want)}"
    # The Chroma side really filters (not only the BM25 side): a raw dense query with the clause.
    from assistant.search.store import where_filter

    hits = a.store.dense(a.embedder.embed(["ceasefire"])[0], 10, where_filter(published_after=1743465600, sources=["Semafor"]))
    assert {h.chunk.article_id for h in hits} == {"B", "C"}
    with pytest.raises(ConfigError, match="not a date"):
        a.search("ceasefire", published_after="someday")
    with pytest.raises(ConfigError, match="unknown search filter"):
        a.search("ceasefire", publisher="Reuters")


def search_modes_rank_and_fuse(env: StoreEnv) -> None:
    a = env.assistant
    env.seed()
    env.write("cocoa.txt", "Cocoa prices in Ghana hit a record as the harvest shrank.\n")
    env.write("football.txt", "The football final in Madrid drew a record crowd.\n")
    a.ingest(env.files)
    cocoa = next(x.id for x in a.articles() if x.title == "Cocoa")
    flat = env.open(per_article_cap=0)  # no diversity reordering: results in rank order
    dense = flat.search("cocoa harvest Ghana", k=20, mode="dense")
    bm25 = flat.search("cocoa harvest Ghana", k=20, mode="bm25")
    hybrid = flat.search("cocoa harvest Ghana", k=20, mode="hybrid")
    assert dense[0].article_id == bm25[0].article_id == hybrid[0].article_id == cocoa
    assert [p.dense_rank for p in dense] == list(range(1, len(dense) + 1)) and all(p.bm25_rank is None for p in dense)
    assert [p.bm25_rank for p in bm25] == list(range(1, len(bm25) + 1)) and all(p.dense_rank is None for p in bm25)
    assert len(bm25) == 1, "BM25 returns only chunks sharing a query term"
    assert len(dense) == a.store.count(), "dense ranks every chunk"
    top = hybrid[0]
    k, w = a.settings.rrf_k, a.settings.bm25_weight  # weighted reciprocal-rank fusion
    assert (top.dense_rank, top.bm25_rank, top.score) == (1, 1, round(1 / (k + 1) + w / (k + 1), 6))
    assert [p.score for p in hybrid] == sorted((p.score for p in hybrid), reverse=True)
    assert {p.chunk_id for p in hybrid} == {p.chunk_id for p in dense} | {p.chunk_id for p in bm25}
    assert (top.title, top.text, top.start) == ("Cocoa", "Cocoa prices in Ghana hit a record as the harvest shrank.", 0)
    # Stemming on the BM25 side: "stalls" finds "stalled" and "stalling".
    stall = a.search("stalls", k=5, mode="bm25")
    assert any("stalling for time" in p.text for p in stall) and any("stalled negotiations" in p.text for p in stall)
    assert a.search("xylophone", mode="bm25") == []
    assert a.search("   ", mode="hybrid") == []
    assert len(a.search("record", k=1)) == 1


_DISTINCT = (
    "Keepers moved the herd to the northern paddock after the fence repairs finished late on Monday evening.",
    "Visitors counted eleven foals this spring, the largest number since the park opened its savanna exhibit.",
    "A vet checked every animal for ticks and found the herd healthy despite the unusually wet weather.",
)


def per_article_cap_keeps_results_diverse(env: StoreEnv) -> None:
    a = env.assistant
    big = "\n\n".join(" ".join(f"Zebra herd {i} sentence {j}: the zebra zebra crossing." for j in range(8)) for i in range(8))
    feed = [{"id": "big", "source": "Zoo Weekly", "title": "Herds", "body": big}] + [
        {"id": f"s{i}", "source": "Other", "title": f"Small {i}", "body": f"One zebra appeared. {text}"}
        for i, text in enumerate(_DISTINCT)]  # distinct bodies: near-duplicates would be collapsed to one
    a.ingest(env.jsonl("zoo.jsonl", feed))
    assert stored_by_article(a)["big"] >= 6
    assert a.settings.per_article_cap == 3
    for mode in MODES:
        got = Counter(p.article_id for p in a.search("zebra", k=6, mode=mode))
        assert got == Counter({"big": 3, "s0": 1, "s1": 1, "s2": 1}), f"{mode}: {got}"
        # With no other article to show, the cap gives way and the big article fills the list.
        only = a.search("zebra", k=6, mode=mode, source="Zoo Weekly")
        assert [p.article_id for p in only] == ["big"] * 6
    uncapped = env.open(per_article_cap=0)
    assert Counter(p.article_id for p in uncapped.search("zebra", k=6, mode="bm25"))["big"] > 3


class _OtherEmbedder(FakeEmbedder):
    name = "other-fake"


def other_embedder_is_refused(env: StoreEnv) -> None:
    env.assistant.ingest(env.seed())
    with pytest.raises(StoreError, match="embedded with fake-hash-256"):
        env.open(embedder=_OtherEmbedder())


CASES = [pytest.param(case, id=case.__name__) for case in (
    ingest_round_trips_article_and_chunks,
    reingest_unchanged_adds_nothing,
    changed_article_replaces_its_chunks,
    changed_file_replaces_old_version,
    jsonl_bad_lines_are_reported_and_the_rest_ingested,
    jsonl_inserted_line_keeps_the_other_articles,
    delete_removes_article_and_chunks,
    cleanup_removes_uncommitted_chunks,
    filters_by_date_and_source,
    search_modes_rank_and_fuse,
    per_article_cap_keeps_results_diverse,
    other_embedder_is_refused,
)]
