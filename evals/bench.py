"""Speed and memory benchmarks (`make bench`). Results: bench/results.json and bench/results.md.

Never asserted in tests: these numbers describe this machine, they do not gate anything.

    python -m evals.bench [--articles 120] [--sizes 1000,10000] [--answers 5] [--skip-answers]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLAPNQ = ROOT.parent / "shared" / "datasets" / "clapnq_dev"
SEED_DIR = ROOT / "examples" / "briefings"
QUESTIONS = ["Is Russia stalling?", "What might Trump do to pressure Russia?", "How close are Russia and China?",
             "Who is Kirill Dmitriev meeting in Washington?", "What is the population of Ukraine?"]


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(xs) * 1000, q)), 1)


def _run_child(cmd: list[str], first_line_on: str | None = None) -> dict:
    """Run a command; wall time, time to its first output line, and its peak RSS (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    first = None
    stream = proc.stderr if first_line_on == "stderr" else proc.stdout
    line = stream.readline()
    if line:
        first = time.perf_counter() - t0
    proc.communicate()
    wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 3), "first_output_s": round(first, 3) if first else None,
            "returncode": proc.returncode, "peak_rss_mb": _child_rss()}


def _child_rss() -> float:
    # ru_maxrss of RUSAGE_CHILDREN is the max over all waited-for children so far; good enough as
    # an upper bound for the process just run when runs go from light to heavy.
    import resource

    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def bench_ingest(n_articles: int, data_dir: Path) -> dict:
    """Pipeline chunks/s vs the embedding model alone on the same chunk texts."""
    from assistant import Assistant
    from assistant.ingest import chunk_article, iter_articles

    src = data_dir / "articles.jsonl"
    lines = (CLAPNQ / "articles.jsonl").read_text(encoding="utf-8").splitlines()[:n_articles]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a = Assistant.from_settings(data_dir=data_dir / "ingest")
    articles = [x for x in iter_articles([src], 10**8) if not hasattr(x, "reason")]
    texts = [f"{art.title}\n{c.section}\n{c.text}" for art in articles
             for c in chunk_article(art, a.settings.chunk_size, a.settings.chunk_overlap)]
    a.embedder.embed(texts[:8])  # warm-up
    t0 = time.perf_counter()
    a.embedder.embed(texts)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = a.ingest([src])
    pipe_s = time.perf_counter() - t0
    import resource

    return {"articles": len(articles), "chunks": report.chunks_written,
            "pipeline_chunks_per_s": round(report.chunks_written / pipe_s, 2),
            "model_only_chunks_per_s": round(len(texts) / raw_s, 2),
            "ratio": round((report.chunks_written / pipe_s) / (len(texts) / raw_s), 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "assistant": a}


def bench_search(a, sizes: list[int], data_dir: Path, queries: list[str]) -> list[dict]:
    """p50/p95 search latency per mode on synthetic corpora built by replicating real chunks."""
    from assistant import Assistant
    from assistant.ingest import chunk_article
    from assistant.types import Article

    base = [art for art in (a.article(x.id) for x in a.articles()) if art is not None]
    chunks = [(art, c) for art in base for c in chunk_article(replace(art, headings=()), 700, 0)]
    vecs = a.embedder.embed([f"{art.title}\n{c.section}\n{c.text}" for art, c in chunks])
    rng = np.random.default_rng(7)
    rows = []
    for size in sizes:
        b = Assistant.from_settings(data_dir=data_dir / f"search-{size}")
        made, copy = 0, 0
        t_build = time.perf_counter()
        while made < size:
            for art in base:
                if made >= size:
                    break
                own = [(c, v) for (ar, c), v in zip(chunks, vecs) if ar.id == art.id]
                clone = Article(id=f"{art.id}-{copy}", title=art.title, body=art.body, source=f"src{copy % 7}",
                                published_at=datetime(2025, 1 + copy % 12, 1 + copy % 28, tzinfo=timezone.utc),
                                content_hash=f"h{copy}-{art.content_hash}")
                cs = [replace(c, id=f"{c.id}-{copy}", article_id=clone.id) for c, _ in own]
                noisy = np.stack([v for _, v in own]) + rng.normal(0, 0.02, (len(own), vecs.shape[1])).astype(np.float32)
                noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
                b.store.write_article(clone, cs, noisy)
                made += len(cs)
            copy += 1
        build_s = time.perf_counter() - t_build
        b.retriever.invalidate()
        row = {"chunks": b.store.count(), "build_s": round(build_s, 1)}
        for mode in ("dense", "bm25", "hybrid"):
            b.search(queries[0], k=10, mode=mode)  # warm caches (BM25 index build is timed separately)
            lat = []
            for q in queries:
                t0 = time.perf_counter()
                b.search(q, k=10, mode=mode)
                lat.append(time.perf_counter() - t0)
            row[f"{mode}_p50_ms"], row[f"{mode}_p95_ms"] = _pct(lat, 50), _pct(lat, 95)
        t0 = time.perf_counter()
        b.retriever.invalidate()
        b.search(queries[0], k=10, mode="bm25")
        row["bm25_index_build_s"] = round(time.perf_counter() - t0, 2)
        rows.append(row)
    return rows


def bench_cold_start(data_dir: Path) -> dict:
    """Fresh processes: `briefing search` until its result, `briefing ask` until the evidence appears."""
    exe = str(Path(sys.executable).with_name("briefing"))
    d = str(data_dir / "cold")
    subprocess.run([exe, "ingest", "--data-dir", d, str(SEED_DIR)], check=True, capture_output=True, cwd=ROOT)
    search = _run_child([exe, "search", "Is Russia stalling?", "--json", "--data-dir", d])
    ask = _run_child([exe, "ask", "Is Russia stalling?", "--data-dir", d], first_line_on="stderr")
    return {"search": search, "ask": ask}


def bench_answers(data_dir: Path, n: int) -> dict:
    """Time to evidence, to first answer token and total, with the bundled local model."""
    from assistant import Assistant
    from assistant.types import AnswerEvent, EvidenceEvent, TextDelta

    a = Assistant.from_settings(data_dir=data_dir / "answers")
    a.ingest([SEED_DIR])
    t0 = time.perf_counter()
    _ = a.llm  # start the server outside the per-question timings
    start_s = time.perf_counter() - t0
    rows = []
    for q in QUESTIONS[:n]:
        t0 = time.perf_counter()
        ev = first = None
        answer = None
        for event in a.ask_stream(q):
            now = time.perf_counter() - t0
            if isinstance(event, EvidenceEvent):
                ev = now
            elif isinstance(event, TextDelta) and first is None:
                first = now
            elif isinstance(event, AnswerEvent):
                answer = event.answer
        rows.append({"question": q, "evidence_s": round(ev, 3), "first_token_s": round(first, 3) if first else None,
                     "total_s": round(time.perf_counter() - t0, 3), "answerable": answer.answerable,
                     "citations": len(answer.citations), "prompt_tokens": answer.usage.get("prompt_tokens"),
                     "completion_tokens": answer.usage.get("completion_tokens"), "answer": answer.text})
    server_rss = None
    pid = getattr(getattr(a, "_local_server", None), "pid", None)
    for closer in a._closers:
        pid = pid or getattr(getattr(closer, "__self__", None), "pid", None)
    if pid:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM"):
                    server_rss = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
    a.close()
    return {"server_start_s": round(start_s, 2), "server_peak_rss_mb": server_rss, "questions": rows}


def to_markdown(res: dict) -> str:
    """The results as Markdown tables."""
    out = [f"# Benchmarks ({res['date']}, {res['machine']})", ""]
    ing = res.get("ingest")
    if ing:
        out += ["## Ingest", "", "| articles | chunks | pipeline chunks/s | model-only chunks/s | ratio | peak RSS MB |",
                "|---|---|---|---|---|---|",
                f"| {ing['articles']} | {ing['chunks']} | {ing['pipeline_chunks_per_s']} | {ing['model_only_chunks_per_s']} | {ing['ratio']} | {ing['peak_rss_mb']} |", ""]
    if res.get("search"):
        out += ["## Search latency (k=10)", "", "| chunks | dense p50/p95 ms | BM25 p50/p95 ms | hybrid p50/p95 ms | BM25 index build s |",
                "|---|---|---|---|---|"]
        for r in res["search"]:
            out.append(f"| {r['chunks']} | {r['dense_p50_ms']} / {r['dense_p95_ms']} | {r['bm25_p50_ms']} / {r['bm25_p95_ms']} | "
                       f"{r['hybrid_p50_ms']} / {r['hybrid_p95_ms']} | {r['bm25_index_build_s']} |")
        out.append("")
    cs = res.get("cold_start")
    if cs:
        out += ["## Cold start (fresh process)", "", "| command | first output s | total s | peak RSS MB |", "|---|---|---|---|",
                f"| briefing search | {cs['search']['first_output_s']} | {cs['search']['wall_s']} | {cs['search']['peak_rss_mb']} |",
                f"| briefing ask (evidence) | {cs['ask']['first_output_s']} | {cs['ask']['wall_s']} | {cs['ask']['peak_rss_mb']} |", ""]
    ans = res.get("answers")
    if ans:
        out += [f"## Answers with the bundled local model (server start {ans['server_start_s']} s, server peak RSS {ans['server_peak_rss_mb']} MB)", "",
                "| question | evidence s | first token s | total s | prompt tok | answered | citations |", "|---|---|---|---|---|---|---|"]
        for r in ans["questions"]:
            out.append(f"| {r['question']} | {r['evidence_s']} | {r['first_token_s']} | {r['total_s']} | {r['prompt_tokens']} | {r['answerable']} | {r['citations']} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write bench/results.json and bench/results.md."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--articles", type=int, default=120)
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--answers", type=int, default=5)
    p.add_argument("--skip-answers", action="store_true")
    p.add_argument("--out", default=str(ROOT / "bench"))
    args = p.parse_args(argv)
    res: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print("ingest...", file=sys.stderr)
        ing = bench_ingest(args.articles, tmp_path)
        a = ing.pop("assistant")
        res["ingest"] = ing
        print("search...", file=sys.stderr)
        qs = [json.loads(x)["question"] for x in (CLAPNQ / "questions.jsonl").read_text().splitlines()[:50]]
        res["search"] = bench_search(a, [int(s) for s in args.sizes.split(",") if s], tmp_path, qs)
        print("cold start...", file=sys.stderr)
        res["cold_start"] = bench_cold_start(tmp_path)
        if not args.skip_answers:
            print("answers (local model)...", file=sys.stderr)
            res["answers"] = bench_answers(tmp_path, args.answers)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "results.md").write_text(to_markdown(res), encoding="utf-8")
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
