"""The eval harness: datasets, metrics, support judges, the runner and its reports.

    from assistant.evaluation import run_eval
    result = run_eval("evals/datasets/seed_briefing.jsonl", ["examples/briefings"], out="evals/reports/seed")

Modules: dataset (eval file format), metrics (pure functions), correctness (answer vs gold),
independent (the gated metrics: what was shown against the gold labels, never the product's checker),
judge (support judges; make_judge builds them), judge_eval (`briefing eval-judge`), runner,
gates (thresholds), compare (outcomes, --baseline), configs (--config), naive (the tutorial
pipeline), report and plots (JSON / Markdown / HTML / SVG), command (the CLI side).
Formulas and the dataset format: docs/evals.md.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "DatasetError": "dataset", "EvalItem": "dataset", "load_dataset": "dataset", "resolve_gold": "dataset",
    "select": "dataset", "LexicalJudge": "judge", "LLMJudge": "judge", "SupportJudge": "judge",
    "EntailmentJudge": "judge", "make_judge": "judge", "run_eval_judge": "judge_eval", "compare": "compare",
    "NaivePipeline": "naive",
    "CaseResult": "results", "EvalResult": "results", "aggregate": "runner", "evaluate": "runner",
    "run_eval": "runner", "score_case": "runner", "rescore": "independent",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Loaded on first use so `briefing --help` does not pay for pydantic and numpy.
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
