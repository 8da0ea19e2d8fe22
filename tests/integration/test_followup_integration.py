"""Issue 26 items 3 and 8 with the real model: the follow-up "Has either government confirmed it?" gets the
"not confirmed" sentence in every run, and a question built on a false premise is answered with the sentence
that contradicts it."""

import pytest

pytestmark = pytest.mark.integration

CONFIRMED = "which the Trump administration and the Kremlin have not confirmed"


@pytest.fixture
def seeded(real_assistant, seed_dir):
    assert real_assistant.ingest([seed_dir]).added
    return real_assistant


def test_has_either_government_confirmed_it_gets_the_not_confirmed_sentence_every_time(seeded):
    first = seeded.ask("Who is Kirill Dmitriev meeting in Washington?")
    assert first.answerable and "Witkoff" in first.text
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    for run in range(3):
        follow = seeded.ask("Has either government confirmed it?", history=history)
        assert follow.answerable, (run, follow.text, follow.notes)
        # The sentence that answers leads: what the user reads first is that neither has confirmed it.
        assert CONFIRMED in follow.citations[0].quote, (run, follow.text)
        for c in follow.citations:
            assert seeded.article(c.article_id).body[c.start:c.end] == c.quote


def test_a_false_premise_is_answered_with_the_sentence_that_contradicts_it(seeded):
    answer = seeded.ask("Why did the Kremlin confirm Dmitriev's visit?")
    assert answer.answerable and answer.citations, (answer.text, answer.notes)
    assert CONFIRMED in answer.citations[0].quote, answer.text
