"""Is the answer right? Scores of one answer against the gold answer, and their breakdown by type.

- answer accuracy (judged): the support judge asked whether the answer text states the gold
  answer (the gold answer is the claim, the answer text its only source). A refusal of an
  answerable question states nothing: 0.
- exact match: the normalised gold answer appears as a contiguous token run in the answer
  (ASQA's "STR-EM"; a whole-string match would be 0 for any sentence-long answer).
- choice accuracy (quiz rows with `choices` and `answer_index`): which choice the answer states
  (`stated_choice`), compared with the gold index.

Formulas: docs/evals.md.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from . import metrics as M
from ..sentences import sentence_spans

Entails = Callable[[Sequence[str], str], bool]


def _contains(hay: list[str], needle: list[str]) -> bool:
    if not needle or len(needle) > len(hay):
        return False
    n = len(needle)
    return any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised gold tokens occur, in order and contiguous, in the prediction."""
    return 1.0 if _contains(M.answer_tokens(prediction), M.answer_tokens(gold)) else 0.0


def stated_choice(answer: str, choices: Sequence[str]) -> int | None:
    """The index of the choice the answer states, None when it states none (or is ambiguous).

    An answer that opens with its direct answer is read as a reader reads it: the one choice its first sentence
    names wins ("Buffalo Bills. The briefing says: “… against the Cincinnati Bengals …”" states the Bills).
    Otherwise the whole answer is read: a choice is stated when its normalised tokens occur contiguously in the
    answer; of several, the longest wins (so "New York City" beats "New York"), a tie between different choices
    is ambiguous. Without any contiguous match, the choice whose tokens are most covered by the answer wins when
    at least 60 % of them are there and no other choice is as covered.
    """
    spans = sentence_spans(answer)
    if len(spans) > 1:
        lead = _stated(answer[spans[0][0]:spans[0][1]], choices, covered=False)
        if lead is not None:
            return lead
    return _stated(answer, choices, covered=True)


def _stated(answer: str, choices: Sequence[str], covered: bool) -> int | None:
    tokens = M.answer_tokens(answer)
    if not tokens:
        return None
    hits = [(len(M.answer_tokens(c)), i) for i, c in enumerate(choices) if _contains(tokens, M.answer_tokens(c))]
    if hits:
        hits.sort(reverse=True)
        if len(hits) > 1 and hits[0][0] == hits[1][0]:
            return None
        return hits[0][1]
    if not covered:
        return None
    have = set(tokens)
    cover = []
    for i, c in enumerate(choices):
        ct = M.answer_tokens(c)
        cover.append((sum(1 for t in ct if t in have) / len(ct) if ct else 0.0, i))
    cover.sort(reverse=True)
    if cover and cover[0][0] >= 0.6 and (len(cover) == 1 or cover[1][0] < cover[0][0]):
        return cover[0][1]
    return None


def score_answer(text: str, answered: bool, gold: str | None, choices: Sequence[str], answer_index: int | None,
                 entails: Entails | None) -> dict[str, float | None]:
    """Per-question correctness metrics (keys under 'correctness.'); only those that apply are set.

    `text` is the answer as shown with citation markers removed. `entails(sources, claim)` is the
    support judge; None skips the judged accuracy.
    """
    out: dict[str, float | None] = {}
    if gold:
        out["correctness.exact_match"] = exact_match(text, gold) if answered else 0.0
        if entails is not None:
            out["correctness.answer_accuracy"] = (1.0 if answered and entails([text], gold) else 0.0)
    if choices and answer_index is not None:
        out["correctness.choice_accuracy"] = 1.0 if answered and stated_choice(text, choices) == answer_index else 0.0
    return out


BY_TYPE_KEYS = ("correctness.answer_accuracy", "correctness.exact_match", "correctness.token_f1",
                "correctness.choice_accuracy", "correctness.must_mention", "correctness.must_not_mention")


def by_type(cases: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Metrics per question type (cases whose item had a `type`): n, correctness means, refusal scores."""
    groups: dict[str, list[Any]] = {}
    for c in cases:
        if getattr(c, "qtype", "") and not c.error:
            groups.setdefault(c.qtype, []).append(c)
    out: dict[str, dict[str, Any]] = {}
    for name, group in sorted(groups.items()):
        row: dict[str, Any] = {"n": len(group)}
        for key in BY_TYPE_KEYS:
            row[key.split(".", 1)[1]] = M.mean(c.metrics.get(key) for c in group)
        scores = M.refusal_scores(M.refusal_confusion((c.gold_answerable, c.answered) for c in group))
        row.update({"refusal_f1": scores["f1"], "answer_rate": scores["answer_rate"]})
        out[name] = row
    return out
