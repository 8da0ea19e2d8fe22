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
import hashlib
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

from assistant.answer.entailment import Checker
from assistant.answer.guards import GUARDS
from assistant.answer.prompting import load_prompt

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
JUDGE_PROMPT = "check_claim"  # the prompt Checker.judge renders


def verdict_key(model: str, claim: str, evidence: Sequence[str]) -> str:
    """What a cached verdict answers: this model, this judge prompt (its template), this claim, this evidence.
    A row id is not enough: an edited row, a reworded prompt or another model would reuse a stale verdict."""
    prompt = load_prompt(JUDGE_PROMPT)
    blob = json.dumps([model, prompt.system, prompt.user, claim, list(evidence)], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def judge_verdicts(items: Sequence[FaithItem], embedder: Any) -> tuple[dict[str, bool], str, float | None]:
    """The configured model's yes/no per item, asked once and kept in evals/results (the judge is the slow
    layer: ~5 s a call on a loaded 2-core machine); a verdict is reused only for the same model, judge prompt,
    claim and evidence (verdict_key)."""
    from assistant.config import Settings
    from assistant.models import llm as models

    settings = Settings(data_dir=ROOT / ".data" / "test-llm")
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    if cache.get("version") != 2:  # verdicts keyed by row id only: not known to be about today's rows
        cache = {"version": 2, "verdicts": {}, "seconds": []}
    model = _model_name(settings)
    todo = [it for it in items if verdict_key(model, it.claim, it.evidence) not in cache["verdicts"]]
    if todo:
        llm, closer = models.chat_model_from_settings(settings)
        try:
            if llm.name != model:
                model = llm.name
                todo = [it for it in items if verdict_key(model, it.claim, it.evidence) not in cache["verdicts"]]
            checker = Checker(llm, constrain=getattr(llm, "constrain", "none"), embedder=embedder)
            for it in todo:
                t0 = time.perf_counter()
                cache["verdicts"][verdict_key(model, it.claim, it.evidence)] = {
                    "id": it.id, "model": model, "supported": checker.judge(it.claim, list(it.evidence)).supported}
                cache["seconds"].append(round(time.perf_counter() - t0, 2))
                CACHE.write_text(json.dumps(cache, indent=0) + "\n", encoding="utf-8")
        finally:
            if closer is not None:
                closer()
    secs = cache["seconds"]
    return ({it.id: cache["verdicts"][verdict_key(model, it.claim, it.evidence)]["supported"] for it in items}, model,
            round(sum(secs) / len(secs), 2) if secs else None)


def _model_name(settings: Any) -> str:
    """The name the configured chat model will answer to, without starting it (the bundled server's model
    alias is its GGUF file name)."""
    if not settings.llm.uses_local:
        return settings.llm.model
    from assistant.models.model_cache import MODEL_FILENAME

    own = settings.local.model_path
    return (Path(own).name if own is not None else MODEL_FILENAME).removesuffix(".gguf")


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
