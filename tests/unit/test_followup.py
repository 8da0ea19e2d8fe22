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


def test_earlier_answers_reach_the_rewrite_cut_after_their_opening():
    from assistant.answer.followup import MAX_ANSWER_CHARS, _shortened

    lead = "Assistant: Many Western experts suspect so [15]. "
    quote = "The briefing says: \u201c" + "Russian officials have offered contradictory messages. " * 8 + "\u201d [15] "
    line = lead + quote + "The briefing says: \u201cA second quote the follow-up cannot need.\u201d [1]"
    cut = _shortened(line)
    assert cut.startswith(lead) and "second quote" not in cut and cut.endswith("\u2026")
    assert MAX_ANSWER_CHARS <= len(cut) < len(line)
    assert _shortened("User: " + "why " * 200) == "User: " + "why " * 200  # the user's own words stay whole
    assert _shortened("Assistant: Short [1].") == "Assistant: Short [1]."
