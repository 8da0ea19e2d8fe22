"""Metric functions: pure, on plain values, each defined with its formula in docs/evals.md.

Ranked lists are article ids in retrieval order (duplicates allowed: several passages of one
article); gold sets are article ids. Functions return floats in [0, 1] unless stated otherwise,
and None where a metric is undefined (e.g. refusal precision when nothing was refused).
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from ..answer.citations import MARKER, normalise

# --- retrieval -------------------------------------------------------------------------------


def first_gold_rank(ranked: Sequence[str], gold: set[str] | frozenset[str]) -> int | None:
    """1-based rank of the first passage of a gold article, or None."""
    for rank, aid in enumerate(ranked, 1):
        if aid in gold:
            return rank
    return None


def hits_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1.0 when a gold article is among the first k passages, else 0.0."""
    r = first_gold_rank(ranked[:k], gold)
    return 1.0 if r is not None else 0.0


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of the gold articles that have a passage among the first k: |gold ∩ top-k| / |gold|."""
    if not gold:
        return 0.0
    return len(gold & set(ranked[:k])) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """1/rank of the first gold passage within the first k, 0.0 when there is none (MRR@k per query)."""
    r = first_gold_rank(ranked[:k], gold)
    return 1.0 / r if r is not None else 0.0


def _norm_text(text: str) -> str:
    return normalise(text)


def evidence_found(texts: Sequence[str], evidence: Sequence[str]) -> list[bool]:
    """For each gold evidence quote: does one of the texts (chunks) contain it?

    Compared casefolded with quotes, Unicode and whitespace normalised.
    """
    hay = [_norm_text(t) for t in texts]
    return [any(_norm_text(e) in h for h in hay) for e in evidence]


def evidence_hit(texts: Sequence[str], evidence: Sequence[str]) -> float:
    """1.0 when any retrieved text contains any gold evidence quote."""
    return 1.0 if any(evidence_found(texts, evidence)) else 0.0


def evidence_recall(texts: Sequence[str], evidence: Sequence[str]) -> float:
    """Share of gold evidence quotes contained in some retrieved text."""
    found = evidence_found(texts, evidence)
    return sum(found) / len(found) if found else 0.0


def evidence_shown(shown: Sequence[str], evidence: Sequence[str], min_chars: int = 20) -> float:
    """1.0 when a sentence shown to the model overlaps a gold quote (either contains the other).

    Our sentence splitter may cut a gold sentence in two, so a shown piece of at least
    `min_chars` characters inside a gold quote counts too.
    """
    ev = [_norm_text(e) for e in evidence]
    for s in (_norm_text(t) for t in shown):
        if any(e in s or (len(s) >= min_chars and s in e) for e in ev):
            return 1.0
    return 0.0


# --- citations -------------------------------------------------------------------------------


def citation_validity(cited_keys: Sequence[int], shown_keys: Iterable[int]) -> tuple[int, int]:
    """(valid, total): how many of the keys the model wrote name evidence it was shown."""
    shown = set(shown_keys)
    return sum(1 for k in cited_keys if k in shown), len(cited_keys)


def is_verbatim(quote: str, body: str, start: int, end: int) -> bool:
    """True when the quote is exactly the article text at its offsets."""
    return bool(quote) and 0 <= start < end <= len(body) and body[start:end] == quote


Entails = Callable[[Sequence[str], str], bool]


@dataclass(frozen=True)
class SentenceCheck:
    """ALCE verdicts for one answer sentence."""

    text: str
    sources: tuple[str, ...]
    supported: bool  # its cited sources, joined, entail it
    irrelevant: tuple[int, ...] = ()  # positions (in sources) of citations judged irrelevant
    precise: int = 0  # citations counted as precise


@dataclass(frozen=True)
class AlceResult:
    """ALCE citation recall and precision of one answer, with the per-sentence checks."""

    recall: float
    precision: float
    citations: int
    sentences: list[SentenceCheck] = field(default_factory=list)


def alce(sentences: Sequence[tuple[str, Sequence[str]]], entails: Entails) -> AlceResult:
    """ALCE citation recall/precision (Gao et al. 2023) of one answer.

    `sentences` are (claim, cited source texts). A sentence is supported when it has citations and
    their concatenation entails it. Recall = supported sentences / sentences. A citation c of a
    sentence s with citations C is *irrelevant* when s is supported, |C| > 1, c alone does not
    entail s, and C without c still does. Precision = precise citations / all citations, where a
    citation is precise when its sentence is supported and it is not irrelevant (0 with no citations).
    """
    checks: list[SentenceCheck] = []
    supported_n, precise_n, total = 0, 0, 0
    for claim, cited in sentences:
        cited = tuple(cited)
        total += len(cited)
        joint = bool(cited) and bool(entails(cited, claim))
        supported_n += joint
        irrelevant: list[int] = []
        precise = 0
        if joint and len(cited) > 1:
            for j, c in enumerate(cited):
                if entails([c], claim):
                    precise += 1
                elif entails(cited[:j] + cited[j + 1:], claim):
                    irrelevant.append(j)
                else:
                    precise += 1
        elif joint:
            precise = len(cited)
        precise_n += precise
        checks.append(SentenceCheck(claim, cited, joint, tuple(irrelevant), precise))
    n = len(checks)
    return AlceResult(recall=supported_n / n if n else 0.0, precision=precise_n / total if total else 0.0,
                      citations=total, sentences=checks)


# --- refusals --------------------------------------------------------------------------------


def refusal_confusion(outcomes: Iterable[tuple[bool, bool]]) -> dict[str, dict[str, int]]:
    """Counts of (gold answerable?, assistant answered?) as a 2x2 confusion matrix."""
    m = {"answerable": {"answered": 0, "refused": 0}, "unanswerable": {"answered": 0, "refused": 0}}
    for gold_answerable, answered in outcomes:
        m["answerable" if gold_answerable else "unanswerable"]["answered" if answered else "refused"] += 1
    return m


def refusal_scores(m: dict[str, dict[str, int]]) -> dict[str, float | None]:
    """Refusal precision, recall and F1 (the positive class is 'refused'), answer rate on answerable
    questions, and accuracy of the answer/refuse decision. None when a denominator is 0."""
    tp = m["unanswerable"]["refused"]
    fp = m["answerable"]["refused"]
    fn = m["unanswerable"]["answered"]
    tn = m["answerable"]["answered"]
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = None
    if precision is not None and recall is not None:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "answer_rate": _ratio(tn, tn + fp),
            "accuracy": _ratio(tp + tn, tp + tn + fp + fn)}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


# --- correctness -----------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation + "\u2018\u2019\u201c\u201d\u2013\u2014"})


def answer_tokens(text: str) -> list[str]:
    """SQuAD-style normalised tokens: citation markers, punctuation and a/an/the removed, lowercased."""
    t = MARKER.sub(" ", text).lower().translate(_PUNCT)
    return _ARTICLES.sub(" ", t).split()


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall over the bags of normalised tokens."""
    p, r = answer_tokens(prediction), answer_tokens(reference)
    if not p or not r:
        return float(p == r)
    common = 0
    counts: dict[str, int] = {}
    for t in r:
        counts[t] = counts.get(t, 0) + 1
    for t in p:
        if counts.get(t, 0) > 0:
            counts[t] -= 1
            common += 1
    if not common:
        return 0.0
    prec, rec = common / len(p), common / len(r)
    return 2 * prec * rec / (prec + rec)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1: LCS/len(pred) and LCS/len(ref), harmonic mean, on normalised tokens."""
    p, r = answer_tokens(prediction), answer_tokens(reference)
    if not p or not r:
        return float(p == r)
    lcs = lcs_length(p, r)
    if not lcs:
        return 0.0
    prec, rec = lcs / len(p), lcs / len(r)
    return 2 * prec * rec / (prec + rec)


def must_mention(text: str, patterns: Sequence[str]) -> tuple[bool, list[str]]:
    """(all matched?, the patterns that did not match); regexes searched case-insensitively."""
    missed = [p for p in patterns if not re.search(p, text, re.I)]
    return not missed, missed


def must_not_mention(text: str, patterns: Sequence[str]) -> tuple[bool, list[str]]:
    """(none matched?, the patterns that matched); regexes searched case-insensitively."""
    said = [p for p in patterns if re.search(p, text, re.I)]
    return not said, said


# --- agreement (judge calibration) ------------------------------------------------------------


def binary_agreement(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """Accuracy, balanced accuracy, precision, recall, F1 (positive = True) and Cohen's kappa."""
    tp = sum(1 for g, p in zip(gold, pred) if g and p)
    tn = sum(1 for g, p in zip(gold, pred) if not g and not p)
    fp = sum(1 for g, p in zip(gold, pred) if not g and p)
    fn = sum(1 for g, p in zip(gold, pred) if g and not p)
    n = tp + tn + fp + fn
    acc = (tp + tn) / n if n else 0.0
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    spec = tn / (tn + fp) if tn + fp else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    pe = (((tp + fp) * (tp + fn)) + ((tn + fn) * (tn + fp))) / (n * n) if n else 0.0
    kappa = (acc - pe) / (1 - pe) if pe < 1 else 0.0
    return {"n": n, "positives": tp + fn, "accuracy": acc, "balanced_accuracy": (rec + spec) / 2,
            "precision": prec, "recall": rec, "f1": f1, "kappa": kappa}


def best_threshold(scores: Sequence[float], labels: Sequence[bool], key: str = "balanced_accuracy",
                   grid: Sequence[float] | None = None) -> tuple[float, dict[str, float]]:
    """The threshold t (predict True when score >= t) that maximises `key`; ties go to the lowest t."""
    grid = grid if grid is not None else [i / 100 for i in range(101)]
    best_t, best = grid[0], binary_agreement(labels, [s >= grid[0] for s in scores])
    for t in grid[1:]:
        got = binary_agreement(labels, [s >= t for s in scores])
        if got[key] > best[key] + 1e-12:
            best_t, best = t, got
    return best_t, best


# --- aggregation -----------------------------------------------------------------------------


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    vals = sorted(float(v) for v in values)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def distribution(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """n, mean, p50, p90, p95 and max of the values that are not None."""
    vals = [float(v) for v in values if v is not None]
    return {"n": len(vals), "mean": mean(vals), "p50": percentile(vals, 50), "p90": percentile(vals, 90),
            "p95": percentile(vals, 95), "max": max(vals) if vals else None}
