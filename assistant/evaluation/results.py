"""The records of an eval run (one CaseResult per question, the EvalResult of the whole run) and the
headline metrics read from them, shared by the runner, the reports and their plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..types import to_jsonable

# (metric path, label) of the 0..1 metrics shown in the bar plot and the summary table. The ALCE
# numbers are the judge's; "similarity" is the retrieval score, shown apart and named as such. The
# "independent." ones compare what was shown with the dataset's gold labels (independent.py): they are
# what evals/thresholds.json gates, as the product cannot grade them itself.
SELF_GRADED = ("citations.alce_recall", "citations.alce_precision", "correctness.answer_accuracy")
HEADLINE = (
    ("independent.gold_evidence_cited", "Gold evidence sentence cited (gold labels)"),
    ("independent.gold_answer_stated", "Gold answer stated (gold labels)"),
    ("independent.addresses_question", "Lead sentence states the gold answer (gold labels)"),
    ("independent.unanswerable_refused", "Unanswerable refused (gold labels)"),
    ("retrieval.hits@5", "Hits@5"), ("retrieval.recall@10", "Recall@10"), ("retrieval.mrr@10", "MRR@10"),
    ("retrieval.evidence_hits@10", "Evidence hits@10"), ("citations.validity", "Citation validity"),
    ("citations.alce_recall", "ALCE recall (graded by the product's own checker)"),
    ("citations.alce_precision", "ALCE precision (graded by the product's own checker)"),
    ("citations.similarity", "similarity (not a judge)"),
    ("refusals.precision", "Refusal precision"), ("refusals.recall", "Refusal recall"),
    ("refusals.f1", "Refusal F1"), ("refusals.answer_rate", "Answer rate (answerable)"),
    ("correctness.answer_accuracy", "Answer accuracy (graded by the product's own checker)"), ("correctness.exact_match", "Exact match (str-em)"),
    ("correctness.token_f1", "Token F1"), ("correctness.choice_accuracy", "Choice accuracy (quiz)"),
    ("citations.gold_cited", "Gold article cited"),
    ("correctness.must_mention", "must_mention pass"), ("correctness.must_not_mention", "must_not_mention pass"),
    ("correctness.rougeL", "ROUGE-L"),
)
COUNTS = (("citations.unverified_shown", "Sentences shown without a verified citation (must be 0)"),
          ("citations.shown_sentences", "Sentences shown"))


def get(metrics: dict[str, Any], path: str) -> Any:
    """A metric by dotted path ('citations.alce_recall'), None when absent."""
    node: Any = metrics
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@dataclass
class CaseResult:
    """Everything measured for one question (JSON-ready through to_jsonable)."""

    id: str
    question: str
    gold_answerable: bool
    answered: bool = False
    answer: str = ""
    raw_answer: str = ""
    standalone_question: str = ""
    model: str = ""
    reference: str | None = None
    must_mention: list[str] = field(default_factory=list)
    missed_patterns: list[str] = field(default_factory=list)
    said_patterns: list[str] = field(default_factory=list)  # must_not_mention patterns the answer matched
    gold_ids: list[str] = field(default_factory=list)
    unresolved_gold: list[str] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    error: str = ""
    qtype: str = ""
    choices: list[str] = field(default_factory=list)
    answer_index: int | None = None
    failure: str = ""  # why the answer was wrong (failures.CAUSES), "" when right


@dataclass
class EvalResult:
    """A finished run: provenance, aggregate metrics, gates and the per-question records."""

    meta: dict[str, Any]
    metrics: dict[str, Any]
    cases: list[CaseResult]
    gates: list[dict[str, Any]] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    variants: dict[str, "EvalResult"] = field(default_factory=dict)  # --config name -> its run
    comparison: dict[str, Any] | None = None  # against --baseline (compare.compare)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole run (variants as their metrics; their cases are in their own reports)."""
        from .compare import outcome

        cases = [{**to_jsonable(c), "outcome": outcome(c)} for c in self.cases]
        return to_jsonable({"meta": self.meta, "metrics": self.metrics, "gates": self.gates, "cases": cases,
                            "configs": {k: {"meta": v.meta.get("config"), "metrics": v.metrics}
                                        for k, v in self.variants.items()},
                            "comparison": self.comparison})

    @property
    def passed(self) -> bool:
        """True when no gate failed."""
        return all(g["passed"] for g in self.gates)
