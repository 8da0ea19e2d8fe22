"""Compare runs: a case's outcome and why it failed, and the changes against a baseline report.

A case *fails* when any of these holds (`failures` gives the reasons, in this order):
error; wrong answer/refuse decision; a shown sentence the judge does not find in its citations;
a shown sentence without a verbatim citation; the judge says the answer does not state the gold
answer; the quiz choice stated is not the gold one; a must_mention pattern missed; a must_not_mention
pattern matched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .dataset import DatasetError
from .gates import flatten

# Metrics where a smaller value is better (compared with the opposite sign).
LOWER_IS_BETTER = ("cost.", "citations.unverified_shown", "run.errors")


def _get(case: Any, name: str, default: Any = None) -> Any:
    return case.get(name, default) if isinstance(case, dict) else getattr(case, name, default)


def failures(case: Any) -> list[str]:
    """Why a case (a CaseResult or its JSON) failed; [] when it passed."""
    if _get(case, "error"):
        return [f"error: {_get(case, 'error')}"]
    why: list[str] = []
    m = _get(case, "metrics", {}) or {}
    gold, answered = _get(case, "gold_answerable"), _get(case, "answered")
    if gold != answered:
        why.append("refused an answerable question" if gold else "answered an unanswerable question")
    sentences = _get(case, "sentences", []) or []
    bad = [s for s in sentences if not s.get("supported")]
    if bad:
        why.append(f"{len(bad)} of {len(sentences)} shown sentence(s) not supported by their citations"
                   + (f" ({bad[0]['why']})" if bad[0].get("why") else ""))
    unverified = (_get(case, "counts", {}) or {}).get("sentences_unverified", 0)
    if unverified:
        why.append(f"{unverified} sentence(s) shown without a verbatim citation")
    if answered and m.get("correctness.answer_accuracy") == 0.0:
        why.append("the judge finds the gold answer not stated")
    if answered and m.get("correctness.choice_accuracy") == 0.0:
        why.append("states another choice (or none)")
    if m.get("correctness.must_mention") == 0.0:
        why.append("missed " + ", ".join(f"/{p}/" for p in _get(case, "missed_patterns", []) or []))
    if m.get("correctness.must_not_mention") == 0.0:
        why.append("said what it must not: " + ", ".join(f"/{p}/" for p in _get(case, "said_patterns", []) or []))
    return why


def outcome(case: Any) -> str:
    """'pass' or 'fail' (see failures)."""
    return "fail" if failures(case) else "pass"


def load_report(path: str | Path) -> dict[str, Any]:
    """A report.json written by an earlier run; DatasetError when it is not one."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"no baseline report at {p}", hint="pass the report.json of an earlier run") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict) or "metrics" not in data or "cases" not in data:
        raise DatasetError(f"{p} is not an eval report.json (no metrics / cases)")
    return data


def compare(old: dict[str, Any], new: dict[str, Any], baseline_path: str = "") -> dict[str, Any]:
    """Per-metric deltas (new - old, with whether it got better) and the cases whose outcome changed,
    regressions first. Cases are matched by id; ids in only one run are listed apart."""
    a, b = flatten(old["metrics"]), flatten(new["metrics"])
    deltas = []
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        if name.startswith("refusals.confusion.") or x is None and y is None:
            continue
        delta = None if x is None or y is None else y - x
        better = None
        if delta:
            better = (delta < 0) if name.startswith(LOWER_IS_BETTER) else (delta > 0)
        deltas.append({"metric": name, "old": x, "new": y, "delta": delta, "better": better})
    old_cases = {c["id"]: c for c in old["cases"]}
    changed = []
    for c in new["cases"]:
        o = old_cases.get(c["id"])
        if o is None:
            continue
        was, now = outcome(o), outcome(c)
        if was != now:
            changed.append({"id": c["id"], "question": c.get("question", ""), "old": was, "new": now,
                            "kind": "regression" if now == "fail" else "fixed",
                            "why": failures(c) if now == "fail" else failures(o),
                            "old_answer": o.get("answer", ""), "new_answer": c.get("answer", "")})
    changed.sort(key=lambda x: x["kind"] != "regression")
    new_ids = {c["id"] for c in new["cases"]}
    return {"baseline": baseline_path, "baseline_date": old.get("meta", {}).get("date", ""),
            "same_questions": old.get("meta", {}).get("question_ids_hash") == new["meta"].get("question_ids_hash"),
            "deltas": deltas, "changed": changed,
            "only_in_baseline": sorted(set(old_cases) - new_ids), "only_in_run": sorted(new_ids - set(old_cases))}


def summary_lines(comparison: dict[str, Any], metrics: tuple[str, ...], limit: int = 10) -> list[str]:
    """Terminal lines: the deltas of the given metrics, then the changed cases (regressions first)."""
    lines = [f"against {comparison['baseline']} ({comparison['baseline_date']})"
             + ("" if comparison["same_questions"] else " [different questions]")]
    by = {d["metric"]: d for d in comparison["deltas"]}
    for name in metrics:
        d = by.get(name)
        if d is None:
            continue
        if d["delta"] is None:
            lines.append(f"  {name:<34} {d['old']} -> {d['new']}")
        else:
            mark = "" if not d["delta"] else (" better" if d["better"] else " WORSE")
            lines.append(f"  {name:<34} {d['old']:.3f} -> {d['new']:.3f} ({d['delta']:+.3f}){mark}")
    regressions = sum(1 for c in comparison["changed"] if c["kind"] == "regression")
    lines.append(f"  cases changed: {len(comparison['changed'])} ({regressions} regressions)")
    for c in comparison["changed"][:limit]:
        lines.append(f"    {c['kind'].upper():<10} {c['id']}: {c['question'][:70]} ({'; '.join(c['why'])[:120]})")
    return lines
