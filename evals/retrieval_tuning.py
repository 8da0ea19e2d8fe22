"""Fusion and diversity settings measured on CLAPnq, with a held-out half against overfitting.

Used by `evals/retrieval_clapnq.py --tune`. The questions are split by a hash of their id into a
tuning half and a held-out half; a setting is only worth adopting when it helps on both halves.

Multi-part questions: CLAPnq has one gold article per question, so pairs of questions are joined
("<q1> Also, <q2>") and scored by whether the passages cover both gold articles (both@5, both@10).
That is what diversity (per-article cap, MMR) is for; single-question MRR shows what it costs.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy as np

K = 10
FUSION_GRID = [(60, 1.0), (60, 0.75), (60, 0.5), (30, 1.0), (30, 0.5), (10, 1.0), (10, 0.75), (10, 0.5)]
MMR_GRID = [None, 0.9, 0.8, 0.7, 0.5]


def split(questions: list[dict]) -> tuple[list[dict], list[dict]]:
    """(tuning, held-out): a stable split by the hash of each question id."""
    tune = [q for q in questions if int(hashlib.sha256(q["id"].encode()).hexdigest(), 16) % 2 == 0]
    held = [q for q in questions if int(hashlib.sha256(q["id"].encode()).hexdigest(), 16) % 2 == 1]
    return tune, held


def pairs(questions: list[dict]) -> list[dict]:
    """Join consecutive questions with different gold articles into two-part questions."""
    out = []
    for a, b in zip(questions[0::2], questions[1::2]):
        if set(a["gold_article_ids"]) & set(b["gold_article_ids"]):
            continue
        out.append({"id": f"{a['id']}+{b['id']}", "question": f"{a['question']}? Also, {b['question']}?",
                    "golds": [set(a["gold_article_ids"]), set(b["gold_article_ids"])]})
    return out


def mrr(retriever: Any, questions: list[dict], vectors: dict[str, np.ndarray]) -> dict[str, float]:
    """Hits@5/Hits@10/MRR@10 of hybrid search with the retriever's current settings."""
    ranks = []
    for q in questions:
        got = [p.article_id for p in retriever.search(q["question"], k=K, mode="hybrid", query_vector=vectors[q["id"]])]
        gold = set(q["gold_article_ids"])
        ranks.append(next((r for r, aid in enumerate(got, 1) if aid in gold), None))
    n = len(ranks) or 1
    return {"hits@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            "hits@10": round(sum(1 for r in ranks if r) / n, 4),
            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4)}


def coverage(retriever: Any, two_part: list[dict], vectors: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of two-part questions whose passages include both gold articles (top 5 / top 10)."""
    both5 = both10 = 0
    distinct = []
    for q in two_part:
        got = [p.article_id for p in retriever.search(q["question"], k=K, mode="hybrid", query_vector=vectors[q["id"]])]
        both5 += all(g & set(got[:5]) for g in q["golds"])
        both10 += all(g & set(got) for g in q["golds"])
        distinct.append(len(set(got)))
    n = len(two_part) or 1
    return {"both@5": round(both5 / n, 4), "both@10": round(both10 / n, 4),
            "distinct_articles@10": round(float(np.mean(distinct)) if distinct else 0.0, 2)}


def tune(assistant: Any, questions: list[dict]) -> dict[str, Any]:
    """Measure the fusion grid and the MMR grid, each setting on its own retriever
    (`Retriever.with_params`): the assistant's retriever is never changed."""
    base = assistant.retriever
    saved = base.params
    tune_q, held_q = split(questions)
    two_part = pairs(questions)
    texts = {q["id"]: q["question"] for q in questions} | {q["id"]: q["question"] for q in two_part}
    ids = list(texts)
    vecs = assistant.embedder.embed([texts[i] for i in ids])
    vectors = dict(zip(ids, vecs))
    fusion = []
    for rrf_k, w in FUSION_GRID:
        r = base.with_params(replace(saved, rrf_k=rrf_k, bm25_weight=w))
        row = {"rrf_k": rrf_k, "bm25_weight": w, "tune": mrr(r, tune_q, vectors), "held_out": mrr(r, held_q, vectors),
               "all": mrr(r, questions, vectors)}
        fusion.append(row)
        print(f"rrf_k={rrf_k:>2} bm25_weight={w:<4}: MRR tune {row['tune']['mrr@10']:.3f} held-out "
              f"{row['held_out']['mrr@10']:.3f} all {row['all']['mrr@10']:.3f}", flush=True)
    diversity = []
    for lam in MMR_GRID:
        r = base.with_params(replace(saved, mmr_lambda=lam))
        row = {"mmr_lambda": lam, "single": mrr(r, questions, vectors), "two_part": coverage(r, two_part, vectors)}
        diversity.append(row)
        print(f"mmr_lambda={lam}: MRR {row['single']['mrr@10']:.3f}  two-part both@5 {row['two_part']['both@5']:.3f} "
              f"both@10 {row['two_part']['both@10']:.3f}", flush=True)
    # Near-duplicate collapse (dedup.py) swaps a gold passage for its group's canonical twin, which
    # this article-id metric counts as a miss: measure how much of the score that explains.
    no_collapse = mrr(base.with_params(replace(saved, collapse="off")), questions, vectors)
    groups: dict[str, int] = {}
    for rec in base.store.article_records().values():
        if rec.dup_group:
            groups[rec.dup_group] = groups.get(rec.dup_group, 0) + 1
    in_groups = sum(n for n in groups.values() if n > 1)
    print(f"hybrid without duplicate collapse: MRR {no_collapse['mrr@10']:.3f} hits@10 {no_collapse['hits@10']:.3f}; "
          f"{in_groups} passages are in near-duplicate groups", flush=True)
    return {"no_collapse": no_collapse, "articles_in_duplicate_groups": in_groups,"split": {"tune": len(tune_q), "held_out": len(held_q)}, "two_part_questions": len(two_part),
            "current": {"rrf_k": saved.rrf_k, "bm25_weight": saved.bm25_weight, "mmr_lambda": saved.mmr_lambda},
            "fusion": fusion, "diversity": diversity}


def markdown(t: dict[str, Any]) -> list[str]:
    """Tables for the results file."""
    cur = t["current"]
    lines = ["## Fusion settings (hybrid; questions split by id hash into tuning and held-out halves)", "",
             f"Tuning half {t['split']['tune']} questions, held-out half {t['split']['held_out']}. "
             f"Settings in use: rrf_k={cur['rrf_k']}, bm25_weight={cur['bm25_weight']}, mmr_lambda={cur['mmr_lambda']}.", "",
             "| rrf_k | BM25 weight | MRR@10 tuning | MRR@10 held-out | MRR@10 all | Hits@5 all |", "|---|---|---|---|---|---|"]
    for row in t["fusion"]:
        lines.append(f"| {row['rrf_k']} | {row['bm25_weight']} | {row['tune']['mrr@10']:.3f} | {row['held_out']['mrr@10']:.3f} "
                     f"| {row['all']['mrr@10']:.3f} | {row['all']['hits@5']:.3f} |")
    lines += ["", f"## Diversity ({t['two_part_questions']} two-part questions made by joining pairs of questions)", "",
              "| MMR lambda | MRR@10 single | both@5 two-part | both@10 two-part | distinct articles in 10 |", "|---|---|---|---|---|"]
    for row in t["diversity"]:
        lam = "off (cap only)" if row["mmr_lambda"] is None else row["mmr_lambda"]
        lines.append(f"| {lam} | {row['single']['mrr@10']:.3f} | {row['two_part']['both@5']:.3f} | {row['two_part']['both@10']:.3f} "
                     f"| {row['two_part']['distinct_articles@10']} |")
    if "no_collapse" in t:
        nc = t["no_collapse"]
        lines += ["", f"Near-duplicate collapse (dedup.py): {t['articles_in_duplicate_groups']} passages sit in duplicate groups; "
                  f"hybrid without the collapse scores Hits@5 {nc['hits@5']:.3f}, Hits@10 {nc['hits@10']:.3f}, MRR@10 {nc['mrr@10']:.3f} "
                  "(a collapsed gold passage is shown through its group's twin, which this article-id metric counts as a miss)."]
    return lines + [""]
