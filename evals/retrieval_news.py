"""Retrieval on a news-style archive and on CLAPnq: dense-only, BM25-only and hybrid, with and without
question time words, and the tuning of fusion, the date prior, the per-article cap, MMR, duplicate
collapsing and headline matching (issue 17).

    .venv/bin/python evals/retrieval_news.py [--tune] [--code DIR --label before] [--out DIR]

Datasets: evals/datasets/news_dev (made by evals/make_news_dev.py from CLAPnq dev: dated stories,
earlier versions and wire copies, quiz questions with time words and a quiz date) and CLAPnq dev
itself (undated Wikipedia passages, 200 answerable questions). Libraries are ingested once into
evals/cache/ (gitignored) and reused; question vectors are cached there too.

Variants per dataset (k=10, rank = position of the first passage of a gold article):
- news `time words`: the quiz question with its time phrase, as_of = the quiz date;
- news `no time words`: the same text with time_words=False, as_of = the quiz date;
- news `no as_of`: the quiz question and no as_of (the library is an archive: "today" is years later);
- clapnq `plain`: the question as written; clapnq `time words`: the question with a time phrase
  ("this week: ...") over the undated corpus, which must not lose anything.

`--code DIR` imports `assistant` from another checkout (e.g. the commit before this change, unpacked
with `git archive`) to measure "hybrid before"; settings that checkout lacks are left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NEWS = ROOT / "evals" / "datasets" / "news_dev"
CLAPNQ = ROOT.parent / "shared" / "datasets" / "clapnq_dev"
CACHE = ROOT / "evals" / "cache"
K = 10
MODES = ("dense", "bm25", "hybrid")
CLAPNQ_PHRASES = ("This week: {q}?", "{q}, reported recently?", "Earlier this week: {q}?")


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def datasets() -> dict[str, dict]:
    """name -> {articles: path, variants: {variant: [(id, text, filters, gold set)]}}."""
    news_q = load(NEWS / "questions.jsonl")
    clap_q = [q for q in load(CLAPNQ / "questions.jsonl") if q.get("answerable")]

    def phrased(i: int, q: str) -> str:
        return CLAPNQ_PHRASES[i % len(CLAPNQ_PHRASES)].format(q=q[:1].upper() + q[1:])

    return {
        "news": {"articles": NEWS / "articles.jsonl", "variants": {
            "time words": [(q["id"], q["question"], {"as_of": q["as_of"]}, set(q["gold_article_ids"])) for q in news_q],
            "no time words": [(q["id"], q["question"], {"as_of": q["as_of"], "time_words": False},
                               set(q["gold_article_ids"])) for q in news_q],
            "no as_of": [(q["id"], q["question"], {}, set(q["gold_article_ids"])) for q in news_q],
        }},
        "clapnq": {"articles": CLAPNQ / "articles.jsonl", "variants": {
            "plain": [(q["id"], q["question"], {}, set(q["gold_article_ids"])) for q in clap_q],
            "time words": [(q["id"], phrased(i, q["question"]), {}, set(q["gold_article_ids"]))
                           for i, q in enumerate(clap_q)],
        }},
    }


def open_library(name: str, articles: Path):
    """An Assistant over a cached library of `articles` (ingested on first use)."""
    from assistant import Assistant

    digest = hashlib.sha256(articles.read_bytes()).hexdigest()[:12]
    data_dir = CACHE / f"{name}-{digest}"
    fresh = not (data_dir / ".ingested").exists()
    a = Assistant.from_settings(data_dir=data_dir)
    if fresh:
        print(f"ingesting {articles} into {data_dir} (once) ...", flush=True)
        report = a.ingest([articles])
        print(report, flush=True)
        (data_dir / ".ingested").write_text(str(report), encoding="utf-8")
    return a


def cached_vectors(embedder, path: Path, texts: list[str], what: str = "") -> dict[str, np.ndarray]:
    """Embeddings by text, kept in the .npz file `path` (texts and vectors): only texts not in it yet are
    embedded, then the file is rewritten. The one cache loader of the retrieval evals (sentence_rerank.py too)."""
    have: dict[str, np.ndarray] = {}
    if path.exists():
        z = np.load(path, allow_pickle=False)
        have = dict(zip([str(t) for t in z["texts"]], z["vectors"]))
    missing = sorted({t for t in texts if t not in have})
    if missing:
        if what:
            print(f"embedding {len(missing)} {what} once ...", flush=True)
        for t, v in zip(missing, embedder.embed(missing)):
            have[t] = v
        np.savez(path, texts=np.array(list(have)), vectors=np.stack(list(have.values())))
    return have


def question_vectors(a, name: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Query embeddings by text, cached in evals/cache/<name>-queries.npz."""
    return cached_vectors(a.embedder, CACHE / f"{name}-queries.npz", texts)


def run(retriever, cases: list[tuple], mode: str, vectors: dict[str, np.ndarray]) -> dict:
    """Hits@1/4/10, MRR@10, questions with no passage, mean ms/query and the ranks."""
    from assistant.search.retrieve import Filters

    ranks: list[int | None] = []
    empty = 0
    t0 = time.perf_counter()
    for _, text, filters, gold in cases:
        got = retriever.search(text, k=K, filters=Filters.from_kwargs(**filters), mode=mode,
                               query_vector=vectors[text])
        empty += not got
        ranks.append(next((r for r, p in enumerate(got, 1) if p.article_id in gold), None))
    n = len(ranks) or 1
    return {"hits@1": round(sum(1 for r in ranks if r == 1) / n, 4),
            "hits@4": round(sum(1 for r in ranks if r and r <= 4) / n, 4),
            "hits@10": round(sum(1 for r in ranks if r) / n, 4),
            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4), "empty": empty,
            "ms": round(1000 * (time.perf_counter() - t0) / n, 1), "ranks": ranks}


SETTINGS = ("rrf_k", "bm25_weight", "time_weight", "per_article_cap", "mmr_lambda", "collapse")


def configure(a, cfg: dict):
    """A retriever over `a`'s library with the settings in `cfg` (RetrievalParams names) passed to it:
    `a.retriever` itself is left as it is."""
    from dataclasses import replace

    return a.retriever.with_params(replace(a.retriever.params, **cfg))


def current(a) -> dict:
    """The retrieval settings in use (SETTINGS names). `--code` may load a checkout from before
    RetrievalParams, whose retriever kept them as attributes: those are read, never set."""
    r = a.retriever
    if hasattr(r, "params"):
        return {k: getattr(r.params, k) for k in SETTINGS}
    return {k: (r.weights["bm25"] if k == "bm25_weight" else getattr(r, k)) for k in SETTINGS
            if k == "bm25_weight" or hasattr(r, k)}


def measure(libs: dict, data: dict, vectors: dict, modes=MODES, variants=None) -> dict:
    out: dict = {}
    for name, d in data.items():
        for variant, cases in d["variants"].items():
            if variants and (name, variant) not in variants:
                continue
            for mode in modes:
                out[f"{name}|{variant}|{mode}"] = run(libs[name].retriever, cases, mode, vectors[name])
    return out


VARIANT_TEXT = {
    "news|time words": "quiz question with its time words, as_of = quiz date",
    "news|no time words": "same question, time_words=False, as_of = quiz date",
    "news|no as_of": "quiz question with its time words, no as_of (the archive is years old)",
    "clapnq|plain": "CLAPnq question as written (undated corpus)",
    "clapnq|time words": "CLAPnq question with \"this week\"/\"recently\" added (undated corpus)",
}


def report(out: Path) -> Path:
    """evals/results/retrieval_news.md from retrieval_news_before.json and retrieval_news_after.json."""
    before = json.loads((out / "retrieval_news_before.json").read_text(encoding="utf-8"))
    after = json.loads((out / "retrieval_news_after.json").read_text(encoding="utf-8"))
    lines = ["# Retrieval on news-style questions and on CLAPnq (issue 17)", "",
             f"k={K}; rank = position of the first passage of a gold article (news: the story or a wire copy). "
             "Datasets: `evals/datasets/news_dev` (200 quiz questions over 755 dated passages with earlier versions "
             "and wire copies, made by `evals/make_news_dev.py`) and CLAPnq dev (200 answerable questions, 597 "
             "undated passages).", "",
             f"- hybrid before: commit before issue 17 (`{_fmt(before['settings'])}`), time words as hard filters; "
             f"measured {before['date']}, load {before['load']}.",
             f"- dense-only, BM25-only, hybrid after: this code (`{_fmt(after['settings'])}`); dense-only and "
             f"BM25-only use the same date prior, cap, collapse and MMR; measured {after['date']}, load {after['load']}.",
             "- \"no passage\": questions for which search returned nothing at all.", ""]
    for key, text in VARIANT_TEXT.items():
        lines += [f"## {key.replace('|', ': ')} — {text}", "",
                  "| retrieval | Hits@1 | Hits@4 | Hits@10 | MRR@10 | no passage | ms/query |", "|---|---|---|---|---|---|---|"]
        for label, run_, mode in (("dense-only", after, "dense"), ("BM25-only", after, "bm25"),
                                  ("hybrid before", before, "hybrid"), ("hybrid after", after, "hybrid")):
            m = run_["runs"].get(f"{key}|{mode}")
            if m:
                lines.append(f"| {label} | {m['hits@1']:.3f} | {m['hits@4']:.3f} | {m['hits@10']:.3f} | {m['mrr@10']:.3f} "
                             f"| {m['empty']} | {m['ms']} |")
        lines.append("")
    tuned = out / "retrieval_news_tuned.json"
    tuning = after.get("tuning") or (json.loads(tuned.read_text(encoding="utf-8")).get("tuning") if tuned.exists() else None)
    if tuning:
        lines += tuning_markdown(tuning)
    rerank = out / "retrieval_news_sentence_rerank.json"
    if rerank.exists():
        rr = json.loads(rerank.read_text(encoding="utf-8"))
        lines += ["## Sentence-level MiniLM rerank of the top 50 (evals/sentence_rerank.py)", "",
                  "| weight | " + " | ".join(f"{k} MRR@10 (Hits@1)" for k in rr) + " |", "|---|" + "---|" * len(rr)]
        for w in next(iter(rr.values())):
            lines.append(f"| {w} | " + " | ".join(f"{rr[k][w]['mrr@10']:.4f} ({rr[k][w]['hits@1']:.3f})" for k in rr) + " |")
        lines.append("")
    lines += DECISIONS + ["Data: CLAPnq (Rosenthal et al., TACL 2025, arXiv:2404.02103), Apache-2.0; passages from "
                          "Wikipedia via Natural Questions (CC BY-SA).", ""]
    path = out / "retrieval_news.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


DECISIONS = [
    "## Decisions", "",
    "- **Time words are a prior, not a filter.** Before, they emptied 116 of 200 news questions without as_of and "
    "133 of 200 CLAPnq questions with a time phrase (an undated corpus), and lost the Sunday story of a Thursday "
    "\"this week\" question. Now nothing is ever empty; with as_of the words lift hybrid MRR@10 from 0.961 "
    "(words off) to 0.979.",
    "- **Duplicates collapse to the best-ranked copy** (`collapse=best`), not the earliest: an earlier version of a "
    "developing story otherwise hides the story itself (news MRR 0.65 -> 0.97 held-out). `off` scores a little "
    "higher here because this first-gold metric cannot see the cost of showing one story three times; it is "
    "measured, never chosen.",
    "- **time_weight 0.5**: 0.5, 1 and 2 tie on the tuning objective; 0.5 hurts least when the words are read "
    "against the wrong \"now\" (news without as_of: hybrid MRR 0.723 at 1.0, 0.876 at 0.5).",
    "- **Fusion, cap and MMR unchanged** (rrf_k 10, BM25 weight 0.5, cap 3, MMR 0.7): the best or tied on the "
    "tuning half. A BM25 weight of 0.75 helps news (MRR 0.987) but puts hybrid below dense-only on CLAPnq "
    "(0.969 < 0.973), so it was not taken.",
    "- **Not adopted**: headline match (a little better on news, more worse on CLAPnq: the objective fell at every "
    "weight on both halves); sentence-level rerank (+1 news question, nothing on CLAPnq, and it needs a stored "
    "vector per sentence: ~3x the vectors, stored at ingest, "
    "since embedding 50 passages' sentences per question takes seconds here); named-entity match was not measured: "
    "both question sets are CLAPnq's lower-case search queries, with no cased names to match.",
    "- **Hybrid vs its parts**: at least as good as the better of dense-only and BM25-only on every metric for "
    "news with as_of (with and without time words) and CLAPnq plain. Two one-question gaps remain: news without "
    "as_of, Hits@10 0.915 vs dense 0.920, and CLAPnq with a time phrase, Hits@1 0.965 vs 0.970 (MRR equal).",
    "- **Caveat**: the news set reuses CLAPnq prose, where dense beats BM25; on real news (issue 17's CNN "
    "measurement) BM25 led. The fusion weights should be checked again on real news text when a shareable set exists.",
    "- ms/query columns were taken on a shared 2-core machine at load 10-12: compare them within a run only "
    "(`make bench` has the latency targets).", "",
]


def _fmt(settings: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def tuning_markdown(t: dict) -> list[str]:
    lines = ["## Tuning (hybrid; each stage keeps the best value on the tuning half, in this order)", "",
             "Objective: mean MRR@10 of news (time words) and CLAPnq (plain). Held-out = the other half of the "
             "questions (split by id hash).", ""]
    for st in t["stages"]:
        lines += [f"### {st['stage']}", "",
                  "| setting | objective tune | objective held-out | news time words MRR (held-out) "
                  "| news no time words MRR (held-out) | CLAPnq MRR (held-out) |", "|---|---|---|---|---|---|"]
        for r in st["rows"]:
            changed = {k: v for k, v in r["settings"].items() if k in _keys(st)}
            lines.append(f"| {_fmt(changed)} | {r['objective_tune']:.4f} | {r['objective_held_out']:.4f} "
                         f"| {r['news|time words']['held_out']['mrr@10']:.3f} "
                         f"| {r['news|no time words']['held_out']['mrr@10']:.3f} "
                         f"| {r['clapnq|plain']['held_out']['mrr@10']:.3f} |")
        lines.append("")
    lines += [f"Chosen: `{_fmt(t['chosen'])}`.", ""]
    return lines


def _keys(stage: dict) -> set[str]:
    """The settings a stage varied."""
    rows = [r["settings"] for r in stage["rows"]]
    return {k for k in rows[0] if len({repr(r.get(k)) for r in rows}) > 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, help="import `assistant` from this checkout instead")
    parser.add_argument("--label", default="after", help="name of this run in the results json")
    parser.add_argument("--tune", action="store_true", help="also run the tuning grid (evals/news_tuning.py)")
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    parser.add_argument("--report", action="store_true", help="only write retrieval_news.md from the two json files")
    args = parser.parse_args(argv)
    if args.report:
        sys.path.insert(0, str(ROOT))
        print(f"wrote {report(args.out)}")
        return 0
    sys.path.insert(0, str(ROOT))
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    CACHE.mkdir(parents=True, exist_ok=True)
    data = datasets()
    libs = {name: open_library(name, d["articles"]) for name, d in data.items()}
    vectors = {name: question_vectors(libs[name], name, [c[1] for cases in d["variants"].values() for c in cases])
               for name, d in data.items()}
    result = {"label": args.label, "code": str(args.code or ROOT), "settings": current(libs["news"]),
              "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "load": [round(x, 2) for x in os.getloadavg()], "runs": measure(libs, data, vectors)}
    for key, m in result["runs"].items():
        print(f"{key:<32} H@1 {m['hits@1']:.3f} H@4 {m['hits@4']:.3f} H@10 {m['hits@10']:.3f} "
              f"MRR {m['mrr@10']:.3f} empty {m['empty']:>3} {m['ms']} ms", flush=True)
    if args.tune:
        from evals.news_tuning import tune

        result["tuning"] = tune(libs, data, vectors)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"retrieval_news_{args.label}.json"
    for m in result["runs"].values():
        m.pop("ranks", None)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    for lib in libs.values():
        lib.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
