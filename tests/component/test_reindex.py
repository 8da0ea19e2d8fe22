"""`reindex` (issue 29 item 6): every article chunked and embedded again, in place, into a new generation
that replaces the old one in one step. Real embedded Chroma, the fake embedder. The SIGKILL test is
tests/integration/test_kill_reindex.py; here failures are injected at the same points in-process."""

from __future__ import annotations

import json

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.errors import StoreError
from assistant.ingest import reindex as reindex_module
from assistant.search import generations
from assistant.search.store import Store
from tests.support.fakes import FakeEmbedder

QUESTION = "Is Russia stalling for time?"


class OtherEmbedder(FakeEmbedder):
    """Another model: a different name and size, as after a change of BRIEFING_EMBEDDER."""

    name = "fake-other-128"
    dim = 128

    def embed(self, texts):
        return super().embed(texts)[:, :128] + 1e-3


def corpus(folder, n: int = 12):
    rows = [{"id": f"r-{i:02d}", "title": f"Talks round {i}", "published_at": f"2025-04-{1 + i:02d}",
             "body": " ".join(f"Negotiators met in Geneva on day {i} and discussed a ceasefire plan number {j}."
                              for j in range(6 + i % 4))} for i in range(n)]
    path = folder / "feed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def lib(settings, seed_dir, tmp_path):
    """A filled library, and the settings and embedder it was built with."""
    embedder = FakeEmbedder()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder)
    assert a.ingest([seed_dir, corpus(tmp_path)]).added
    return a


def reopened(lib: Assistant, embedder=None, check_embedder: bool = True, **changes) -> Assistant:
    """The same library opened as a new process would, with changed settings."""
    s = Settings(**{**lib.settings.model_dump(), **changes})
    emb = embedder or FakeEmbedder()
    return Assistant(s, Store.open(s.data_dir, None, s.collection, emb, check_embedder=check_embedder), emb)


def chunk_ids(store: Store) -> set[str]:
    return {sc.chunk.id for sc in store.all_chunks()}


def collection_names(store: Store) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in store.client.list_collections()}


def test_reindex_rechunks_in_place_and_a_running_assistant_follows(lib):
    before_records = lib.store.article_records()
    before_bodies = lib.store.bodies(before_records)
    before_chunks = chunk_ids(lib.store)
    assert lib.search(QUESTION)  # the long-running assistant has searched (its index is cached)

    smaller = reopened(lib, chunk_size=200)
    report = smaller.reindex()

    assert report.articles == len(before_records) and report.replaced == "" and report.resumed == 0
    assert report.chunks == report.written > len(before_chunks)  # smaller chunks: more of them
    after = reopened(lib).store
    assert set(after.article_records()) == set(before_records)
    for aid, old in before_records.items():  # bodies, ingest times and duplicate groups carried over
        new = after.article_records()[aid]
        assert (new.content_hash, new.ingested_ts, new.dup_group, new.origin) == (
            old.content_hash, old.ingested_ts, old.dup_group, old.origin)
        assert after.bodies([aid])[aid] == before_bodies[aid] == lib.store.bodies([aid])[aid]
    assert chunk_ids(after) - before_chunks  # new cuts (a chunk already under 200 characters keeps its id)
    assert all(len(sc.chunk.text) <= 400 for sc in after.all_chunks())

    # The assistant opened before the reindex follows the switch at its next search.
    passages = lib.search(QUESTION)
    assert passages and {p.chunk_id for p in passages} <= chunk_ids(after)
    # The original collections are emptied (the anchor stays), and no other generation is left.
    base_chunks, base_articles = generations.names("briefings", "")
    assert lib.store.client.get_collection(base_articles).count() == 0
    assert lib.store.client.get_collection(base_chunks).count() == 0
    left = {n for n in collection_names(after) if n.startswith("briefings-")}
    assert left == set(generations.names("briefings", report.generation))


def test_a_second_reindex_replaces_a_generation_and_drops_it(lib):
    first = reopened(lib, chunk_size=300).reindex()
    second = reopened(lib, chunk_size=500).reindex()
    assert second.replaced == first.generation != second.generation
    names = collection_names(lib.store)
    assert not any(n.startswith(f"briefings-{first.generation}") for n in names)
    assert lib.search(QUESTION)


def test_a_new_embedder_needs_reindex_and_reindex_re_embeds(lib):
    with pytest.raises(StoreError) as refused:
        reopened(lib, embedder=OtherEmbedder())
    assert "briefing reindex" in refused.value.one_line()
    report = reopened(lib, embedder=OtherEmbedder(), check_embedder=False).reindex()
    assert report.built_with.startswith("fake-other-128")
    other = reopened(lib, embedder=OtherEmbedder())  # opens now, with the check
    assert other.search(QUESTION)
    with pytest.raises(StoreError):
        reopened(lib)  # and the old model no longer fits this library
    vec = next(iter(other.store.vectors([next(iter(chunk_ids(other.store)))]).values()))
    assert vec.shape == (128,)


def test_killed_before_the_switch_the_old_index_answers_and_a_rerun_resumes(lib, monkeypatch):
    old_chunks = chunk_ids(lib.store)
    calls = {"n": 0}
    original = Store.write_articles

    def dies_on_third_batch(self, items, stamp=None, carry=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # as a Ctrl-C in the middle of the run
        return original(self, items, stamp, carry)

    monkeypatch.setattr(reindex_module, "FLUSH_CHUNKS", 4)  # many small batches
    monkeypatch.setattr(Store, "write_articles", dies_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        reopened(lib, chunk_size=200).reindex()
    monkeypatch.setattr(Store, "write_articles", original)

    anchor = lib.store.anchor_meta()
    assert generations.active(anchor) == "" and anchor[generations.PENDING]
    assert chunk_ids(reopened(lib).store) == old_chunks  # searches still read the old index
    assert lib.search(QUESTION)

    # Meanwhile the library changes: the rerun must index what is there now.
    lib.ingest([corpus(lib.settings.data_dir.parent, n=14)])  # the same feed with two more rows: r-12, r-13
    assert lib.delete("r-00")
    report = reopened(lib, chunk_size=200).reindex()
    assert report.generation == anchor[generations.PENDING] and report.resumed >= 2
    new = reopened(lib).store
    assert set(new.article_records()) == set(lib.store.article_records()) and "r-00" not in new.article_records()
    assert "r-13" in new.article_records() and new.miscounted() == []


def test_a_rerun_with_other_settings_starts_over(lib, monkeypatch):
    original = Store.write_articles

    def dies(self, items, stamp=None, carry=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "write_articles", dies)
    with pytest.raises(KeyboardInterrupt):
        reopened(lib, chunk_size=200).reindex()
    abandoned = lib.store.anchor_meta()[generations.PENDING]
    monkeypatch.setattr(Store, "write_articles", original)
    report = reopened(lib, chunk_size=300).reindex()
    assert report.generation != abandoned and report.resumed == 0
    assert not any(n.startswith(f"briefings-{abandoned}") for n in collection_names(lib.store))


def test_killed_after_the_switch_the_next_run_drops_the_old_generation(lib, monkeypatch):
    first = reopened(lib, chunk_size=300).reindex()

    original = generations.drop

    def killed(client, name, generation):
        if generation == first.generation:  # the drop of the replaced generation, after the switch
            raise KeyboardInterrupt
        return original(client, name, generation)

    monkeypatch.setattr(generations, "drop", killed)
    with pytest.raises(KeyboardInterrupt):
        reopened(lib, chunk_size=200).reindex()
    monkeypatch.undo()
    switched = generations.active(lib.store.anchor_meta())
    assert switched != first.generation  # the switch happened; the old generation is still there
    assert any(n.startswith(f"briefings-{first.generation}") for n in collection_names(lib.store))
    assert lib.search(QUESTION)
    reopened(lib, chunk_size=200).reindex()
    assert not any(n.startswith(f"briefings-{first.generation}") for n in collection_names(lib.store))


def test_an_incomplete_new_index_is_never_switched_to(lib, monkeypatch):
    monkeypatch.setattr(Store, "miscounted", lambda self: ["r-01"])
    with pytest.raises(StoreError) as caught:
        reopened(lib, chunk_size=200).reindex()
    assert "old index is still in use" in str(caught.value)
    assert generations.active(lib.store.anchor_meta()) == ""
