"""As a user sees it: a dated question over an archive answers from its own time, or says what it left out."""

from __future__ import annotations

import json

from assistant.types import REFUSAL

from ..support.fakes import FakeEmbedder, ScriptedChat

QUESTION = "Which football team won the Carabao Cup final on Sunday?"


def _assistant(settings, tmp_path, chat):
    from assistant.assistant import Assistant
    from assistant.search.store import Store

    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps({"id": "final-2022", "title": "Liverpool win the Carabao Cup", "published": "2022-02-27",
                                 "body": "Liverpool won the Carabao Cup final on Sunday after a penalty shootout."})
                     + "\n", encoding="utf-8")
    embedder = FakeEmbedder()
    a = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder, llm=chat)
    a.ingest([pages])
    return a


def test_last_years_final_does_not_answer_this_weeks_question_and_the_answer_says_what_was_left_out(settings, tmp_path):
    chat = ScriptedChat()
    a = _assistant(settings, tmp_path, chat)
    answer = a.ask(QUESTION, as_of="2023-03-03")
    assert (answer.text, answer.answerable) == (REFUSAL, False)
    assert any("Left out 1 briefing(s)" in n and "2022-02-27: Liverpool win the Carabao Cup" in n
               for n in answer.notes), answer.notes
    assert not chat.history  # nothing left to read: the model was not asked


def test_as_of_its_own_week_the_same_story_answers(settings, tmp_path):
    chat = ScriptedChat()
    a = _assistant(settings, tmp_path, chat)
    chat.enqueue("Liverpool won the Carabao Cup final on Sunday [1].")
    answer = a.ask(QUESTION, as_of="2022-02-28")
    assert answer.answerable and answer.citations, (answer.text, answer.notes)
    assert not any("Left out" in n for n in answer.notes)
