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
