"""`briefing eval` and `briefing eval-judge`: the CLI side of the harness (arguments in, summary and exit code out)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_THRESHOLDS = Path("evals") / "thresholds.json"


def add_arguments(s: argparse.ArgumentParser) -> None:
    """The eval subcommand's arguments."""
    s.add_argument("dataset", help="questions JSONL (see docs/evals.md)")
    s.add_argument("--corpus", action="append", required=True,
                   help="briefing file, folder or articles JSONL to ingest into a fresh store (repeatable)")
    s.add_argument("--out", help="report folder (default: evals/reports/<dataset name>)")
    s.add_argument("--index", metavar="DIR",
                   help="keep the ingested corpus in DIR and reuse it on the next run (ingest skips unchanged "
                        "articles), instead of a temporary library; for corpora that take minutes to embed")
    s.add_argument("--limit", type=int, help="run only this many questions")
    s.add_argument("--as-of", help="answer questions without their own as_of as of this date (YYYY-MM-DD)")
    s.add_argument("--stratified", action="store_true",
                   help="with --limit: a seeded sample, half answerable and half unanswerable")
    _judge_arguments(s)
    s.add_argument("--thresholds", help=f"thresholds JSON (default {DEFAULT_THRESHOLDS} when it exists)")
    s.add_argument("--fail-under", action="store_true", help="exit 1 when a metric misses its threshold")
    s.add_argument("--skip-metric", action="append", default=[], metavar="NAME",
                   help="accept this gated metric as unmeasured (otherwise an unmeasured gate fails; repeatable)")
    s.add_argument("--baseline", metavar="REPORT_JSON",
                   help="an earlier report.json: print per-metric deltas and the cases whose outcome changed")
    s.add_argument("--config", action="append", default=[], metavar="NAME=KEY=VALUE,...",
                   help="also run these settings on the same questions (repeatable); 'naive' is the tutorial pipeline")
    s.add_argument("--json", action="store_true", help="print the run summary as JSON and nothing else")


def _judge_arguments(s: argparse.ArgumentParser) -> None:
    from .judge import JUDGES

    s.add_argument("--judge", choices=JUDGES, default="entailment",
                   help="citation judge: entailment (guards + the chat model, default), guards (no model), "
                        "openai/llm (another OpenAI-compatible model, --judge-model), lexical (= guards)")
    s.add_argument("--judge-model", help="model name for --judge openai/llm")
    s.add_argument("--judge-url", help="OpenAI-compatible base URL for --judge-model (default: the configured endpoint)")


def add_judge_arguments(s: argparse.ArgumentParser) -> None:
    """The eval-judge subcommand's arguments."""
    from .judge_eval import DEFAULT_OUT, DEFAULT_SET

    s.add_argument("dataset", nargs="?", default=str(DEFAULT_SET), help=f"labelled claims JSONL (default {DEFAULT_SET})")
    _judge_arguments(s)
    s.add_argument("--split", help="only rows of this split (e.g. test)")
    s.add_argument("--articles", action="append", default=[], metavar="FILE",
                   help="measure the judge as it runs: each row's judge call sees its whole article (found by the "
                        "row's context, the article title, in these JSONL or text files) as the evidence block")
    s.add_argument("--limit", type=int, help="at most this many rows, taken from every kind in turn")
    s.add_argument("--out", default=str(DEFAULT_OUT), help=f"results folder (default {DEFAULT_OUT})")
    s.add_argument("--json", action="store_true", help="print the result as JSON and nothing else")


def run_judge(args: argparse.Namespace, factory: Any = None) -> int:
    """Measure the citation judge on the labelled set; write judge_eval.json / .md. `factory(**overrides)`
    builds the Assistant (default Assistant.from_settings)."""
    from .judge import make_judge
    from .judge_eval import run_eval_judge

    if factory is None:
        from ..assistant import Assistant

        factory = Assistant.from_settings
    with factory() as assistant:
        judge = make_judge(args.judge, assistant, args.judge_model, args.judge_url)
        result = run_eval_judge(judge, args.dataset, out=args.out, split=args.split, limit=args.limit,
                                articles=getattr(args, "articles", []))
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    o = result["overall"]
    print(f"judge {result['judge']} on {result['rows']} rows of {result['dataset']} ({result['seconds']} s)")
    print(f"  accuracy {o['accuracy']:.3f}  F1 {o['f1']:.3f}  kappa {o['kappa']:.3f}  "
          f"keep rate of true claims {_fmt(result['keep_rate'])}")
    for kind, rate in result["reject_rate"].items():
        print(f"  reject rate {kind:<14} {rate:.3f}")
    print("wrote " + ", ".join(result.get("paths", [])))
    return 0


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def run(args: argparse.Namespace, factory: Any = None) -> int:
    """Run the eval the arguments describe; 1 when --fail-under and a gate failed. `factory(**overrides)`
    builds the Assistant on the run's temporary data dir (default Assistant.from_settings)."""
    from .runner import run_eval

    if args.as_of:
        from ..dates import parse_date
        from ..errors import ConfigError

        if parse_date(args.as_of) is None:  # checked once here, not once per question
            raise ConfigError(f"--as-of {args.as_of!r} is not a date", hint="use YYYY-MM-DD")
    thresholds = args.thresholds or (str(DEFAULT_THRESHOLDS) if DEFAULT_THRESHOLDS.is_file() else None)
    out = args.out or str(Path("evals") / "reports" / Path(args.dataset).stem)
    result = run_eval(args.dataset, args.corpus, out=out, limit=args.limit, stratified=args.stratified,
                      judge=args.judge, thresholds=thresholds, as_of=args.as_of, configs=args.config,
                      baseline=args.baseline, skip_metrics=args.skip_metric, judge_model=args.judge_model,
                      judge_url=args.judge_url, factory=factory,
                      index=getattr(args, "index", None))
    failed = [g for g in result.gates if not g["passed"]]
    code = exit_code(result.gates, args.fail_under)
    if args.json:
        json.dump({"meta": result.meta, "metrics": result.metrics, "gates": result.gates, "reports": result.paths,
                   "configs": {k: v.metrics for k, v in result.variants.items()}, "comparison": result.comparison},
                  sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(summary(result))
    if code:
        for g in failed:
            value = "not measured" if g["value"] is None else f"{g['value']:.3f}"
            print(f"briefing: gate failed: {g['metric']} = {value}, needs {g['op']} {g['threshold']:g}",
                  file=sys.stderr)
    return code


def exit_code(gates: list[dict[str, Any]], fail_under: bool) -> int:
    """1 when gates are enforced (--fail-under) and one failed, else 0."""
    return 1 if fail_under and any(not g["passed"] for g in gates) else 0


def summary(result: Any) -> str:
    """A few lines for the terminal: provenance, headline metrics (one column per --config), the
    judge's measured accuracy, gates, the baseline comparison and report paths."""
    from .report import HEADLINE, fmt, get, judge_line

    meta = result.meta
    lines = [f"eval of {meta['questions']} questions on {meta['articles']} articles in {meta['seconds']}s "
             f"(model {meta['model']}, settings {meta['settings_hash']}, dataset {meta['dataset_hash']})",
             f"  {judge_line(meta)}"]
    names = ["default", *result.variants]
    runs = [result.metrics, *(v.metrics for v in result.variants.values())]
    if len(runs) > 1:
        lines.append(f"  {'':<34} " + " ".join(f"{n[:10]:>10}" for n in names))
    for path, label in HEADLINE:
        lines.append(f"  {label:<34} " + " ".join(f"{fmt(get(m, path)):>10}" for m in runs))
    lat = [m["cost"]["latency_s"]["total"] for m in runs]
    lines.append(f"  {'latency p50 / p90 (s)':<34} " + " ".join(f"{fmt(x['p50'], 1) + '/' + fmt(x['p90'], 1):>10}" for x in lat))
    if any(m.get("failures") for m in runs):
        from .failures import CAUSES

        for c in (*CAUSES, "right"):
            lines.append(f"  {'wrong: ' + c if c != 'right' else 'right':<34} "
                         + " ".join(f"{(m.get('failures') or {}).get(c, ''):>10}" for m in runs))
    if result.metrics["run"]["errors"]:
        lines.append(f"  errors: {result.metrics['run']['errors']} question(s) failed (see report.json)")
    for g in result.gates:
        mark = "ok  " if g["passed"] else "FAIL"
        lines.append(f"  gate {mark} {g['metric']} {fmt(g['value'])} {g['op']} {g['threshold']:g} {g['note']}".rstrip())
    if result.comparison:
        from .compare import summary_lines

        lines += summary_lines(result.comparison, tuple(p for p, _ in HEADLINE))
    lines += [f"  warning: {w}" for w in meta.get("warnings", [])]
    if result.paths:
        lines.append(f"reports: {result.paths['html']} (also report.md, report.json)")
    return "\n".join(lines)
