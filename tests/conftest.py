"""Shared fixtures: settings in a temp data dir, an assistant on a real embedded Chroma with a fake embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store

from .support.fakes import FakeEmbedder, ScriptedChat

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "briefings" / "russia-envoy-washington.txt"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # Tests must not pick up a developer's keys or endpoints.
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT)


@pytest.fixture
def settings(tmp_path) -> Settings:
    # Unit tests script one model reply per answer: one-step prose, guards without the model judge.
    # Quote and select styles, the judge and the short answer after a failed draft have tests of their own.
    return Settings(data_dir=tmp_path / "data", answer={"style": "prose", "judge": False, "short_answer": False})


@pytest.fixture
def chat() -> ScriptedChat:
    return ScriptedChat()


@pytest.fixture
def fake_assistant(settings, chat) -> Assistant:
    embedder = FakeEmbedder()
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    return Assistant(settings, store, embedder, llm=chat)


@pytest.fixture
def seed_dir(tmp_path) -> Path:
    d = tmp_path / "briefings"
    d.mkdir()
    shutil.copy(SEED, d / SEED.name)
    return d


@pytest.fixture(scope="session")
def real_llm():
    """The real bundled model behind llama.cpp's OpenAI-compatible server, shared by the session.

    The GGUF comes from the machine's model cache (BRIEFING_MODEL_CACHE, default ~/.cache/briefing-assistant):
    assembled at most once per machine, shared with every checkout, eval run and data dir.
    """
    from assistant.models.llm import chat_model_from_settings

    s = Settings(data_dir=ROOT / ".data" / "test-llm")
    model, closer = chat_model_from_settings(s)
    try:
        yield model
    finally:
        if closer is not None:
            closer()


@pytest.fixture
def real_assistant(tmp_path, real_llm):
    """An Assistant with every real part: packaged embedder, embedded Chroma, local model."""
    from assistant.models.embed import MiniLMEmbedder

    s = Settings(data_dir=tmp_path / "data")
    embedder = MiniLMEmbedder()
    store = Store.open(s.data_dir, None, s.collection, embedder)
    return Assistant(s, store, embedder, llm=real_llm)


def pytest_collection_modifyitems(config, items):
    """tests/integration/ holds exactly the tests marked `integration`: `make test-fast` (tests/unit and
    tests/component) must never start the real model, and must not lose a fast test to that folder."""
    integration = Path(__file__).resolve().parent / "integration"
    misplaced = [item.nodeid for item in items
                 if (item.get_closest_marker("integration") is not None) != (integration in item.path.parents)]
    if misplaced:
        raise pytest.UsageError("tests marked `integration` belong in tests/integration/ and only they do: "
                                + ", ".join(misplaced))
