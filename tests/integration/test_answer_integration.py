"""Real parts end to end: packaged embedder, embedded Chroma, the bundled model via the openai client."""

import pytest

from assistant.types import REFUSAL

from ..conftest import SEED

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(real_assistant, seed_dir):
    assert real_assistant.ingest([seed_dir]).added
    return real_assistant


def test_is_russia_stalling_is_answered_with_verbatim_citations(seeded):
    answer = seeded.ask("Is Russia stalling?")
    assert answer.answerable, answer.sentences
    assert answer.citations
    # The verdict first, with who holds it (issue 26 item 3), resting on the sentence that says so.
    assert answer.text.startswith("Many Western experts suspect so ["), answer.text
    seed_text = SEED.read_text(encoding="utf-8").strip("\n")
    for c in answer.citations:
        body = seeded.article(c.article_id).body
        assert body[c.start:c.end] == c.quote
        assert c.quote in seed_text
        assert 0.0 <= c.support <= 1.0
    assert answer.usage.get("completion_tokens", 0) > 0
    assert answer.timings["first_token_s"] <= answer.latency_s


def test_question_the_briefing_cannot_answer_is_refused(seeded):
    answer = seeded.ask("What is the population of Ukraine?")
    assert not answer.answerable
    assert answer.text == REFUSAL and answer.citations == []


def test_follow_up_uses_the_conversation(seeded):
    first = seeded.ask("What did China's foreign minister say about Russia?")
    follow = seeded.ask("Why does the US care about that?", history=[
        {"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}])
    assert follow.standalone_question and follow.standalone_question != follow.question
    for c in follow.citations:
        assert seeded.article(c.article_id).body[c.start:c.end] == c.quote


# Issue 26 items 3 and 8: the follow-up "Has either government confirmed it?" gets the "not confirmed" sentence
# in every run, and a question built on a false premise is answered with the sentence that contradicts it.
CONFIRMED = "which the Trump administration and the Kremlin have not confirmed"


def test_has_either_government_confirmed_it_gets_the_not_confirmed_sentence_every_time(seeded):
    first = seeded.ask("Who is Kirill Dmitriev meeting in Washington?")
    assert first.answerable and "Witkoff" in first.text
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    for run in range(3):
        follow = seeded.ask("Has either government confirmed it?", history=history)
        assert follow.answerable, (run, follow.text, follow.notes)
        # The sentence that answers leads: what the user reads first is that neither has confirmed it.
        assert CONFIRMED in follow.citations[0].quote, (run, follow.text)
        assert follow.text.startswith("No ["), (run, follow.text)  # the verdict, then that sentence
        for c in follow.citations:
            assert seeded.article(c.article_id).body[c.start:c.end] == c.quote


def test_a_false_premise_is_answered_with_the_sentence_that_contradicts_it(seeded):
    answer = seeded.ask("Why did the Kremlin confirm Dmitriev's visit?")
    assert answer.answerable and answer.citations, (answer.text, answer.notes)
    assert CONFIRMED in answer.citations[0].quote, answer.text
    # The correction first, in the question's words, checked against that sentence; then the sentence itself.
    assert answer.text.startswith("The Kremlin has not confirmed"), (answer.text, answer.notes)
    assert answer.usage.get("verdict_corrected") == 1, answer.usage
