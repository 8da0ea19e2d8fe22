"""Retrieval quality and ingest throughput on the CLAPnq dev subset, through the public API only.

    .venv/bin/python evals/retrieval_clapnq.py [--dataset DIR] [--data-dir DIR] [--out DIR]

Ingests `articles.jsonl` into a fresh library (a temporary folder unless --data-dir is given),
then asks the 200 answerable questions with `Assistant.search(question, k=10, mode=...)` for the
dense, bm25 and hybrid modes and scores the gold article ids:

- Hits@k: share of questions with a passage of a gold article among the first k passages.
- MRR@10: mean of 1/rank of the first passage of a gold article (0 when none is in the top 10).

It also compares the ingest throughput (chunks/s, everything included: reading, chunking,
embedding, Chroma writes) with the embedding model alone on the same chunk texts, embedded with
the same embedder object (same batch size), so the ratio shows what the pipeline adds.

Results: evals/results/retrieval_clapnq.json and .md. Data: CLAPnq (Rosenthal et al., TACL 2025,
arXiv:2404.02103), Apache-2.0; passages from Wikipedia via Natural Questions (CC BY-SA).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402

MODES = ("dense", "bm25", "hybrid")
K = 10


def load_questions(path: Path) -> list[dict]:
    """The answerable questions, in file order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [q for q in rows if q.get("answerable")]


def first_gold_rank(article_ids: list[str], gold: set[str]) -> int | None:
    """1-based rank of the first passage that belongs to a gold article, or None."""
    for rank, aid in enumerate(article_ids, 1):
        if aid in gold:
            return rank
    return None


def score(ranks: list[int | None]) -> dict[str, float]:
    """Hits@5, Hits@10 and MRR@10 from first-gold ranks."""
    n = len(ranks) or 1
    return {
        "hits@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "hits@10": round(sum(1 for r in ranks if r is not None and r <= 10) / n, 4),
        "mrr@10": round(sum(1.0 / r for r in ranks if r is not None and r <= 10) / n, 4),
    }


def evaluate(assistant: Assistant, questions: list[dict]) -> dict[str, dict]:
    """Per mode: metrics, mean search latency and the per-question ranks."""
    out: dict[str, dict] = {}
    for mode in MODES:
        ranks: list[int | None] = []
        latencies: list[float] = []
        for q in questions:
            t = time.perf_counter()
            passages = assistant.search(q["question"], k=K, mode=mode)
            latencies.append(time.perf_counter() - t)
            ranks.append(first_gold_rank([p.article_id for p in passages], set(q["gold_article_ids"])))
        out[mode] = {**score(ranks), "mean_search_ms": round(1000 * statistics.mean(latencies), 1),
                     "ranks": {q["id"]: r for q, r in zip(questions, ranks)}}
        print(f"{mode:>6}: {out[mode]['hits@5']:.3f} hits@5  {out[mode]['hits@10']:.3f} hits@10  "
              f"{out[mode]['mrr@10']:.3f} mrr@10  ({out[mode]['mean_search_ms']} ms/query)", flush=True)
    return out


def raw_embedding_rate(assistant: Assistant) -> dict[str, dict]:
    """Chunks/s of the embedding model alone on the stored chunk texts, as ingest embeds them.

    `all_at_once`: one embed() call over every text (the embedder batches them by its batch size).
    `per_article`: one embed() call per article, as ingest makes them.
    """
    titles = {a.id: a.title for a in assistant.articles()}
    by_article: dict[str, list] = {}
    for s in assistant.store.all_chunks():
        by_article.setdefault(s.chunk.article_id, []).append(s.chunk)
    groups = [[f"{titles.get(aid, '')}\n{c.section}\n{c.text}" for c in sorted(chunks, key=lambda c: c.index)]
              for aid, chunks in sorted(by_article.items())]
    texts = [t for g in groups for t in g]
    batch = getattr(assistant.embedder, "batch_size", None)
    t = time.perf_counter()
    assistant.embedder.embed(texts)
    whole = time.perf_counter() - t
    t = time.perf_counter()
    for g in groups:
        assistant.embedder.embed(g)
    split = time.perf_counter() - t
    return {
        "all_at_once": {"chunks": len(texts), "seconds": round(whole, 2), "chunks_per_s": round(len(texts) / whole, 2),
                        "batch_size": batch},
        "per_article": {"chunks": len(texts), "calls": len(groups), "seconds": round(split, 2),
                        "chunks_per_s": round(len(texts) / split, 2), "batch_size": batch},
    }


def write_markdown(result: dict, path: Path) -> None:
    ing, raw = result["ingest"], result["embedding_only"]
    lines = [
        "# Retrieval on CLAPnq dev (answerable questions)",
        "",
        f"{result['questions']} questions, {ing['articles']} passages ({ing['chunks']} chunks), "
        f"k={K}, embedder `{result['embedder']}`, {result['date']}.",
        "Rank = position of the first passage from a gold article among the 10 returned.",
        "",
        "| mode | Hits@5 | Hits@10 | MRR@10 | ms/query |",
        "|---|---|---|---|---|",
    ]
    for mode in MODES:
        m = result["modes"][mode]
        lines.append(f"| {mode} | {m['hits@5']:.3f} | {m['hits@10']:.3f} | {m['mrr@10']:.3f} | {m['mean_search_ms']} |")
    lines += [
        "",
        "| throughput | chunks | seconds | chunks/s |",
        "|---|---|---|---|",
        f"| ingest (read, chunk, embed, store) | {ing['chunks']} | {ing['seconds']} | {ing['chunks_per_s']} |",
        f"| embedding model alone, one call (batch {raw['all_at_once']['batch_size']}) | {raw['all_at_once']['chunks']} "
        f"| {raw['all_at_once']['seconds']} | {raw['all_at_once']['chunks_per_s']} |",
        f"| embedding model alone, one call per article, as ingest did before batching ({raw['per_article']['calls']} calls) "
        f"| {raw['per_article']['chunks']} | {raw['per_article']['seconds']} | {raw['per_article']['chunks_per_s']} |",
        "",
        f"Ingest runs at {result['ingest_vs_model']:.2f}x the model-only rate (one call), "
        f"{result['ingest_vs_model_per_article']:.2f}x the rate of the same per-article calls.",
        "",
    ]
    if result.get("tuning"):
        from evals.retrieval_tuning import markdown

        lines += markdown(result["tuning"])
    lines += [
        "Data: CLAPnq (Rosenthal et al., TACL 2025, arXiv:2404.02103), Apache-2.0; passages from "
        "Wikipedia via Natural Questions (CC BY-SA).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / ".." / "shared" / "datasets" / "clapnq_dev",
                        help="folder holding articles.jsonl and questions.jsonl")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="library folder (default: a fresh temporary folder, removed afterwards)")
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    parser.add_argument("--tune", action="store_true",
                        help="also measure fusion settings (held-out split) and MMR diversity (two-part questions)")
    args = parser.parse_args(argv)

    dataset = args.dataset.resolve()
    questions = load_questions(dataset / "questions.jsonl")
    with tempfile.TemporaryDirectory(prefix="clapnq-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        with Assistant.from_settings(data_dir=data_dir) as assistant:
            print(f"ingesting {dataset / 'articles.jsonl'} into {data_dir} ...", flush=True)
            t = time.perf_counter()
            report = assistant.ingest([dataset / "articles.jsonl"])
            wall = time.perf_counter() - t
            print(report, flush=True)
            if report.chunks_written == 0:
                print("nothing was written (library already holds this data): throughput is not measured; "
                      "use a fresh --data-dir", file=sys.stderr)
            chunks = report.chunks_written
            ingest = {"articles": len(report.added) + len(report.updated) + len(report.unchanged),
                      "failed": len(report.failed), "chunks": assistant.store.count(),
                      "chunks_written": chunks, "seconds": round(wall, 2),
                      "chunks_per_s": round(chunks / wall, 2) if chunks else None}
            modes = evaluate(assistant, questions)
            print("timing the embedding model alone on the same chunk texts ...", flush=True)
            raw = raw_embedding_rate(assistant)
            tuning = None
            if args.tune:
                from evals.retrieval_tuning import tune

                print("measuring fusion and diversity settings ...", flush=True)
                tuning = tune(assistant, questions)
            result = {
                "dataset": str(dataset), "questions": len(questions), "k": K,
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "embedder": assistant.embedder.name, "settings_hash": assistant.settings.settings_hash(),
                "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
                "ingest": ingest, "embedding_only": raw,
                "ingest_vs_model": round(ingest["chunks_per_s"] / raw["all_at_once"]["chunks_per_s"], 3) if chunks else None,
                "ingest_vs_model_per_article": (round(ingest["chunks_per_s"] / raw["per_article"]["chunks_per_s"], 3)
                                                if chunks else None),
                "modes": modes, "settings": {"rrf_k": assistant.settings.rrf_k, "bm25_weight": assistant.settings.bm25_weight,
                                             "mmr_lambda": assistant.settings.mmr_lambda,
                                             "per_article_cap": assistant.settings.per_article_cap},
                "tuning": tuning,
            }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "retrieval_clapnq.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if result["ingest_vs_model"] is not None:
        write_markdown(result, args.out / "retrieval_clapnq.md")
    print(f"ingest {ingest['chunks_per_s']} chunks/s vs model alone {raw['all_at_once']['chunks_per_s']} chunks/s "
          f"(ratio {result['ingest_vs_model']}), per-article calls {raw['per_article']['chunks_per_s']} chunks/s "
          f"(ratio {result['ingest_vs_model_per_article']}); wrote {args.out / 'retrieval_clapnq.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
