"""The composition root hands each answer pipeline exactly what it needs (issue 18): an Answerer works
without an Assistant, and the chat model is started on first use, never when the parts are built."""

from __future__ import annotations

import pytest

from assistant.answer.pipeline import Answerer
from assistant.answer.timeline import Timeline
from assistant.assistant import Assistant
from assistant.models.lazy import LazyChat
from assistant.search.retrieve import Filters
from assistant.types import REFUSAL, AnswerEvent, EvidenceEvent, final_answer

from ..support.fakes import ScriptedChat


def test_an_answerer_built_from_parts_answers_like_the_assistant(fake_assistant, seed_dir, chat):
    a = fake_assistant
    assert a.ingest([seed_dir]).added
    # Only the parts: a store stands in for the library (it has bodies()).
    answerer = Answerer(a.retriever, a.embedder, chat, a.store, a.settings)
    q = "Is Russia stalling for time?"
    chat.enqueue(REFUSAL)  # a first run finds the evidence key
    events = list(answerer.stream(q, history=None, k=None, filters=Filters()))
    assert isinstance(events[0], EvidenceEvent) and isinstance(events[-1], AnswerEvent)
    key = next(e.key for e in events[0].evidence if "stalling for time" in e.text)
    chat.enqueue(f"Many Western experts suspect Russian officials are stalling for time as Russian troops make "
                 f"progress [{key}].")
    answer = final_answer(answerer.stream(q, history=None, k=None, filters=Filters()))
    assert answer.answerable and [c.key for c in answer.citations] == [key]
    assert answer.settings_hash == a.settings.settings_hash()
    assert isinstance(Timeline(answerer).answerer, Answerer)


def test_final_answer_is_the_last_answer_event_and_a_stream_without_one_is_an_error():
    from assistant.types import Answer

    first = Answer(question="q", text=REFUSAL, answerable=False, citations=[], passages=[])
    last = Answer(question="q", text="x", answerable=True, citations=[], passages=[])
    assert final_answer(iter([object(), AnswerEvent(first), object(), AnswerEvent(last)])) is last
    with pytest.raises(RuntimeError):
        final_answer(iter([object()]))


def test_the_chat_model_starts_on_first_use_once_and_is_stopped_by_close(settings, fake_assistant):
    started: list[str] = []
    stopped: list[str] = []

    def start():
        started.append("x")
        return ScriptedChat(), lambda: stopped.append("x")

    lazy = LazyChat(start)
    assert lazy.peek() is None and not started  # building it starts nothing
    model = lazy.get()
    assert lazy.get() is model and started == ["x"]
    assert lazy.complete == model.complete and lazy.name == "scripted"  # the model's own attributes, through the handle
    lazy.stop()
    assert stopped == ["x"]

    # The Assistant builds its pipelines at once but starts no model; a swapped model is used by the next answer.
    a = Assistant(settings, fake_assistant.store, fake_assistant.embedder)
    assert a._llm is None
    other = ScriptedChat()
    a._llm = other
    assert a.llm is other and a.answerer.llm.complete == other.complete


def test_the_ingestor_works_without_an_assistant(settings, seed_dir):
    """The Ingestor gets exactly its parts (store, embedder, chunker, settings): an ingest needs no
    Assistant, no model and no retriever, and is idempotent on its own."""
    from assistant.ingest.chunk import Chunker
    from assistant.ingest.pipeline import Ingestor
    from assistant.search.store import Store

    from assistant.ingest.chunk import chunk_article
    from assistant.ingest.files import read_file

    from ..conftest import SEED
    from ..support.fakes import FakeEmbedder

    embedder = FakeEmbedder()
    store = Store.open(settings.data_dir, None, settings.collection, embedder)
    cut = Chunker.from_settings(settings)
    ingestor = Ingestor(store, embedder, cut, settings)
    first = ingestor.ingest(seed_dir)
    [article] = list(read_file(seed_dir / SEED.name, 10 * 2**20))
    assert first.added == [article.id] and first.failed == []
    assert first.chunks_written == len(cut(article)) == store.count() > 0
    assert cut(article) == chunk_article(article, settings.chunk_size, settings.chunk_overlap)
    again = ingestor.ingest([seed_dir])
    assert again.added == [] and again.unchanged == [article.id] and again.chunks_written == 0
