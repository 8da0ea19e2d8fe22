"""The draft's answer as a span of an evidence sentence: the direct answer to a "which / who / what" question
when the draft's own sentence does not pass the checks.

The small model often writes the answer inside the question turned into a statement ("California is represented
by congressman Kevin McCarthy, the Republican leader whose bid ... was blocked this week [1]"), citing a sentence
that does not hold the question's half. The claim fails, rightly, yet the words it adds to the question
("California") are the answer, and an evidence sentence may hold them word for word ("... the California
Republican can only afford to lose ..."). `answer_span` finds the longest run of those added words that an
evidence sentence contains; the pipeline shows it as the direct answer only with that sentence, quoted after it,
and only when that sentence passes the same "does it answer the question" check as any quote. So what is shown is
the briefing's own words twice: the span, and the sentence it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from .citations import MARKER, content_stems, normalise, with_markers
from .guards import negated_words
from .names import name_words
from .verify import Checked, question_proper, restates_question
from ..types import EvidenceSentence

# A sentence that holds the draft's answer word for word needs fewer of the question's words than other evidence
# to be asked whether it answers (the judge still decides): "the California Republican can only afford ..." has a
# quarter of the words of "Which US state is represented by congressman Kevin McCarthy, the Republican leader ...".
SPAN_SHARE = 0.25
MAX_SPAN_WORDS = 12  # a longer run is a sentence copied from the evidence, which the quote shows anyway
TOKEN = re.compile(r"[^\W_][\w'\u2019.$%-]*[\w%$]|[^\W_]|\$\d[\d.,]*", re.UNICODE)


@dataclass(frozen=True)
class Span:
    """Words of the draft that name the answer, and the evidence keys whose sentence holds them verbatim."""

    text: str
    keys: tuple[int, ...]


def answer_span(claims: Sequence[str], question: str, evidence: Sequence[EvidenceSentence]) -> Span | None:
    """The longest run of words a draft claim adds to the question that an evidence sentence holds verbatim.

    Runs are the claim's tokens between words the question has (stopwords may sit inside a run, not at its
    ends: "Three 6 Mafia", "the Windsor Framework" → "Windsor Framework"); each run is tried whole, then
    shorter from its end, so "Twitter Spaces, his social media company's platform" finds "Twitter Spaces".
    None for a question that does not ask for a name, number, date or place, and for a claim that only restates
    the question or adds nothing an evidence sentence holds."""
    if not asks_for_a_name(question):
        return None
    asked = content_stems(question)
    sentences = [(e.key, f" {plain(e.text)} ") for e in evidence]
    best: Span | None = None
    for claim in claims:
        text = MARKER.sub("", claim)
        if restates_question(text, question):
            continue
        for run in _runs(text, asked):
            for end in range(len(run), 0, -1):
                words = trim(run[:end])
                if not words or not content_stems(" ".join(words)) - asked:
                    continue
                needle = f" {plain(' '.join(words))} "
                keys = tuple(k for k, s in sentences if needle in s)
                if keys:
                    if best is None or len(words) > len(best.text.split()):
                        best = Span(" ".join(words), keys)
                    break
    return best


def _runs(text: str, asked: set[str]) -> list[list[str]]:
    """Maximal runs of tokens that are not content words of the question (at most MAX_SPAN_WORDS long). A run
    that a question word cuts inside a name ("... special envoy Steve" + "Witkoff") loses the name's first part."""
    runs, current = [], []
    for token in TOKEN.findall(text):
        stems = content_stems(token)
        if stems and stems <= asked:
            if current:
                if token[:1].isupper():
                    while current and current[-1][:1].isupper():
                        current.pop()
                runs.append(current)
            current = []
        else:
            current.append(token)
    if current:
        runs.append(current)
    return [r[:MAX_SPAN_WORDS] for r in runs if r and content_stems(" ".join(r))]


_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|may|might)"
# Questions whose answer is a name, a number, a date or a place: a span of words can answer them, as it cannot
# "what did they agree on" or "why". A quiz's fill-in ("relaunched as a service called:", "a record __%") too.
_ASKS_FOR_A_NAME = re.compile(r"\b(which|who|whom|whose|where|when)\b|\bhow (many|much|long|old|far|big)\b|"
                              r"\bwhat (is|was|are|were) (the|its|his|her|their) (name|title|number|amount|price|"
                              r"rate|date|age|total|figure|percentage)\b|:\s*$|_{2,}|"
                              # "What team does he play for?", "What percentage of ... is": a noun after "what"
                              rf"\bwhat (?!{_AUX}\b)[a-z]+ {_AUX}\b", re.I)


def asks_for_a_name(question: str) -> bool:
    """Does the question ask for a name, number, date or place (so that a few words can answer it)?"""
    return bool(_ASKS_FOR_A_NAME.search(question))


def trim(words: list[str]) -> list[str]:
    """Without function words at either end ("the", "a", "of", "and"): they are not part of a name."""
    start, end = 0, len(words)
    while start < end and not content_stems(words[start]) and not _NUMBER.match(words[start]):
        start += 1
    while end > start and not content_stems(words[end - 1]) and not _NUMBER.match(words[end - 1]):
        end -= 1
    return words[start:end]


_NUMBER = re.compile(r"^\$?\d")


def plain(text: str) -> str:
    """Lower-case words and numbers only, so "Twitter Spaces," and "Twitter Spaces" match."""
    return " ".join(TOKEN.findall(normalise(text)))


def with_direct_answer(words: str, quoted: Checked, index: int, note: str) -> list[Checked]:
    """`words` as the answer's opening sentence ("California [13].", "Many Western experts suspect so [3]."),
    citing the sentence they come from, then `quoted` (that sentence's checked quote) one sentence on."""
    words = words[:1].upper() + words[1:]
    key = quoted.keys[0]
    cites = tuple(replace(c, sentence_index=index) for c in quoted.citations)
    lead = Checked(words, with_markers(f"{words}.", [key]), cites, (key,), 1.0, note)
    after = tuple(replace(c, sentence_index=index + 1) for c in quoted.citations)
    return [lead, replace(quoted, citations=after)]


_OPENING = re.compile(r"^\s*(?:why\s+)?(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|"
                      r"shall|may|might|must)\b", re.I)
PREDICATE_WINDOW = 4  # words after the auxiliary in which the question's verb stands ("Has either government confirmed")


def denials(question: str, evidence: Sequence[EvidenceSentence]) -> list[int]:
    """Keys of evidence sentences that deny the verb of a yes/no or "why did ..." question and share another of its
    content words: "which the Trump administration and the Kremlin have not confirmed" for "Has either government
    confirmed ...?" (the answer: no) and for "Why did the Kremlin confirm the visit?" (a false premise).

    The verb is looked for among the first few words after the question's auxiliary, names left out. Such a
    sentence settles the question or corrects its premise, yet may hold few of its words (a follow-up rewritten
    with the whole earlier answer in it) and the 1.5B judge says it does not answer: the pipeline quotes it."""
    last = question_proper(question)
    opening = _OPENING.match(last)  # an auxiliary, or "why" and one, opens it
    if not opening:
        return []
    named = name_words(question)
    head = [w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019]*", last[opening.end():]) if w.lower() not in named]
    _, verb = negated_words(" ".join(head[:PREDICATE_WINDOW]))
    topic = content_stems(question)
    return [e.key for e in evidence
            if negated_words(e.text)[0] & verb and len(content_stems(e.text) & topic) >= 2]
