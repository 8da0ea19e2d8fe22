"""Component tests on a real embedded Chroma (PersistentClient in a temp folder) with the fake embedder.

The cases live in tests/support/store_cases.py so tests/integration/test_chroma_server.py runs the same ones against a
`chroma run` server.
"""

from __future__ import annotations

import pytest

from assistant.assistant import Assistant
from assistant.search.store import Store

from ..support import store_cases
from ..support.store_cases import StoreEnv


@pytest.fixture
def env(fake_assistant, settings, tmp_path) -> StoreEnv:
    files = tmp_path / "briefings"
    files.mkdir()

    def open_(embedder=None, **overrides) -> Assistant:
        s = settings.model_copy(update={"chroma_url": None, **overrides})
        emb = embedder or fake_assistant.embedder
        return Assistant(s, Store.open(s.data_dir, None, s.collection, emb), emb)

    return StoreEnv(fake_assistant, files, open_)


@pytest.mark.parametrize("case", store_cases.CASES)
def test_store(case, env):
    case(env)


def test_embedded_store_lives_in_the_data_dir_and_survives_reopening(env, settings):
    env.assistant.ingest(env.seed())
    assert (settings.data_dir / "chroma" / "chroma.sqlite3").is_file()
    again = env.open()
    assert [a.title for a in again.articles()] == ["Russia envoy washington"]
    assert again.store.count() == env.assistant.store.count() == 6
    assert any("stalling for time" in p.text for p in again.search("stalling for time", k=3, mode="bm25"))


def test_writes_never_load_the_embedding_model(env, monkeypatch):
    # Chroma rebuilds the collection's embedding function from its stored config on every upsert;
    # that must not load the real model (0.3 s each time, and wrong for a library built with another embedder).
    import assistant.models.embed

    loads: list[str] = []

    def recording_make_embedder(spec, settings=None):
        loads.append(spec)
        return env.assistant.embedder

    monkeypatch.setattr(assistant.models.embed, "make_embedder", recording_make_embedder)
    env.assistant.ingest(env.seed())
    env.assistant.search("Is Russia stalling?", mode="hybrid")
    assert env.assistant.store.count() == 6
    assert loads == []
