"""Known-answer tests for fusion weights, MMR, cached article records and batched ingest writes."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assistant.search.retrieve import Candidate, RetrievalParams, _mmr
from assistant.search.store import StoredChunk
from assistant.types import Chunk


def _entry(cid: str, aid: str, score: float) -> Candidate:
    return Candidate(StoredChunk(Chunk(id=cid, article_id=aid, text=cid, start=0, end=1, section="", index=0), {}),
                     score)


def test_mmr_prefers_a_different_passage_over_a_near_copy():
    entries = [_entry("a1", "A", 1.0), _entry("a2", "A", 0.95), _entry("b1", "B", 0.8)]
    vecs = {"a1": np.array([1.0, 0.0]), "a2": np.array([0.99, 0.141]), "b1": np.array([0.0, 1.0])}
    assert [e.chunk_id for e in _mmr(entries, vecs, 0.5)] == ["a1", "b1", "a2"]
    # lambda 1 is relevance only: the fused order is kept.
    assert [e.chunk_id for e in _mmr(entries, vecs, 1.0)] == ["a1", "a2", "b1"]


def test_mmr_without_vectors_keeps_the_order():
    entries = [_entry("x", "X", 0.3), _entry("y", "Y", 0.2)]
    assert _mmr(entries, {}, 0.5) == entries
    assert _mmr([], {}, 0.5) == []


def _feed(env_dir, records) -> object:
    path = env_dir / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_bm25_weight_and_rrf_k_change_the_fused_order(fake_assistant, tmp_path):
    a = fake_assistant
    # "dense" favours the article that shares many words; "bm25" the one with the rare exact term.
    a.ingest(_feed(tmp_path, [
        {"id": "D", "title": "Grain", "body": "Grain exports from ports rose as grain ships left the ports."},
        {"id": "B", "title": "Quota", "body": "The zyxquota rule was adopted for grain."},
    ]))
    q = "grain ports zyxquota"
    both = {p.article_id: p for p in a.search(q, k=2, mode="hybrid")}
    assert set(both) == {"D", "B"}
    dense_first = [p.article_id for p in a.search(q, k=2, mode="dense")][0]
    bm25_first = [p.article_id for p in a.search(q, k=2, mode="bm25")][0]
    params = a.retriever.params
    # Parameters are passed to a sibling retriever, never patched on the live one.
    r = a.retriever.with_params(replace(params, bm25_weight=0.0))  # BM25 ignored: hybrid follows dense
    assert r.search(q, k=2, mode="hybrid")[0].article_id == dense_first
    r = a.retriever.with_params(replace(params, bm25_weight=10.0))  # BM25 dominates
    assert r.search(q, k=2, mode="hybrid")[0].article_id == bm25_first
    r = a.retriever.with_params(replace(params, bm25_weight=1.0, rrf_k=10))
    top = r.search(q, k=2, mode="hybrid")[0]
    assert top.score == pytest.approx(round(1 / (10 + top.dense_rank) + 1 / (10 + top.bm25_rank), 6), abs=1e-6)


def test_mmr_setting_spreads_a_two_part_question_over_articles(fake_assistant, tmp_path):
    a = fake_assistant
    a.ingest(_feed(tmp_path, [
        {"id": "W1", "title": "Wheat", "body": "Wheat harvest wheat prices wheat exports rose."},
        {"id": "W2", "title": "Wheat again", "body": "Wheat harvest wheat prices wheat exports rose again."},
        {"id": "W3", "title": "Wheat more", "body": "Wheat harvest wheat prices wheat exports rose once more."},
        {"id": "S", "title": "Steel", "body": "Steel tariffs were announced."},
    ]))
    q = "wheat harvest wheat prices wheat exports and steel tariffs"
    r = a.retriever.with_params(replace(a.retriever.params, mmr_lambda=0.3))
    got = [p.article_id for p in r.search(q, k=2, mode="dense")]
    assert "S" in got, got


def test_retrieval_params_come_from_the_settings_in_one_place(settings):
    p = RetrievalParams.from_settings(settings)
    assert (p.per_article_cap, p.rrf_k, p.bm25_weight, p.mmr_lambda, p.time_weight, p.collapse) == (
        settings.per_article_cap, settings.rrf_k, settings.bm25_weight, settings.mmr_lambda, settings.time_weight,
        settings.collapse)
    with pytest.raises(AttributeError):
        p.rrf_k = 60  # frozen: a retriever's parameters cannot be patched while it serves


def test_search_sees_another_writers_article_despite_cached_records(fake_assistant, tmp_path, settings):
    from assistant.assistant import Assistant
    from assistant.search.store import Store

    a = fake_assistant
    a.ingest(_feed(tmp_path, [{"id": "A", "title": "Alpha", "body": "Alpha talks on ceasefire."}]))
    assert [p.article_id for p in a.search("ceasefire", mode="dense")] == ["A"]
    # A second writer (another process in real life) replaces A; our cache is now behind.
    other = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, a.embedder), a.embedder)
    other.ingest(_feed(tmp_path, [{"id": "A", "title": "Alpha", "body": "Alpha talks on ceasefire resumed."}]))
    got = a.search("ceasefire resumed", mode="dense")
    assert [p.article_id for p in got] == ["A"] and "resumed" in got[0].text


def test_batched_ingest_writes_many_articles_in_few_store_calls(fake_assistant, tmp_path, monkeypatch):
    a = fake_assistant
    calls: list[int] = []
    real = a.store.write_articles
    monkeypatch.setattr(a.store, "write_articles", lambda items, **kw: (calls.append(len(items)), real(items, **kw))[1])
    records = [{"id": f"n{i}", "title": f"Note {i}", "body": f"Note number {i} about topic {i}."} for i in range(300)]
    records.append(records[5])  # the same article twice in one run: stored once
    report = a.ingest(_feed(tmp_path, records))
    assert len(report.added) == 300 and report.unchanged == ["n5"] and report.chunks_written == 300
    assert calls == [256, 44]
    assert a.store.count() == 300 and len(a.articles()) == 300
    again = a.ingest(_feed(tmp_path, records))
    assert len(again.unchanged) == 301 and again.chunks_written == 0
