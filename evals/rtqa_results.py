"""Commit-safe results of a news dev set run: metrics, question ids and failure causes, no page or quiz text.

    python -m evals.rtqa_results evals/reports/rtqa/report.json --label 20261207 [--note "..."]

The eval's own report.json quotes the pages (citations with their context) and the quiz questions: both are
copyrighted and stay in the gitignored evals/reports/. This writes evals/results/rtqa_dev_<label>.json and
.md with, per configuration: choice accuracy and exact match on the answerable questions, refusals both
ways, the gold page cited, latency, the failure breakdown and each case's id, verdict and cause.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from assistant.evaluation.failures import CAUSES

ROOT = Path(__file__).resolve().parents[1]


def summarise(cases: list[dict], metrics: dict) -> dict:
    """The headline numbers of one configuration from its cases."""
    ok = [c for c in cases if not c.get("error")]
    ans = [c for c in ok if c["gold_answerable"]]
    una = [c for c in ok if not c["gold_answerable"]]

    def mean(key: str, rows: list[dict]) -> float | None:
        vals = [c["metrics"].get(key) for c in rows if c["metrics"].get(key) is not None]
        return round(sum(vals) / len(vals), 3) if vals else None

    def p50(key: str) -> float | None:
        vals = [c["timings"][key] for c in ok if key in c.get("timings", {})]
        return round(statistics.median(vals), 2) if vals else None

    return {"questions": len(cases), "errors": len(cases) - len(ok), "answerable": len(ans), "unanswerable": len(una),
            "choice_accuracy": mean("correctness.choice_accuracy", ans), "exact_match": mean("correctness.exact_match", ans),
            "answerable_refused": sum(1 for c in ans if not c["answered"]),
            "unanswerable_refused": sum(1 for c in una if not c["answered"]),
            "gold_cited": mean("citations.gold_cited", ans),
            "p50_first_token_s": p50("first_token"), "p50_first_shown_s": p50("first_shown"),
            "p50_total_s": p50("total"),
            "verified_by": (metrics.get("citations") or {}).get("verified_by"),
            "failures": metrics.get("failures"),
            "cases": [{"id": c["id"], "answerable": c["gold_answerable"], "answered": c["answered"],
                       "right": c["metrics"].get("correctness.choice_accuracy") == 1.0 if c["gold_answerable"] else not c["answered"],
                       "cause": c.get("failure") or "", "error": bool(c.get("error"))} for c in cases]}


def _from_journals(folder: Path) -> dict:
    # A run stopped before its report: each configuration's cases-<name>.partial.jsonl, failures counted here.
    from assistant.evaluation.failures import breakdown

    runs = {}
    for path in sorted(folder.glob("cases-*.partial.jsonl")):
        cases = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        runs[path.name[len("cases-"):-len(".partial.jsonl")]] = (
            cases, {"failures": breakdown([c.get("failure") or None for c in cases if not c.get("error")])})
    return runs


def write(report: Path, label: str, note: str = "", configs: dict | None = None) -> Path:
    """Write evals/results/rtqa_dev_<label>.json and .md from an eval's report.json (or, for a run stopped
    early, the folder of its case journals); returns the .md path."""
    if report.is_dir():
        data = {"meta": {}}
        runs = {name: summarise(c, m) for name, (c, m) in _from_journals(report).items()}
    else:
        data = json.loads(report.read_text(encoding="utf-8"))
        runs = {"default": summarise(data["cases"], data["metrics"])}
        for name, v in (data.get("variants") or {}).items():
            runs[name] = summarise(v["cases"], v["metrics"])
    configs = configs or {c["name"]: c for c in data["meta"].get("configs", [])}
    out = {"label": label, "note": note, "date": data["meta"].get("started") or data["meta"].get("date"),
           "model": data["meta"].get("model"), "settings_hash": data["meta"].get("settings_hash"),
           "dataset_hash": data["meta"].get("dataset_hash"), "configs": configs, "runs": runs}
    base = ROOT / "evals" / "results" / f"rtqa_dev_{label}"
    base.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    names = list(runs)
    rows = [("choice accuracy (answerable)", "choice_accuracy"), ("exact answer stated", "exact_match"),
            ("answerable refused", "answerable_refused"), ("unanswerable refused", "unanswerable_refused"),
            ("gold page cited", "gold_cited"), ("p50 first token s", "p50_first_token_s"), ("p50 first shown s", "p50_first_shown_s"), ("p50 total s", "p50_total_s"),
            ("errors", "errors")]
    lines = [f"# News dev set (RealTime QA 2023, 3 weeks), {label}", "", note, "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for title, key in rows:
        lines.append(f"| {title} | " + " | ".join(str(runs[n][key]) for n in names) + " |")
    lines += ["", "## Why answers were wrong (first stage that lost the gold answer)", "",
              "| cause | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for c in (*CAUSES, "right"):
        lines.append(f"| {c} | " + " | ".join(str((runs[n]["failures"] or {}).get(c, "")) for n in names) + " |")
    lines += ["", "Configurations: " + "; ".join(f"`{n}` = {json.dumps(c.get('overrides', {}))}" +
                                                  (" (tutorial pipeline)" if c.get("pipeline") == "naive" else "")
                                                  for n, c in configs.items()),
              "", "Per-question ids, verdicts and causes: the .json beside this file (no page or quiz text)."]
    base.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return base.with_suffix(".md")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="report.json of a briefing eval run on the news dev set")
    ap.add_argument("--label", required=True)
    ap.add_argument("--note", default="")
    ap.add_argument("--config", action="append", default=[], metavar="NAME=JSON",
                    help="describe a configuration of a journal folder: name={\"overrides\": {...}}")
    a = ap.parse_args()
    configs = {}
    for spec in a.config:
        name, _, desc = spec.partition("=")
        configs[name] = {"name": name, **json.loads(desc)}
    print(write(Path(a.report), a.label, a.note, configs or None))


if __name__ == "__main__":
    main()
