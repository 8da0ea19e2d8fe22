"""`briefing eval`: the CLI side of the harness (arguments in, summary and exit code out)."""

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
    s.add_argument("--limit", type=int, help="run only this many questions")
    s.add_argument("--as-of", help="answer questions without their own as_of as of this date (YYYY-MM-DD)")
    s.add_argument("--stratified", action="store_true",
                   help="with --limit: a seeded sample, half answerable and half unanswerable")
    s.add_argument("--judge", choices=["lexical", "llm"], default="lexical",
                   help="support judge for citation recall/precision (llm needs a configured endpoint)")
    s.add_argument("--thresholds", help=f"thresholds JSON (default {DEFAULT_THRESHOLDS} when it exists)")
    s.add_argument("--fail-under", action="store_true", help="exit 1 when a metric misses its threshold")
    s.add_argument("--json", action="store_true", help="print the run summary as JSON and nothing else")


def run(args: argparse.Namespace) -> int:
    """Run the eval the arguments describe; 1 when --fail-under and a gate failed."""
    from .runner import run_eval

    if args.as_of:
        from ..dates import parse_date
        from ..errors import ConfigError

        if parse_date(args.as_of) is None:  # checked once here, not once per question
            raise ConfigError(f"--as-of {args.as_of!r} is not a date", hint="use YYYY-MM-DD")
    thresholds = args.thresholds or (str(DEFAULT_THRESHOLDS) if DEFAULT_THRESHOLDS.is_file() else None)
    out = args.out or str(Path("evals") / "reports" / Path(args.dataset).stem)
    result = run_eval(args.dataset, args.corpus, out=out, limit=args.limit, stratified=args.stratified,
                      judge=args.judge, thresholds=thresholds, as_of=args.as_of)
    failed = [g for g in result.gates if not g["passed"]]
    if args.json:
        json.dump({"meta": result.meta, "metrics": result.metrics, "gates": result.gates, "reports": result.paths},
                  sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(summary(result))
    if failed and args.fail_under:
        for g in failed:
            print(f"briefing: gate failed: {g['metric']} = {g['value']:.3f}, needs {g['op']} {g['threshold']:g}",
                  file=sys.stderr)
        return 1
    return 0


def summary(result: Any) -> str:
    """A few lines for the terminal: provenance, headline metrics, gates, report paths."""
    from .report import HEADLINE, fmt, get

    meta = result.meta
    lines = [f"eval of {meta['questions']} questions on {meta['articles']} articles in {meta['seconds']}s "
             f"(model {meta['model']}, settings {meta['settings_hash']}, dataset {meta['dataset_hash']})"]
    lines += [f"  {label:<28} {fmt(get(result.metrics, path))}" for path, label in HEADLINE]
    lat = result.metrics["cost"]["latency_s"]["total"]
    lines.append(f"  {'latency p50 / p90 (s)':<28} {fmt(lat['p50'], 2)} / {fmt(lat['p90'], 2)}")
    if result.metrics["run"]["errors"]:
        lines.append(f"  errors: {result.metrics['run']['errors']} question(s) failed (see report.json)")
    for g in result.gates:
        mark = "ok  " if g["passed"] else "FAIL"
        lines.append(f"  gate {mark} {g['metric']} {fmt(g['value'])} {g['op']} {g['threshold']:g} {g['note']}".rstrip())
    lines += [f"  warning: {w}" for w in meta.get("warnings", [])]
    if result.paths:
        lines.append(f"reports: {result.paths['html']} (also report.md, report.json)")
    return "\n".join(lines)
