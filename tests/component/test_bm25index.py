"""The BM25 index saved with the store (issue 15): loaded by a new process instead of rebuilt, never
used for a library it was not built from, and never left half-written."""

from __future__ import annotations

import pytest

from assistant.search import bm25 as bm25index
from assistant.assistant import Assistant
from assistant.search.store import Store

from ..support.fakes import FakeEmbedder

CHINA = ("China's trade envoy arrives in Brussels.\n\nThe envoy from Beijing will discuss tariffs on electric "
         "vehicles with European Commission officials this week, a spokesperson said.\n")


def reopen(a: Assistant) -> Assistant:
    """A second Assistant on the same data dir: what a new process sees."""
    embedder = FakeEmbedder()
    store = Store.open(a.settings.data_dir, None, a.settings.collection, embedder)
    return Assistant(a.settings, store, embedder, llm=None)


def index_root(a: Assistant):
    return a.settings.data_dir / "index" / a.settings.collection


def saved_folders(a: Assistant) -> list[str]:
    root = index_root(a)
    return sorted(p.name for p in root.iterdir() if (p / "complete").is_file()) if root.exists() else []


def test_a_new_process_loads_the_saved_index_instead_of_reading_every_chunk(fake_assistant, seed_dir, monkeypatch):
    fake_assistant.ingest([seed_dir])
    first = fake_assistant.search("Russia stalling for time", k=5, mode="bm25")
    assert first and len(saved_folders(fake_assistant)) == 1
    other = reopen(fake_assistant)
    monkeypatch.setattr(Store, "all_chunks", lambda self: pytest.fail("rebuilt instead of loading the saved index"))
    again = other.search("Russia stalling for time", k=5, mode="bm25")
    assert [p.chunk_id for p in again] == [p.chunk_id for p in first]
    assert [p.text for p in again] == [p.text for p in first] and again[0].title == first[0].title
    assert isinstance(other.retriever._bm25[2], bm25index.LazyRows)  # rows decoded on access, memory-mapped


def test_a_write_by_another_process_makes_the_saved_index_stale(fake_assistant, seed_dir, tmp_path):
    fake_assistant.ingest([seed_dir])
    fake_assistant.search("Russia", k=3, mode="bm25")
    before = saved_folders(fake_assistant)
    writer = reopen(fake_assistant)  # another process adds an article
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "china.md").write_text(CHINA, encoding="utf-8")
    writer.ingest([extra])
    reader = reopen(fake_assistant)
    hits = reader.search("Brussels tariffs electric vehicles", k=3, mode="bm25")
    assert hits and "Brussels" in hits[0].text
    after = saved_folders(fake_assistant)
    assert len(after) == 1 and after != before  # rebuilt under the new version, the old one removed
    # The first process's own cached index notices the other process's write too.
    assert "Brussels" in fake_assistant.search("Brussels tariffs electric vehicles", k=3, mode="bm25")[0].text
    art = next(a for a in reader.articles() if "Brussels" in a.title or "China" in a.title)
    writer.delete(art.id)
    assert all("Brussels" not in p.text for p in reopen(fake_assistant).search("Brussels tariffs", k=3, mode="bm25"))


def test_every_kind_of_write_changes_the_version_tag(fake_assistant, seed_dir):
    store = fake_assistant.store
    t0 = store.version_tag()
    fake_assistant.ingest([seed_dir])
    t1 = store.version_tag()
    aid = fake_assistant.articles()[0].id
    assert t1 != t0
    assert store.regroup([aid]) == 0 and store.version_tag() == t1  # nothing changed, nothing bumped
    fake_assistant.delete(aid)
    assert store.version_tag() not in (t0, t1)


def test_a_half_written_index_is_ignored_and_rebuilt(fake_assistant, seed_dir):
    fake_assistant.ingest([seed_dir])
    tag = fake_assistant.store.version_tag()
    folder = bm25index.folder_for(index_root(fake_assistant), tag)
    folder.mkdir(parents=True)
    (folder / "rows.jsonl").write_text("garbage")  # a crash before "complete" was written
    assert bm25index.load(index_root(fake_assistant), tag) is None
    assert reopen(fake_assistant).search("Russia stalling", k=3, mode="bm25")
    assert (folder / "complete").is_file() or saved_folders(fake_assistant)


def test_an_index_read_during_a_write_is_not_saved(fake_assistant, seed_dir, monkeypatch):
    """The tag is read again after reading the chunks: if a write happened meanwhile, the index may hold
    half of it, so it serves this process only and is not saved for others."""
    fake_assistant.ingest([seed_dir])
    store = fake_assistant.store
    tags = iter(["v-after-2"])  # what the store says once the chunks are read
    monkeypatch.setattr(type(store), "version_tag", lambda self: next(tags))
    index, records = bm25index.load_or_build(store, index_root(fake_assistant), "v-before-1")
    assert index is not None and records
    assert saved_folders(fake_assistant) == []


def test_records_saved_before_article_record_existed_still_load(fake_assistant, seed_dir):
    """An index saved by an older version holds the raw Chroma metadata per article; it loads into the
    same ArticleRecords as the store gives (minus the signatures an index never keeps)."""
    import json
    from dataclasses import replace

    fake_assistant.ingest([seed_dir])
    store = fake_assistant.store
    tag = store.version_tag()
    fake_assistant.search("Russia stalling", k=3, mode="bm25")  # builds and saves the index
    folder = bm25index.folder_for(index_root(fake_assistant), tag)
    raw = {i: {k: v for k, v in m.items() if k not in ("dup_sig", "dup_n", "dup_hash")}
           for i, m in store._article_metas().items()}
    assert raw and all("content_hash" in m and "dup_group" in m for m in raw.values())
    (folder / "records.json").write_text(json.dumps(raw))
    _, records = bm25index.load(index_root(fake_assistant), tag)
    want = {i: replace(r, dup_sig="", dup_n=0, dup_hash="") for i, r in store.article_records().items()}
    assert records == want
    assert {r.content_hash for r in records.values()} == {m["content_hash"] for m in raw.values()}
