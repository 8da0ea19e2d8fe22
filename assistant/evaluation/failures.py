"""Why an answer was wrong: each wrong answer of an answerable question gets one cause, the first stage of
the pipeline at which the gold answer was lost.

- retrieval miss: the gold answer is in none of the passages retrieved for the answer;
- evidence miss: it is in a retrieved passage but not in what the model read (the evidence);
- draft refused: the model read it and its draft refused;
- draft wrong: the draft states another answer (or none);
- rejected by the checks: the draft states the gold answer and the checks refused the whole answer;
- shown answer misses it: the draft states it, but what the user was shown (another claim, a quote) does not.

An unanswerable question that was answered is "answered unanswerable". A question is right when the
shown answer states the gold answer: the quiz choice where the row has choices, else the gold answer's
tokens in order (exact match). The naive pipeline has no draft apart from its answer, so its causes stop
at "draft refused" / "draft wrong".
"""

from __future__ import annotations

from typing import Any, Sequence

from ..answer.citations import MARKER, is_refusal, split_answer
from . import correctness as C

CAUSES = ("retrieval miss", "evidence miss", "draft refused", "draft wrong", "rejected by the checks",
          "shown answer misses it", "answered unanswerable")


def states_gold(text: str, reference: str | None, choices: Sequence[str], answer_index: int | None) -> bool:
    """True when `text` states the gold answer (the quiz choice, else the reference's tokens in order)."""
    if not text:
        return False
    if choices and answer_index is not None:
        return C.stated_choice(text, choices) == answer_index
    return bool(reference) and C.exact_match(text, reference) == 1.0


def _holds(texts: Sequence[str], reference: str | None, choices: Sequence[str], answer_index: int | None) -> bool:
    # The gold answer's words in order somewhere in these texts; for a quiz, the gold choice's words
    # (another choice's words in the same text do not matter here: the text holds the gold one).
    gold = choices[answer_index] if choices and answer_index is not None else reference
    return bool(gold) and any(C.exact_match(t, gold) == 1.0 for t in texts)


def cause(item: Any, answer: Any) -> str | None:
    """The cause of a wrong answer (one of CAUSES), None when the answer is right or rightly refused."""
    shown = MARKER.sub("", answer.text or "")
    if not item.answerable:
        return "answered unanswerable" if answer.answerable else None
    ref, choices, idx = item.reference, tuple(item.choices), item.answer_index
    if answer.answerable and states_gold(shown, ref, choices, idx):
        return None
    if not _holds([p.text for p in answer.passages], ref, choices, idx):
        return "retrieval miss"
    if not _holds([e.text for e in answer.evidence], ref, choices, idx):
        return "evidence miss"
    draft = MARKER.sub("", answer.raw_text or "")
    sentences = split_answer(answer.raw_text or "")
    if not draft.strip() or all(is_refusal(s) for s, _ in sentences):
        return "draft refused"
    if not states_gold(draft, ref, choices, idx):
        return "draft wrong"
    return "rejected by the checks" if not answer.answerable else "shown answer misses it"


def breakdown(causes: Sequence[str | None]) -> dict[str, int]:
    """How many answers each cause took (every cause listed, zeros included), plus "right"."""
    out = {c: 0 for c in CAUSES}
    out["right"] = 0
    for c in causes:
        out[c or "right"] += 1
    return out
