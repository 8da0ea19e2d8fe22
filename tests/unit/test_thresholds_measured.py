"""Every gate in evals/thresholds.json against the committed run it was set from: a limit raised above what
was measured fails here, and the gate code fails a run the moment a limit is above its value. A limit that
no committed measurement backs is an aspiration, and a gate set to it would fail every honest run."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from assistant.evaluation import independent
from assistant.evaluation.gates import check, flatten, load_thresholds
from assistant.evaluation.results import SELF_GRADED

from ..conftest import ROOT

THRESHOLDS = ROOT / "evals" / "thresholds.json"


def measured_metrics() -> dict:
    """The committed run's metrics (the file thresholds.json names), its independent metrics recomputed
    from its cases: runs before independent.py have the cases but not the group."""
    name = json.loads(THRESHOLDS.read_text(encoding="utf-8"))["measured_in"]
    report = json.loads((ROOT / name).read_text(encoding="utf-8"))
    metrics = copy.deepcopy(report["metrics"])
    metrics["independent"] = independent.rescore(report)
    return metrics


def test_the_thresholds_name_the_committed_run_they_were_measured_on():
    name = json.loads(THRESHOLDS.read_text(encoding="utf-8"))["measured_in"]
    assert (ROOT / name).is_file() and Path(name).name == "report.json"


def test_no_committed_limit_is_above_the_committed_measurement():
    limits, flat = load_thresholds(THRESHOLDS), flatten(measured_metrics())
    for name, limit in limits["fail_under"].items():
        assert flat[name] is not None and limit <= flat[name], f"{name}: limit {limit} above measured {flat[name]}"
    for name, limit in limits["fail_over"].items():
        assert flat[name] is not None and limit >= flat[name], f"{name}: limit {limit} below measured {flat[name]}"
    assert all(g["passed"] for g in check(measured_metrics(), limits))


def test_only_metrics_the_product_cannot_grade_itself_are_gated():
    limits = load_thresholds(THRESHOLDS)
    gated = set(limits["fail_under"]) | set(limits["fail_over"])
    assert not gated & set(SELF_GRADED), "ALCE and the judged accuracy are the product's checker grading itself"
    assert {f"independent.{k}" for k in independent.KEYS} <= gated


@pytest.mark.parametrize("kind", ["fail_under", "fail_over"])
def test_a_limit_raised_past_the_measurement_fails_its_gate(kind):
    """Each committed gate, moved just past the committed value, fails that run (and only that gate)."""
    metrics, limits = measured_metrics(), load_thresholds(THRESHOLDS)
    flat = flatten(metrics)
    for name in limits[kind]:
        moved = copy.deepcopy(limits)
        moved[kind][name] = flat[name] + 0.01 if kind == "fail_under" else flat[name] - 0.01
        verdicts = {g["metric"]: g["passed"] for g in check(metrics, moved)}
        assert verdicts[name] is False, name
        assert all(ok for other, ok in verdicts.items() if other != name), name
