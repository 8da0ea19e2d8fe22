"""What the model reads, in context: whole articles when every retrieved article fits the evidence budget,
else the retrieved passages, each widened back by one sentence when it opens on a pronoun.

Why: isolated best sentences lose who "he" is ("On Wednesday, he still insisted he wasn't going to
resign."), and a small model then refuses or guesses (issue 26: 3 of 8 refused news questions). Whole
articles also give the same evidence block for every question about the same briefings, so the model
server reuses the prompt prefix it has already read (llama.cpp keeps the KV cache of the last prompt)
and reads only the question: the evidence layout "articles" (evidence.select_evidence) lays them out in
a canonical order for that reason. Too long to read whole, the passages are widened and their best
sentences chosen as in layout "sentences".
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Sequence

from ..sentences import sentence_spans
from ..types import EvidenceSentence, Passage

# A sentence opening on one of these points back to the sentence before it for its subject.
_BACK_REFERENCE = re.compile(
    r"^[\"\u201c\u2018']?(?:he|she|they|it|his|her|their|its|him|them|this|that|these|those|the two|both)\b",
    re.I)


# "The Russian leader reportedly said ...": a role, not a name, standing for someone the sentence before names. A
# nationality-like adjective (-an, -ian, -ese, -ish, -i) may come between ("The British analyst"), a name may not
# ("The White House", "The European Space Agency" name themselves).
_DESCRIPTION = re.compile(r"^[\"\u201c\u2018']?the\s+(?:[A-Z][a-z]+(?:an|ese|ish|i)\s+)?[a-z]+\b(?!\s+[A-Z])")


def opens_on_pronoun(sentence: str) -> bool:
    """True when the sentence's first word points back to an earlier one ("He said …", "This comes …")."""
    return bool(_BACK_REFERENCE.match(sentence.strip()))


def opens_on_reference(sentence: str) -> bool:
    """A pronoun opening, or a role standing for someone named before ("The Russian leader said …")."""
    text = sentence.strip()
    return opens_on_pronoun(text) or bool(_DESCRIPTION.match(text[:1].lower() + text[1:]))


def whole_articles(passages: Sequence[Passage], bodies: dict[str, str], budget_tokens: int,
                   count: Callable[[str], int]) -> list[Passage] | None:
    """One whole-article passage per retrieved article when all of them fit `budget_tokens` together, else None."""
    order = list(dict.fromkeys(p.article_id for p in passages))
    if not order or not all(a in bodies for a in order):
        return None
    if sum(_keyed_cost(bodies[a], count) for a in order) > budget_tokens:
        return None
    return [_whole(a, passages, bodies[a]) for a in order]


def widen(passages: Sequence[Passage], bodies: dict[str, str]) -> list[Passage]:
    """The retrieved passages, each widened back by one sentence when it opens on a pronoun."""
    return [_widened(p, bodies.get(p.article_id, "")) for p in passages]


def _keyed_cost(body: str, count: Callable[[str], int]) -> int:
    # As evidence.select_evidence prices a sentence in reading order: its tokens and ~4 for its key.
    return sum(count(body[s:e]) + 4 for s, e in sentence_spans(body))


def _whole(article_id: str, passages: Sequence[Passage], body: str) -> Passage:
    best = max((p for p in passages if p.article_id == article_id), key=lambda p: p.score)
    return replace(best, text=body, start=0, end=len(body), section="")


def _widened(p: Passage, body: str) -> Passage:
    """The passage with the sentence before it prepended when its first sentence opens on a pronoun."""
    if not body or body[p.start:p.end] != p.text:
        return p
    first = sentence_spans(p.text, offset=p.start)
    if not first or not opens_on_pronoun(body[first[0][0]:first[0][1]]):
        return p
    before = [s for s in sentence_spans(body[:p.start]) if s[1] <= p.start]
    if not before:
        return p
    start = before[-1][0]
    return replace(p, text=body[start:p.end], start=start)


def attach_chunks(evidence: Sequence[EvidenceSentence], passages: Sequence[Passage]) -> list[EvidenceSentence]:
    """Each evidence sentence with the id of the retrieved chunk that holds it (a whole-article passage
    carries its best chunk's id), so a citation points at the stored chunk its sentence is in."""
    out = []
    for e in evidence:
        holder = next((p for p in passages if p.article_id == e.article_id and p.start <= e.start < p.end), None)
        out.append(replace(e, chunk_id=holder.chunk_id) if holder is not None and holder.chunk_id != e.chunk_id else e)
    return out
