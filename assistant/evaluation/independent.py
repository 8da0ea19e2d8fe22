"""Eval metrics the product cannot grade itself: each compares what the user was shown with the dataset's
gold labels, by string rules, and never asks the product's checker or model.

- gold_evidence_cited (answerable rows with gold evidence quotes): a shown citation's quote is, or lies
  inside, one of the row's gold evidence sentences (metrics.evidence_shown). A refusal cites nothing: 0.
- gold_answer_stated (answerable rows): the shown answer states the gold answer: the quiz choice where the
  row has choices, else every must_mention pattern, else the reference's tokens in order (exact match).
  A refusal states nothing: 0.
- addresses_question (answerable rows that were answered): the answer's first shown sentence states the
  gold answer. A quote that does not hold the gold answer is not an answer, however faithful it is.
- unanswerable_refused (unanswerable rows): the product refused.

The ALCE numbers are graded by the product's own checker (the same guards and model that chose what to
show), so they are reported beside these, labelled, and not gated. `rescore(report)` computes these from a
saved report.json, so a committed run can be measured again without the model (formulas: docs/evals.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..answer.citations import MARKER
from . import correctness as C
from . import metrics as M

KEYS = ("gold_evidence_cited", "gold_answer_stated", "addresses_question", "unanswerable_refused")


@dataclass(frozen=True)
class Gold:
    """What the dataset row says is right."""

    answerable: bool
    reference: str | None = None
    must_mention: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    answer_index: int | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shown:
    """What the user was shown: whether it answered, its sentences in order and the quotes it cited."""

    answered: bool
    sentences: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()


def states_answer(text: str, gold: Gold) -> bool:
    """True when `text` states the gold answer (quiz choice, else all must_mention, else exact match)."""
    text = MARKER.sub("", text or "")
    if not text.strip():
        return False
    if gold.choices and gold.answer_index is not None:
        return C.stated_choice(text, gold.choices) == gold.answer_index
    if gold.must_mention:
        # The row's own statement of what the answer must contain: a full-sentence reference would
        # need the answer's exact wording, which no rewording or quote has.
        return M.must_mention(text, gold.must_mention)[0]
    return bool(gold.reference) and C.exact_match(text, gold.reference) == 1.0


def case_scores(shown: Shown, gold: Gold) -> dict[str, float]:
    """This question's independent metrics (only those that apply), keyed by KEYS."""
    if not gold.answerable:
        return {"unanswerable_refused": 0.0 if shown.answered else 1.0}
    stated = shown.answered and states_answer(" ".join(shown.sentences), gold)
    out = {"gold_answer_stated": 1.0 if stated else 0.0}
    if shown.answered:
        lead = shown.sentences[0] if shown.sentences else ""
        out["addresses_question"] = 1.0 if states_answer(lead, gold) else 0.0
    if gold.evidence:
        cited = shown.answered and M.evidence_shown(shown.quotes, gold.evidence) == 1.0
        out["gold_evidence_cited"] = 1.0 if cited else 0.0
    return out


def aggregate(per_case: Iterable[Mapping[str, float]]) -> dict[str, float | int | None]:
    """Run-level means of each key over the questions it applies to, with how many that was (n_*)."""
    rows = list(per_case)
    out: dict[str, float | int | None] = {}
    for key in KEYS:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = M.mean(values)
        out[f"n_{key}"] = len(values)
    return out


def gold_of(case: Mapping[str, Any]) -> Gold:
    """The gold labels a saved case (report.json) carries."""
    idx = case.get("answer_index")
    return Gold(answerable=bool(case["gold_answerable"]), reference=case.get("reference"),
                must_mention=tuple(case.get("must_mention") or ()), choices=tuple(case.get("choices") or ()),
                answer_index=int(idx) if idx is not None else None,
                evidence=tuple(e["quote"] for e in case.get("evidence") or ()))


def shown_of(case: Mapping[str, Any]) -> Shown:
    """What a saved case (report.json) showed: its scored sentences are the shown ones, in order."""
    return Shown(answered=bool(case["answered"]), sentences=tuple(s["text"] for s in case.get("sentences") or ()),
                 quotes=tuple(c["quote"] for c in case.get("citations") or ()))


def rescore(report: Mapping[str, Any]) -> dict[str, float | int | None]:
    """The independent metrics of a saved report.json's cases (errored cases left out, as in the run)."""
    cases: Sequence[Mapping[str, Any]] = [c for c in report["cases"] if not c.get("error")]
    return aggregate(case_scores(shown_of(c), gold_of(c)) for c in cases)
