"""Faithful answers with the real bundled model: the judge's and the selector's output really is
constrained, and the product's own question gets an attributed answer citing the right sentence."""

from __future__ import annotations

import re

import pytest

from assistant.answer.selection import keys_grammar
from assistant.answer.entailment import YES_NO_GRAMMAR, Checker
from assistant.answer.injection import defang

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


# Who says so in each sentence of the seed briefing an answer about stalling may cite, labelled by hand from the
# article (not by the checker): a sentence in the answer's own words must keep it, one requirement per tuple, any of
# its words will do. A hedge word alone ("can", "would", "said") is not the attribution: "Russia can stall, experts
# said" keeps neither who suspects it nor that they only suspect it.
ATTRIBUTION = {
    "stalling for time": (("Western experts", "experts"), ("suspect", "suspects", "suspected")),
    "contradictory messages": (("Russian officials",),),
    "played down the likelihood": (("Putin", "Russian leader"), ("privately", "played down", "plays down")),
    "lengthy affair": (("Putin", "Russian leader"), ("said", "says", "reportedly")),
    "Time is on our side": (("diplomat",),),
    "slowwalking": (("White House",), ("reportedly",)),
    "seemingly stalled negotiations": (("may", "seemingly", "might"),),
    "Senior Trump administration officials": (("Reuters",),),
}
QUOTED = re.compile(r"^The briefing says: \u201c(.*)\u201d\s*((?:\[\d+\])+)\.?$", re.S)


def attribution_kept(sentence: str, quotes: list[str], question: str = "") -> str:
    """"" when the shown sentence quotes its citation exactly, or restates it with the speaker and stance the
    article gives (ATTRIBUTION); else why not. A verdict ("Many Western experts suspect so") restates the clause
    the question asks about: the question's words choose that clause, the sentence must still keep its speaker."""
    m = QUOTED.match(sentence)
    if m:
        return "" if any(defang(q) == m.group(1) for q in quotes) else f"not the exact quote of its citation: {sentence}"
    said = sentence.lower()
    for q in quotes:
        labels = {phrase: need for phrase, need in ATTRIBUTION.items() if phrase in q}
        if not labels:
            return f"cites a sentence whose attribution is not labelled here (add it to ATTRIBUTION): {q}"
        # A cited sentence with two clauses ("officials offered contradictory messages: experts suspect they are
        # stalling"): the clauses the shown sentence restates (a word of the labelled phrase), else all of them.
        topic = f"{said} {question.lower()}" if re.search(r"\bso\b", said) else said
        about = {p: n for p, n in labels.items() if any(w[:5].lower() in topic for w in p.split() if len(w) > 3)}
        for phrase, need in (about or labels).items():
            missing = [words for words in need if not any(w.lower() in said for w in words)]
            if missing:
                return f"drops who says so ({' / '.join(missing[0])}) of {phrase!r}: {sentence}"
    return ""


def test_is_russia_stalling_gets_an_attributed_answer_citing_the_stalling_for_time_sentence(real_assistant, seed_dir):
    assert real_assistant.ingest([seed_dir]).added
    answer = real_assistant.ask("Is Russia stalling?")
    assert answer.answerable, answer.sentences
    assert any("stalling for time" in c.quote for c in answer.citations), answer.text
    assert "Yes, Russia is stalling" not in answer.text
    # Every sentence shown is an exact quote of what it cites, or keeps the speaker and stance the article gives.
    shown = [s for s in answer.sentences if s.kept]
    assert " ".join(s.text for s in shown) == answer.text
    by_key = {c.key: c.quote for c in answer.citations}
    problems = [why for s in shown
                if (why := attribution_kept(s.text, [by_key[k] for k in s.keys], "Is Russia stalling?"))]
    assert not problems, problems
    for c in answer.citations:
        assert real_assistant.article(c.article_id).body[c.start:c.end] == c.quote


def test_the_marker_grammar_keeps_citations_to_existing_keys(real_llm):
    from assistant.answer.selection import marker_grammar

    prompt = [{"role": "user", "content": "<evidence>\n[9] The port of Kestrel reopened to cargo ships on Tuesday.\n"
                                          "</evidence>\n\nQuestion: When did the port reopen?\n"
                                          "Answer with citations like [9]:"}]
    free = real_llm.complete(prompt, max_tokens=20, temperature=0.0).text
    constrained = real_llm.complete(prompt, max_tokens=20, temperature=0.0, grammar=marker_grammar([1, 2])).text
    assert "[9]" in free  # the model would write the unknown key...
    assert set(re.findall(r"\[(\d+)\]", constrained)) <= {"1", "2"} and "[9]" not in constrained  # ...but cannot
