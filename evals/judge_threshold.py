"""Choose the claim judge's P(yes) threshold on the labelled dev set; report it on the blind set once.

    .venv/bin/python -m evals.judge_threshold DEV/judge_eval.json [--blind BLIND/judge_eval.json] \
        [--out evals/results/judge_threshold]

Both inputs are `briefing eval-judge` results of the shipped checker with no threshold set (the judge's own
word): each row records whether the guards let it reach the judge and the judge's P(yes) over "yes"/"no"
(`scores`). A threshold only changes the rows the judge saw, so every threshold is scored from one run
without asking the model again.

The threshold is the one with the best balanced accuracy on the dev rows (ties: the one nearest 0.5, the
judge's own word). The blind rows are never used to choose; their figures at the judge's own word and at
the chosen threshold are reported as they come out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def decide(row: dict[str, Any], threshold: float | None) -> bool:
    """The checker's decision on one row at `threshold` (None: as recorded, the judge's own word)."""
    if threshold is None or not row.get("judged") or row.get("p_yes") is None:
        return bool(row["kept"])
    return row["p_yes"] >= threshold


def scores_at(rows: Sequence[dict[str, Any]], threshold: float | None) -> dict[str, Any]:
    """Accuracy, balanced accuracy, keep rate of true claims and reject rate per kind of wrong claim."""
    kept = [decide(r, threshold) for r in rows]
    pos = [k for k, r in zip(kept, rows) if r["supported"]]
    neg = [k for k, r in zip(kept, rows) if not r["supported"]]
    keep = sum(pos) / len(pos) if pos else 0.0
    reject = (len(neg) - sum(neg)) / len(neg) if neg else 0.0
    kinds: dict[str, list[bool]] = {}
    for k, r in zip(kept, rows):
        if not r["supported"]:
            kinds.setdefault(r.get("kind") or "false", []).append(not k)
    return {"threshold": threshold, "n": len(rows),
            "accuracy": round(sum(k == r["supported"] for k, r in zip(kept, rows)) / len(rows), 3),
            "balanced_accuracy": round((keep + reject) / 2, 3), "keep_rate": round(keep, 3),
            "reject_rate": round(reject, 3),
            "reject_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(kinds.items())}}


def choose(rows: Sequence[dict[str, Any]]) -> float:
    """The grid threshold with the best balanced accuracy on `rows` (ties: nearest 0.5)."""
    return max(GRID, key=lambda t: (scores_at(rows, t)["balanced_accuracy"], -abs(t - 0.5)))


def _rows(path: str) -> list[dict[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = data.get("scores")
    if not rows:
        raise SystemExit(f"{path}: no per-row scores (run briefing eval-judge with this version)")
    return rows


def _table(title: str, at: Sequence[dict[str, Any]]) -> list[str]:
    kinds = sorted({k for s in at for k in s["reject_by_kind"]})
    head = ["threshold", "accuracy", "balanced accuracy", "keep true", "reject wrong", *kinds]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in at:
        t = "judge's own word" if s["threshold"] is None else f"P(yes) >= {s['threshold']}"
        cells = [t, s["accuracy"], s["balanced_accuracy"], s["keep_rate"], s["reject_rate"],
                 *[s["reject_by_kind"].get(k, "") for k in kinds]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines + [""]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dev", help="eval-judge judge_eval.json over the dev set (no threshold set)")
    ap.add_argument("--blind", help="eval-judge judge_eval.json over the blind set, reported once")
    ap.add_argument("--out", default="evals/results/judge_threshold")
    a = ap.parse_args(argv)
    dev = _rows(a.dev)
    judged = [r for r in dev if r.get("judged") and r.get("p_yes") is not None]
    chosen = choose(dev)
    result: dict[str, Any] = {"dev": a.dev, "chosen": chosen, "dev_judged_rows": len(judged),
                              "dev_at": [scores_at(dev, None), scores_at(dev, chosen)],
                              "dev_grid": [scores_at(dev, t) for t in GRID]}
    lines = ["# The claim judge's threshold", "",
             f"Chosen on the dev set ({a.dev}): P(yes) >= {chosen}, the best balanced accuracy over "
             f"{GRID[0]}..{GRID[-1]}; {len(judged)} of {len(dev)} dev rows reached the judge (the rest were "
             "decided by the deterministic layers, which a threshold does not change).", ""]
    lines += _table("Dev set", result["dev_at"])
    if a.blind:
        blind = _rows(a.blind)
        result["blind"] = a.blind
        result["blind_at"] = [scores_at(blind, None), scores_at(blind, chosen)]
        lines += _table("Blind set (not used to choose; reported once)", result["blind_at"])
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
