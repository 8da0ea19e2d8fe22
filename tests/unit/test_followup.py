"""Which follow-up questions are rewritten against the conversation before retrieval."""

import pytest

from assistant.answer.followup import refers_back


@pytest.mark.parametrize("question", [
    "And China?", "What about Putin?", "Why?", "When is the meeting?", "Has either government confirmed it?",
    "Who is he meeting?", "Why does the US care about that?", "Did Putin agree?", "what did putin say about peace talks",
])
def test_a_question_that_refers_back_is_rewritten(question):
    assert refers_back(question)


@pytest.mark.parametrize("question", [
    "What did China's foreign minister say about relations with Russia?",
    "Who is Kirill Dmitriev expected to meet in Washington?",
    "How many barrels of Russian oil does China buy each day?",
])
def test_a_question_that_names_its_subject_is_not_rewritten(question):
    assert not refers_back(question)
