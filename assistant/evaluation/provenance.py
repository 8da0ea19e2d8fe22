"""What a report records about its run: the date, dataset, corpus, model, settings and judge."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from .dataset import EvalItem, file_hash
from .judge import judge_info
from .judge_eval import judge_measurement, newest_result


def run_meta(dataset: Any, items: Sequence[EvalItem], limit: Any, stratified: bool, seed: int, corpus: Any,
             facts: dict[str, Any], assistant: Any, cases: Sequence[Any], judge: Any, started: datetime,
             judge_results: Any) -> dict[str, Any]:
    """The meta block of a report (`seconds` is filled in when the run ends)."""
    s = assistant.settings
    models = Counter(c.model for c in cases if c.model and not c.model.startswith("none"))
    info = judge_info(judge)
    info["measured"] = judge_measurement(judge_results, info["name"])
    # The blind set's latest run beside it (evals/results/blind/ next to judge_eval.json): the dev-derived
    # test split flatters a checker whose rules were written from the same hand's rows.
    info["measured_blind"] = judge_measurement(newest_result(Path(judge_results).parent / "blind"), info["name"]) \
        if judge_results else None
    return {
        "date": started.isoformat(timespec="seconds"), "seconds": None,
        "dataset": str(dataset), "dataset_hash": file_hash(dataset), "question_ids_hash": _ids_hash(items),
        "questions": len(items), "limit": limit, "stratified": stratified, "seed": seed,
        "corpus": [str(p) for p in corpus], **facts,
        "model": models.most_common(1)[0][0] if models else (s.llm.model or "unknown"),
        "settings_hash": s.settings_hash(), "embedder": getattr(assistant.embedder, "name", ""),
        "temperature": s.llm.temperature, "llm_seed": s.llm.seed, "judge": info,
        "warnings": _warnings(s, cases),
    }


def _ids_hash(items: Sequence[EvalItem]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest()[:16]


def _warnings(settings: Any, cases: Sequence["CaseResult"]) -> list[str]:
    out = []
    if settings.llm.temperature != 0:
        out.append(f"temperature is {settings.llm.temperature}, so answers may differ between runs")
    unresolved = sorted({g for c in cases for g in c.unresolved_gold})
    if unresolved:
        out.append(f"gold references matching no article: {', '.join(unresolved[:5])}")
    return out
