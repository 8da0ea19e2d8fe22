"""Speed and memory benchmarks (`make bench`). Results: bench/results.json and bench/results.md.

Never asserted in tests: these numbers describe this machine (and its load) at one moment.

    python -m evals.bench [--quick] [--sizes 1000,10000,100000] [--articles 100] [--answers N]

Every measurement runs in a fresh child process, so each peak RSS belongs to that measurement
alone (read with os.wait4). Synthetic search corpora are cached under bench/tmp/ (gitignored):
the first run embeds the CLAPnq dev passages once (bench/tmp/base), then builds each larger store
by writing perturbed copies of those chunks and their vectors (Gaussian noise, sigma 0.02, then
re-normalised) straight into Chroma through `Store.write_articles`; embedding 100k chunks on two
cores would take hours and measures nothing new (ingest speed is measured separately).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLAPNQ = Path(os.environ.get("BRIEFING_BENCH_DATA") or ROOT.parent / "shared" / "datasets" / "clapnq_dev")
SEED_DIR = ROOT / "examples" / "briefings"
TMP = Path(os.environ.get("BRIEFING_BENCH_TMP") or ROOT / "bench" / "tmp")
STORE_VERSION = "v1"  # bump to rebuild cached stores when their recipe changes
ASK_Q = "Is Russia stalling?"
MODE_BUDGET_S = 60.0  # per search mode and corpus size


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(xs) * 1000, q)), 1)


def _emit(obj: dict) -> int:
    print("RESULT " + json.dumps(obj), flush=True)
    return 0


def _child(args: list[str], env: dict | None = None) -> dict:
    """Run `python -m evals.bench <args>` in a fresh process; its RESULT line plus its own peak RSS."""
    proc = subprocess.Popen([sys.executable, "-m", "evals.bench", *args], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, **(env or {})})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [x for x in out.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"bench part {args} failed (exit {proc.returncode})")
    return {**json.loads(lines[-1][7:]), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def _timed_cli(cmd: list[str], env: dict, first_on: str) -> dict:
    """A fresh `briefing` process: seconds to its first output line on `first_on`, wall time, peak RSS."""
    t0 = time.perf_counter()
    pipe, quiet = subprocess.PIPE, subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=pipe if first_on == "stdout" else quiet,
                            stderr=pipe if first_on == "stderr" else quiet, text=True, cwd=ROOT, env={**os.environ, **env})
    stream = proc.stderr if first_on == "stderr" else proc.stdout
    first = time.perf_counter() - t0 if stream.readline() else None
    stream.read()
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rss = round(usage.ru_maxrss / 1024, 1)
    return {"first_output_s": round(first, 3) if first else None, "wall_s": round(wall, 3), "peak_rss_mb": rss}


# --- parts (each runs in its own process) ------------------------------------------------------

def part_ingest(n_articles: int) -> int:
    """Pipeline chunks/s vs the embedding model alone on the same chunk texts."""
    from assistant import Assistant
    from assistant.ingest.chunk import chunk_article
    from assistant.ingest.files import iter_articles

    work = TMP / "ingest-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    src = work / "articles.jsonl"
    lines = (CLAPNQ / "articles.jsonl").read_text(encoding="utf-8").splitlines()[:n_articles]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load0 = _load()
    a = Assistant.from_settings(data_dir=work / "lib")
    articles = [x for x in iter_articles([src], 10**8) if not hasattr(x, "reason")]
    texts = [f"{art.title}\n{c.section}\n{c.text}" for art in articles
             for c in chunk_article(art, a.settings.chunk_size, a.settings.chunk_overlap)]
    a.embedder.embed(texts[:8])  # warm-up
    t0 = time.perf_counter()
    a.embedder.embed(texts)
    raw_s = time.perf_counter() - t0
    # Also time the model inside the ingest run itself: the same load, so a fairer overhead figure
    # than two runs minutes apart on a machine others share.
    in_model = [0.0]
    embed = a.embedder.embed

    def timed_embed(batch):
        t = time.perf_counter()
        try:
            return embed(batch)
        finally:
            in_model[0] += time.perf_counter() - t

    a.embedder.embed = timed_embed
    t0 = time.perf_counter()
    report = a.ingest([src])
    pipe_s = time.perf_counter() - t0
    a.embedder.embed = embed
    t0 = time.perf_counter()
    a.embedder.embed(texts)  # the model alone again, after: the faster of the two runs is the reference
    raw_s = min(raw_s, time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = a.ingest([src])  # idempotent: everything unchanged
    reingest_s = time.perf_counter() - t0
    a.close()
    pipe, raw = report.chunks_written / pipe_s, len(texts) / raw_s
    return _emit({"articles": len(articles), "chunks": report.chunks_written, "pipeline_s": round(pipe_s, 2),
                  "model_only_s": round(raw_s, 2), "pipeline_chunks_per_s": round(pipe, 2),
                  "model_only_chunks_per_s": round(raw, 2), "ratio": round(pipe / raw, 3),
                  "model_share_of_pipeline": round(in_model[0] / pipe_s, 3),
                  "reingest_unchanged_s": round(reingest_s, 2), "unchanged": len(again.unchanged),
                  "load": [load0, _load()]})


def _base():
    """The CLAPnq dev passages, ingested once: (assistant, articles by id, [(chunk, meta, vector)])."""
    from assistant import Assistant

    a = Assistant.from_settings(data_dir=TMP / "base")
    if not (TMP / "base" / "done").exists():
        a.ingest([CLAPNQ / "articles.jsonl"])
        (TMP / "base" / "done").write_text("ok")
    rows, offset = [], 0
    while True:
        got = a.store.chunks.get(include=["embeddings", "metadatas", "documents"], limit=2000, offset=offset)
        if not got["ids"]:
            break
        rows += list(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]))
        offset += len(got["ids"])
    arts = {x.id: a.article(x.id) for x in a.articles()}
    return a, arts, rows


def _build_store(size: int, path: Path) -> float:
    """Fill `path` with `size` synthetic chunks (perturbed copies of the base chunks). Seconds taken."""
    from assistant import Assistant
    from assistant.search.store import _chunk

    base, arts, rows = _base()
    by_article: dict[str, list] = {}
    for cid, doc, meta, vec in rows:
        by_article.setdefault(meta["article_id"], []).append((_chunk(cid, doc, meta), np.asarray(vec, np.float32)))
    shutil.rmtree(path, ignore_errors=True)
    b = Assistant.from_settings(data_dir=path)
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    made, copy, pending = 0, 0, []
    while made < size:
        for aid, own in sorted(by_article.items()):
            if made >= size:
                break
            art = arts[aid]
            clone = replace(art, id=f"{aid}~{copy}", source=f"src{copy % 7}", origin=f"synthetic:{copy}",
                            published_at=datetime(2025, 1 + copy % 12, 1 + copy % 28, tzinfo=timezone.utc),
                            content_hash=f"{art.content_hash[:48]}{copy:016x}")
            cs = [replace(c, id=f"{c.id}~{copy}", article_id=clone.id) for c, _ in own]
            noisy = np.stack([v for _, v in own]) + rng.normal(0, 0.02, (len(own), 384)).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            pending.append((clone, cs, noisy))
            made += len(cs)
            if sum(len(p[1]) for p in pending) >= 2000:
                b.store.write_articles(pending)
                pending = []
        copy += 1
    b.store.write_articles(pending)
    b.close()
    base.close()
    return time.perf_counter() - t0


def part_search(size: int, n_queries: int, fresh_index: bool = False) -> int:
    """p50/p95 latency of each search mode over a cached synthetic store of `size` chunks.

    `fresh_index` deletes the saved BM25 index first, so the first search builds (and saves) it; without
    it the first search of this fresh process loads the index a previous process saved."""
    from assistant import Assistant

    path = TMP / f"store-{size}-{STORE_VERSION}"
    build_s = None
    if not (path / "done").exists():
        build_s = round(_build_store(size, path), 1)
        (path / "done").write_text("ok")
    if fresh_index:
        shutil.rmtree(path / "index", ignore_errors=True)
    index_saved = any((path / "index").glob("*/*/complete"))
    qs = [json.loads(x)["question"] for x in (CLAPNQ / "questions.jsonl").read_text().splitlines()[:n_queries]]
    load0 = _load()
    t0 = time.perf_counter()
    a = Assistant.from_settings(data_dir=path)
    row = {"chunks": a.store.count(), "articles": len(a.store.article_records()), "build_s": build_s,
           "open_s": round(time.perf_counter() - t0, 2)}
    t0 = time.perf_counter()
    a.search(qs[0], k=10, mode="bm25")  # the first BM25 search builds (or loads) its index
    row["bm25_first_search_s"] = round(time.perf_counter() - t0, 2)
    row["index_was_saved"] = index_saved
    if fresh_index:  # the rest of the row would repeat the other run's: stop here
        a.close()
        row["load"] = [load0, _load()]
        return _emit(row)
    a.embedder.embed(qs[:2])
    emb = []
    for q in qs:
        t = time.perf_counter()
        a.embedder.embed([q])
        emb.append(time.perf_counter() - t)
    row["query_embed_p50_ms"] = _pct(emb, 50)
    for mode in ("dense", "bm25", "hybrid"):
        a.search(qs[1], k=10, mode=mode)
        lat: list[float] = []
        for q in qs:
            t = time.perf_counter()
            a.search(q, k=10, mode=mode)
            lat.append(time.perf_counter() - t)
            if sum(lat) > MODE_BUDGET_S and len(lat) >= 5:
                break  # a slow mode gets fewer queries, so one size cannot take the whole run
        row[f"{mode}_p50_ms"], row[f"{mode}_p95_ms"] = _pct(lat, 50), _pct(lat, 95)
        row[f"{mode}_queries"] = len(lat)
    a.close()
    row["load"] = [load0, _load()]
    return _emit(row)


def bench_cold_start(repeats: int) -> dict:
    """Fresh `briefing search` until its first result and `briefing ask` until the evidence appears.

    The ask runs point the LLM at a closed port: the evidence is shown before any model is reached,
    so what is timed is the user's wait for the evidence, not a model server starting."""
    exe = [sys.executable, "-m", "assistant.app.cli"]  # what the `briefing` script runs, from this checkout
    d = TMP / "cold"
    if not (d / "done").exists():
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([*exe, "ingest", "--data-dir", str(d), str(SEED_DIR)], check=True, capture_output=True, cwd=ROOT)
        (d / "done").write_text("ok")
    env = {"BRIEFING_LLM__BASE_URL": "http://127.0.0.1:9/v1", "BRIEFING_LLM__MODEL": "none",
           "BRIEFING_LLM__MAX_RETRIES": "0"}
    out: dict = {"load": _load()}
    for name, cmd, on in (("search", [*exe, "search", ASK_Q, "--data-dir", str(d)], "stdout"),
                          ("ask", [*exe, "ask", ASK_Q, "--data-dir", str(d)], "stderr")):
        runs = [_timed_cli(cmd, env, on) for _ in range(repeats)]
        firsts = sorted(r["first_output_s"] or 0 for r in runs)
        out[name] = {"first_output_s": firsts[len(firsts) // 2], "first_output_runs_s": [r["first_output_s"] for r in runs],
                     "wall_s": sorted(r["wall_s"] for r in runs)[len(runs) // 2],
                     "peak_rss_mb": max(r["peak_rss_mb"] or 0 for r in runs)}
    return out


def to_markdown(res: dict, before: dict | None = None) -> str:
    """The results as Markdown tables (with a before/after table when a before run is given)."""
    out = [f"# Benchmarks ({res['date']}, {res['machine']})", "",
           f"Load average (1/5/15 min) at start {res['load_start']}, at end {res['load_end']} "
           "(2 shared cores: other work ran at the same time; treat differences under ~20% as noise).", ""]
    ing = res.get("ingest")
    if ing:
        out += ["## Ingest (CLAPnq passages, fresh library)", "",
                "| articles | chunks | pipeline chunks/s | model-only chunks/s | ratio | model share of ingest time "
                "| re-ingest unchanged s | peak RSS MB |", "|---|---|---|---|---|---|---|---|",
                f"| {ing['articles']} | {ing['chunks']} | {ing['pipeline_chunks_per_s']} | {ing['model_only_chunks_per_s']} "
                f"| {ing['ratio']} | {ing.get('model_share_of_pipeline', '-')} | {ing['reingest_unchanged_s']} | {ing['peak_rss_mb']} |",
                "", "ratio = pipeline chunks/s over model-only chunks/s (one embed call over the same chunk texts, the "
                "faster of a run just before and one just after); model share = time inside the embedder during the "
                "ingest run itself (1 - model share is the pipeline's own overhead, measured under the same load).", ""]
    if res.get("search"):
        out += ["## Search latency (k=10, a fresh process per size; dense includes embedding the query)", "",
                "| chunks | articles | dense p50/p95 ms | BM25 p50/p95 ms | hybrid p50/p95 ms | query embed p50 ms "
                "| open s | first search: building index s | first search: saved index s | peak RSS MB |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in res["search"]:
            out.append(f"| {r['chunks']} | {r['articles']} | {r['dense_p50_ms']} / {r['dense_p95_ms']} | {r['bm25_p50_ms']} / "
                       f"{r['bm25_p95_ms']} | {r['hybrid_p50_ms']} / {r['hybrid_p95_ms']} | {r['query_embed_p50_ms']} "
                       f"| {r['open_s']} | {r.get('bm25_first_search_building_s', '-')} | {r['bm25_first_search_s']} "
                       f"| {r['peak_rss_mb']} |")
        out += ["", "First search = the first BM25 query of a fresh process (the bench's `bm25` mode; hybrid "
                "adds the dense part): 'building' with no saved index (it reads every chunk, builds and saves "
                "the index), 'saved' in the next process, which memory-maps what the first one saved.", ""]
    cs = res.get("cold_start")
    if cs:
        out += ["## Cold start (fresh process, seed briefing library; median of runs)", "",
                "| command | first output s | exit s | peak RSS MB |", "|---|---|---|---|",
                f"| briefing search (first result) | {cs['search']['first_output_s']} | {cs['search']['wall_s']} | {cs['search']['peak_rss_mb']} |",
                f"| briefing ask (cited evidence) | {cs['ask']['first_output_s']} | {cs['ask']['wall_s']} | {cs['ask']['peak_rss_mb']} |", ""]
    if before:
        out += _compare(before, res)
    return "\n".join(out)


def _compare(b: dict, a: dict) -> list[str]:
    rows = [("ingest pipeline chunks/s", ("ingest", "pipeline_chunks_per_s")),
            ("ingest ratio pipeline/model", ("ingest", "ratio")),
            ("ingest model share of time", ("ingest", "model_share_of_pipeline")), ("ingest peak RSS MB", ("ingest", "peak_rss_mb")),
            ("cold search first result s", ("cold_start", "search", "first_output_s")),
            ("cold ask evidence s", ("cold_start", "ask", "first_output_s")),
            ("cold search peak RSS MB", ("cold_start", "search", "peak_rss_mb"))]

    def get(d: dict, path: tuple) -> object:
        for p in path:
            d = d.get(p, {}) if isinstance(d, dict) else {}
        return d if d != {} else "-"

    out = ["## Before / after", "", f"Before: {b['date']} (load {b['load_start']}); after: {a['date']} (load {a['load_start']}).", "",
           "| measure | before | after |", "|---|---|---|"]
    out += [f"| {name} | {get(b, path)} | {get(a, path)} |" for name, path in rows]
    bs = {r["chunks"]: r for r in b.get("search", [])}
    for r in a.get("search", []):
        old = bs.get(r["chunks"], {})
        for key in ("dense_p50_ms", "bm25_p50_ms", "hybrid_p50_ms", "hybrid_p95_ms", "bm25_first_search_s", "peak_rss_mb"):
            out.append(f"| search {r['chunks']} chunks: {key} | {old.get(key, '-')} | {r[key]} |")
    return out + [""]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write bench/results.json and bench/results.md."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer articles, queries and repeats; sizes 1k,10k")
    p.add_argument("--articles", type=int, default=None, help="articles to ingest (default 100, quick 30)")
    p.add_argument("--sizes", default=None, help="search corpus sizes in chunks (default 1000,10000,100000)")
    p.add_argument("--queries", type=int, default=None, help="queries per mode (default 50, quick 20)")
    p.add_argument("--out", default=str(ROOT / "bench"))
    p.add_argument("--name", default="results", help="file stem of the results (e.g. results-before)")
    p.add_argument("--part", choices=["ingest", "search"], help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--fresh-index", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    n_articles = args.articles or (30 if args.quick else 100)
    n_queries = args.queries or (20 if args.quick else 50)
    if args.part == "ingest":
        return part_ingest(n_articles)
    if args.part == "search":
        return part_search(args.size, n_queries, args.fresh_index)
    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",") if s]
    res: dict = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_start": _load(),
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                 "quick": args.quick, "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                                               text=True, cwd=ROOT).stdout.strip()}
    TMP.mkdir(parents=True, exist_ok=True)
    print(f"ingest ({n_articles} articles)...", file=sys.stderr, flush=True)
    res["ingest"] = _child(["--part", "ingest", "--articles", str(n_articles)])
    res["search"] = []
    for size in sizes:
        print(f"search at {size} chunks (first run builds bench/tmp/store-{size})...", file=sys.stderr, flush=True)
        # First a fresh process with no saved index (it builds and saves one), then one that loads it.
        built = _child(["--part", "search", "--size", str(size), "--queries", str(n_queries), "--fresh-index"])
        row = _child(["--part", "search", "--size", str(size), "--queries", str(n_queries)])
        row["bm25_first_search_building_s"] = built["bm25_first_search_s"]
        res["search"].append(row)
    print("cold start...", file=sys.stderr, flush=True)
    res["cold_start"] = bench_cold_start(3 if args.quick else 5)
    res["load_end"] = _load()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    before_path = out / "results-before.json"
    before = json.loads(before_path.read_text()) if args.name == "results" and before_path.exists() else None
    (out / f"{args.name}.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = to_markdown(res, before)
    (out / f"{args.name}.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
