"""The eval harness with every real part: MiniLM embedder, embedded Chroma, the bundled local model,
and the real claim checker as judge. Asserts the committed gates against what was measured, and the gate logic both ways."""

import json

import pytest

from assistant.evaluation.command import exit_code
from assistant.evaluation.gates import check, flatten, load_thresholds
from assistant.evaluation.runner import run_eval

from ..conftest import ROOT

# Slow on 2 shared cores (tens of seconds per question): a seeded, stratified few of the seed set.
LIMIT = 3


@pytest.mark.integration
def test_seed_questions_with_the_real_model_and_gates_that_bite(real_assistant, tmp_path):
    out = tmp_path / "report"
    result = run_eval(ROOT / "evals" / "datasets" / "seed_briefing.jsonl", [ROOT / "examples" / "briefings"],
                      out=out, limit=LIMIT, stratified=True, assistant=real_assistant, judge="entailment",
                      thresholds=ROOT / "evals" / "thresholds.json", progress=False)
    saved = json.loads((out / "report.json").read_text())
    assert len(saved["cases"]) == LIMIT and result.metrics["run"]["errors"] == 0
    assert saved["meta"]["judge"]["name"].startswith("entailment (") and saved["meta"]["judge"]["calls"] >= 1
    for name, value in flatten(result.metrics).items():
        last = name.rsplit(".", 1)[-1]
        # Rates are 0..1; counts (ints: failures.*, citations.verified_by.*, n_*) and costs are not.
        if name.startswith(("cost.", "run.", "refusals.confusion.", "by_type.")) or last == "n" or last.startswith("n_") \
                or isinstance(value, int):
            continue
        assert value is None or 0.0 <= value <= 1.0, (name, value)
    # The committed gates ran on this run: each verdict is the measured value against the committed limit
    # (recomputed here, not read back from the gate code), and the exit code follows those verdicts.
    committed = load_thresholds(ROOT / "evals" / "thresholds.json")
    flat = flatten(result.metrics)
    gates = {g["metric"]: g for g in result.gates}
    assert set(gates) == set(committed["fail_under"]) | set(committed["fail_over"])
    expected = {name: flat[name] is not None and flat[name] >= limit for name, limit in committed["fail_under"].items()}
    expected |= {name: flat[name] is not None and flat[name] <= limit for name, limit in committed["fail_over"].items()}
    assert {n: (g["value"], g["passed"]) for n, g in gates.items()} == {n: (flat[n], ok) for n, ok in expected.items()}
    # On any sample of the seed set: every question completes, nothing is shown without a verified citation,
    # nothing hangs. (The other limits are set for all 16 questions; a 3-question sample may miss them.)
    invariant = ("run.completed", "citations.unverified_shown", "cost.latency_s.total.p90")
    assert all(expected[name] for name in invariant), {n: flat[n] for n in invariant}
    # Known before the run, whatever the model says: the committed invariant gates alone pass (exit 0) and a limit
    # no run can meet fails (exit 1). Not `exit_code == (0 if passed else 1)`, which holds for any measurement.
    only_invariants = {kind: {n: v for n, v in committed[kind].items() if n in invariant} for kind in committed}
    assert exit_code(check(result.metrics, only_invariants), fail_under=True) == 0
    assert exit_code(check(result.metrics, {"fail_under": {"run.completed": 1.01}}), fail_under=True) == 1
    # The stratified sample is seed-07 and seed-12 (answerable, each with a gold evidence sentence) and seed-13
    # (unanswerable): the independent metrics are measured over exactly those rows, by their gold labels.
    assert [c.id for c in result.cases] == ["seed-07", "seed-12", "seed-13"]
    ind = result.metrics["independent"]
    assert (ind["n_gold_answer_stated"], ind["n_gold_evidence_cited"], ind["n_unanswerable_refused"]) == (2, 2, 1)
    assert ind["n_addresses_question"] == sum(c.answered for c in result.cases if c.gold_answerable)

    # Gate logic both ways, on the numbers this run measured.
    flat = flatten(result.metrics)
    measured = {k: v for k, v in flat.items() if k.startswith(("citations.alce", "refusals.", "run.completed"))
                and not k.startswith("refusals.confusion") and v is not None}
    assert measured, "nothing measured"
    met = {"fail_under": {k: v for k, v in measured.items()}, "fail_over": {"citations.unverified_shown": flat["citations.unverified_shown"]}}
    assert exit_code(check(result.metrics, met), fail_under=True) == 0
    name, value = next(iter(measured.items()))
    missed = {"fail_under": {name: value + 0.01}}
    gates = check(result.metrics, missed)
    assert exit_code(gates, fail_under=True) == 1 and not gates[0]["passed"]
    assert exit_code(gates, fail_under=False) == 0  # reported, not enforced
    over = {"fail_over": {"cost.latency_s.total.p50": flat["cost.latency_s.total.p50"] / 2}}
    assert exit_code(check(result.metrics, over), fail_under=True) == 1
