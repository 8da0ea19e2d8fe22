"""Quality gates: thresholds on run metrics, checked after an eval.

A thresholds file (JSON) maps flattened metric names to limits:

    {"fail_under": {"citations.alce_recall": 0.7, "refusals.recall": 0.6},
     "fail_over":  {"cost.latency_s.total.p90": 60}}

A gated metric that was not measured (None, e.g. refusal precision when nothing was refused) fails
its gate: a check that did not run must not read as a pass. A run that knows a metric cannot be
measured says so with `--skip-metric NAME` (the gate is then reported as skipped). A name that no
run metric has is an error, and so is skipping a metric that has no gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .dataset import DatasetError


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric groups as {'group.name[.sub]': value} (numbers and None only)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif value is None or isinstance(value, (int, float)):
            out[name] = value
    return out


def load_thresholds(path: str | Path) -> dict[str, dict[str, float]]:
    """{'fail_under': {...}, 'fail_over': {...}} from a JSON file; DatasetError when malformed."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"no thresholds file at {p}", hint="pass --thresholds evals/thresholds.json") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"{p}: expected an object with fail_under / fail_over")
    out: dict[str, dict[str, float]] = {}
    for kind in ("fail_under", "fail_over"):
        block = data.get(kind, {})
        if not isinstance(block, dict) or not all(isinstance(v, (int, float)) for v in block.values()):
            raise DatasetError(f"{p}: {kind} must map metric names to numbers")
        out[kind] = {str(k): float(v) for k, v in block.items()}
    return out


def check(metrics: dict[str, Any], thresholds: dict[str, dict[str, float]],
          skip: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One record per threshold: metric, op, threshold, value, passed, note. `skip`: gated metrics
    this run accepts as unmeasured or unchecked (reported as skipped, passed)."""
    flat = flatten(metrics)
    gated = {n for block in thresholds.values() for n in block}
    stray = [n for n in skip if n not in gated]
    if stray:
        raise DatasetError(f"--skip-metric {stray[0]!r} names no gated metric",
                           hint=f"gated metrics: {', '.join(sorted(gated)) or 'none'}")
    gates: list[dict[str, Any]] = []
    for kind, op in (("fail_under", ">="), ("fail_over", "<=")):
        for name, limit in thresholds.get(kind, {}).items():
            if name not in flat:
                raise DatasetError(f"threshold names an unknown metric {name!r}",
                                   hint=f"known metrics include {', '.join(sorted(flat)[:8])} ...")
            value = flat[name]
            if name in skip:
                gates.append({"metric": name, "op": op, "threshold": limit, "value": value, "passed": True,
                              "note": "skipped (--skip-metric)"})
                continue
            if value is None:
                gates.append({"metric": name, "op": op, "threshold": limit, "value": None, "passed": False,
                              "note": f"not measured (pass --skip-metric {name} to accept)"})
                continue
            passed = value >= limit if op == ">=" else value <= limit
            gates.append({"metric": name, "op": op, "threshold": limit, "value": value, "passed": passed,
                          "note": ""})
    return gates
