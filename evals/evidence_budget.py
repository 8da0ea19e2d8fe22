"""Does the evidence the model reads still hold the answer? Gold-sentence recall against the evidence budget.

    python -m evals.evidence_budget [--dataset seed|clapnq] [--limit N]

The first round lost specifics in the 360-token sentence budget ("millions" for "2 million"). This
measures that failure without a model: for each answerable question with gold evidence sentences, the
share of gold sentences present in what the answer prompt would show, for sentence budgets of 360, 700
and 1,200 tokens, for our retrieved chunks whole (6), and for a tutorial pipeline's BM25 top-4 chunks.
A proxy for correctness (the model must still use the sentence), but a cheap and deterministic one;
the cost column is the evidence tokens the model must read (prompt processing is what a CPU waits on).
Writes evals/results/evidence_budget_<dataset>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any, Sequence

from assistant.answer.evidence import select_evidence
from assistant.evaluation.dataset import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {"seed": (ROOT / "evals" / "datasets" / "seed_briefing.jsonl", ROOT / "examples" / "briefings"),
            "clapnq": (ROOT.parent / "shared" / "datasets" / "clapnq_dev" / "questions.jsonl",
                       ROOT.parent / "shared" / "datasets" / "clapnq_dev" / "articles.jsonl")}
BUDGETS = (360, 700, 1200)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def covered(gold: Sequence[str], shown: Sequence[str]) -> float:
    """Share of gold sentences whose words appear, in order, inside some shown text."""
    texts = [_norm(t) for t in shown]
    hits = sum(1 for g in gold if (ng := _norm(g)) and any(ng in t or t in ng and len(t) > 0.8 * len(ng) for t in texts))
    return hits / len(gold) if gold else 0.0


def run(name: str, limit: int) -> dict[str, Any]:
    """Every configuration over the answerable questions of one dataset."""
    from assistant import Assistant

    qpath, corpus = DATASETS[name]
    items = [it for it in load_dataset(qpath) if it.answerable and it.evidence and not it.history]
    if limit:
        items = items[:limit]
    rows: dict[str, list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp, Assistant.from_settings(data_dir=tmp) as a:
        a.ingest([corpus])
        count = a.embedder.count_tokens
        for it in items:
            qvec = a.embedder.embed([it.question])[0]
            passages = a.retriever.search(it.question, k=a.settings.answer_k, query_vector=qvec)
            for budget in BUDGETS:
                ev = select_evidence(a.embedder, it.question, qvec, passages, budget)
                rows.setdefault(f"sentences, {budget} tokens", []).append(
                    (covered(it.evidence, [e.text for e in ev]), sum(count(e.text) + 12 for e in ev)))
            rows.setdefault(f"our {len(passages)} chunks whole", []).append(
                (covered(it.evidence, [p.text for p in passages]), sum(count(p.text) for p in passages)))
            tutorial = a.retriever.search(it.question, k=4, mode="bm25")
            rows.setdefault("tutorial: BM25 top-4 chunks", []).append(
                (covered(it.evidence, [p.text for p in tutorial]), sum(count(p.text) for p in tutorial)))
    return {"dataset": name, "questions": len(items), "configs": {
        k: {"gold_recall": round(statistics.mean(r for r, _ in v), 3),
            "all_gold": round(sum(1 for r, _ in v if r >= 0.999) / len(v), 3),
            "mean_tokens": round(statistics.mean(t for _, t in v))} for k, v in rows.items()}}


def markdown(res: dict[str, Any]) -> str:
    """One table."""
    out = [f"# Evidence budget on {res['dataset']} ({res['questions']} answerable questions)", "",
           "| evidence shown to the model | gold sentences present | all gold present | evidence tokens |",
           "|---|---|---|---|"]
    for k, v in res["configs"].items():
        out.append(f"| {k} | {v['gold_recall']:.3f} | {v['all_gold']:.3f} | {v['mean_tokens']} |")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=sorted(DATASETS), default="seed")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args(argv)
    res = run(args.dataset, args.limit)
    out = ROOT / "evals" / "results" / f"evidence_budget_{args.dataset}"
    out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(res), encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
