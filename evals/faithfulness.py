"""Measure the claim checker on the labelled faithfulness set: what each layer catches, what it wrongly rejects.

    python -m evals.faithfulness [--split dev|test|all] [--judge] [--limit N] [--out evals/results/faithfulness]

Configurations (each a column in the report):
  before      the old gate: support score (lexical coverage + MiniLM cosine) >= 0.42, nothing else
  similarity  that score as the first layer of the new checker
  +numbers, +polarity, +names, +attribution   guards added one at a time (cumulative)
  guards      similarity + all guards (the checker without a model)
  judge       the bundled model as judge alone (--judge)
  full        guards, then the judge for what passes them (--judge): the product's default
Per kind: the reject rate for wrong claims (higher is better) and the keep rate for true claims.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

from assistant.answer.entailment import Checker
from assistant.answer.guards import GUARDS

from .faithfulness_data import FaithItem, load

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("true", "negated", "number", "entity", "attribution", "unrelated", "yes_no")


def score(items: Sequence[FaithItem], decide: Callable[[FaithItem], bool]) -> dict[str, Any]:
    """Per-kind rates: `keep` for true claims, `reject` for each kind of wrong claim; plus overall accuracy."""
    by_kind: dict[str, Counter] = defaultdict(Counter)
    wrong: list[str] = []
    for it in items:
        ok = decide(it)
        c = by_kind[it.kind]
        c["n"] += 1
        c["accepted"] += int(ok)
        if ok != (it.label == "supported"):
            wrong.append(it.id)
    out: dict[str, Any] = {}
    for kind in KINDS:
        c = by_kind.get(kind)
        if not c:
            continue
        rate = c["accepted"] / c["n"] if kind == "true" else 1 - c["accepted"] / c["n"]
        out[kind] = {"n": c["n"], "rate": round(rate, 3)}
    n = len(items)
    out["accuracy"] = round(1 - len(wrong) / n, 3) if n else 0.0
    out["errors"] = wrong
    return out


def run(items: Sequence[FaithItem], judge: bool) -> dict[str, Any]:
    """Every configuration over `items`."""
    from assistant.models.embed import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    results: dict[str, Any] = {}
    base = Checker(embedder=embedder, guards=False)
    results["before"] = score(items, lambda it: base.similarity(it.claim, it.evidence) >= 0.42)
    results["similarity"] = score(items, lambda it: base.check(it.claim, list(it.evidence)).supported)
    names = list(GUARDS)
    for i, name in enumerate(names):
        skip = names[i + 1:]
        chk = Checker(embedder=embedder, skip=skip)
        results[f"+{name}"] = score(items, lambda it, chk=chk: chk.check(it.claim, list(it.evidence)).supported)
    results["guards"] = results[f"+{names[-1]}"]
    if judge:
        verdicts, model, per_call = judge_verdicts(items, embedder)
        guards = Checker(embedder=embedder)
        results["judge"] = score(items, lambda it: verdicts[it.id])
        results["full"] = score(items, lambda it: guards.check(it.claim, list(it.evidence)).supported
                                and verdicts[it.id])
        results["judge_seconds_per_call"] = per_call
        results["judge_model"] = model
    return results


CACHE = ROOT / "evals" / "results" / "faithfulness_judge_verdicts.json"


def judge_verdicts(items: Sequence[FaithItem], embedder: Any) -> tuple[dict[str, bool], str, float | None]:
    """The bundled model's yes/no per item, asked once and kept in evals/results (the judge is the slow
    layer: ~5 s a call on a loaded 2-core machine); items already judged by the same model are reused."""
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {"model": "", "verdicts": {}, "seconds": []}
    todo = [it for it in items if it.id not in cache["verdicts"]]
    if todo:
        from assistant.config import Settings
        from assistant.models.llm import chat_model_from_settings

        llm, closer = chat_model_from_settings(Settings(data_dir=ROOT / ".data" / "test-llm"))
        try:
            if cache["model"] and cache["model"] != llm.name:
                cache = {"model": llm.name, "verdicts": {}, "seconds": []}
                todo = list(items)
            cache["model"] = llm.name
            checker = Checker(llm, constrain=getattr(llm, "constrain", "none"), embedder=embedder)
            for it in todo:
                t0 = time.perf_counter()
                cache["verdicts"][it.id] = checker.judge(it.claim, list(it.evidence)).supported
                cache["seconds"].append(round(time.perf_counter() - t0, 2))
                CACHE.write_text(json.dumps(cache, indent=0) + "\n", encoding="utf-8")
        finally:
            if closer is not None:
                closer()
    secs = cache["seconds"]
    return ({it.id: cache["verdicts"][it.id] for it in items}, cache["model"],
            round(sum(secs) / len(secs), 2) if secs else None)


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """One table per split: rows are kinds, columns configurations."""
    lines = ["# Claim checker on the faithfulness set", "",
             "Rates: **keep** for true claims (want >= 0.95), **reject** for each wrong kind (want >= 0.90).",
             "`before` is the old gate (support score >= 0.42); each `+guard` column adds one guard to the ones left of it.",
             ""]
    for split, res in results.items():
        configs = [k for k, v in res.items() if isinstance(v, dict)]
        lines += [f"## {split}", "", "| kind | n | " + " | ".join(configs) + " |",
                  "|---|---|" + "---|" * len(configs)]
        for kind in (*KINDS, "accuracy"):
            if kind == "accuracy":
                lines.append("| **accuracy** | | " + " | ".join(f"{res[c]['accuracy']:.3f}" for c in configs) + " |")
                continue
            if kind not in res[configs[0]]:
                continue
            n = res[configs[0]][kind]["n"]
            label = "true (keep)" if kind == "true" else f"{kind} (reject)"
            lines.append(f"| {label} | {n} | " + " | ".join(f"{res[c][kind]['rate']:.3f}" for c in configs) + " |")
        if "judge_seconds_per_call" in res:
            lines += ["", f"Judge: {res['judge_model']}, {res['judge_seconds_per_call']} s per call (load noted in the run log)."]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and write evals/results/faithfulness.{json,md}."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "test", "all"), default="all")
    ap.add_argument("--judge", action="store_true", help="also run the bundled model as judge (slow on a CPU)")
    ap.add_argument("--limit", type=int, default=0, help="at most N items per split (0 = all)")
    ap.add_argument("--out", default=str(ROOT / "evals" / "results" / "faithfulness"))
    args = ap.parse_args(argv)
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    results = {}
    for split in splits:
        items = load(split=split)
        if args.limit:
            items = items[: args.limit]
        results[split] = run(items, args.judge)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
