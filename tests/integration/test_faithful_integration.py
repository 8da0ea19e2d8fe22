"""Faithful answers with the real bundled model: the judge's and the selector's output really is
constrained, and the product's own question gets an attributed answer citing the right sentence."""

from __future__ import annotations

import re

import pytest

from assistant.answer.pipeline import keys_grammar
from assistant.answer.entailment import YES_NO_GRAMMAR, Checker
from assistant.answer.guards import hedges

pytestmark = pytest.mark.integration

OPEN_PROMPT = [{"role": "user", "content": "Write two lines of a poem about the sea."}]


def test_the_yes_no_grammar_is_active(real_llm):
    free = real_llm.complete(OPEN_PROMPT, max_tokens=12, temperature=0.0).text.strip().lower()
    constrained = real_llm.complete(OPEN_PROMPT, max_tokens=12, temperature=0.0, grammar=YES_NO_GRAMMAR).text
    # llama.cpp falls back to free text when a grammar does not parse: the free reply proves it would show.
    assert free not in ("yes", "no")
    assert constrained.strip() in ("yes", "no")


def test_the_key_grammar_allows_only_known_keys(real_llm):
    out = real_llm.complete(OPEN_PROMPT, max_tokens=12, temperature=0.0, grammar=keys_grammar([2, 5, 11], 2)).text
    assert re.fullmatch(r"0|\[(2|5|11)\](, \[(2|5|11)\])?", out.strip()), out


def test_the_judge_rejects_a_flipped_claim_the_guards_miss(real_llm):
    # An antonym the guards have no pair for: only the judge can see it.
    ev = ["The central bank raised interest rates by half a point on Tuesday, its governor said."]
    checker = Checker(real_llm, constrain="grammar")
    assert checker.check("The governor said the central bank raised interest rates on Tuesday.", ev).supported
    bad = checker.check("The governor said the central bank lowered interest rates on Tuesday.", ev)
    assert not bad.supported and bad.layer in ("judge", "polarity")


def test_is_russia_stalling_gets_an_attributed_answer_citing_the_stalling_for_time_sentence(real_assistant, seed_dir):
    assert real_assistant.ingest([seed_dir]).added
    answer = real_assistant.ask("Is Russia stalling?")
    assert answer.answerable, answer.sentences
    assert any("stalling for time" in c.quote for c in answer.citations), answer.text
    assert "Yes, Russia is stalling" not in answer.text
    # Every sentence shown says who says so: a quote of the briefing, or the hedge the briefing uses.
    for sentence in re.split(r"(?<=\]\.)\s+|(?<=\])\s+(?=[A-Z])", answer.text):
        assert sentence.startswith("The briefing says:") or hedges(sentence), sentence
    for c in answer.citations:
        assert real_assistant.article(c.article_id).body[c.start:c.end] == c.quote


def test_the_marker_grammar_keeps_citations_to_existing_keys(real_llm):
    from assistant.answer.pipeline import marker_grammar

    prompt = [{"role": "user", "content": "<evidence>\n[9] The port of Kestrel reopened to cargo ships on Tuesday.\n"
                                          "</evidence>\n\nQuestion: When did the port reopen?\n"
                                          "Answer with citations like [9]:"}]
    free = real_llm.complete(prompt, max_tokens=20, temperature=0.0).text
    constrained = real_llm.complete(prompt, max_tokens=20, temperature=0.0, grammar=marker_grammar([1, 2])).text
    assert "[9]" in free  # the model would write the unknown key...
    assert set(re.findall(r"\[(\d+)\]", constrained)) <= {"1", "2"} and "[9]" not in constrained  # ...but cannot
