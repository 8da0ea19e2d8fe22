"""Would a second stage that reranks the top 50 by sentence-level MiniLM similarity help? (issue 17)

    .venv/bin/python evals/sentence_rerank.py   # after evals/retrieval_news.py has built evals/cache/

For each question (news with time words and as_of; CLAPnq plain) the retriever returns its 50 best
passages with the settings in use; each passage gets the best cosine between the question and one of
its sentences, and the 50 are re-sorted by fused score + w * (that cosine's reciprocal rank among the
50, scaled like a fused rank). Scored like retrieval_news.py (first gold article in the top 10).
Sentence vectors are computed once and cached (evals/cache/sentences-<name>.npz): in the product they
would have to be stored at ingest (about one vector per 25 words instead of per 700 characters), since
embedding 50 passages' sentences per question costs seconds on this CPU, not milliseconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.retrieval_news import CACHE, K, cached_vectors, datasets, open_library, question_vectors  # noqa: E402

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
PARTS = (("news", "time words"), ("clapnq", "plain"))


def sentence_vectors(a, name: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Sentence embeddings by text, cached in evals/cache/sentences-<name>.npz."""
    return cached_vectors(a.embedder, CACHE / f"sentences-{name}.npz", texts, what="sentences")


def main() -> int:
    from assistant.search.retrieve import Filters
    from assistant.sentences import sentence_spans

    data = datasets()
    out: dict = {}
    for name, variant in PARTS:
        a = open_library(name, data[name]["articles"])
        cases = data[name]["variants"][variant]
        qv = question_vectors(a, name, [c[1] for c in cases])
        tops = [a.retriever.search(text, k=50, filters=Filters.from_kwargs(**f), query_vector=qv[text])
                for _, text, f, _ in cases]
        sents = {p.chunk_id: [p.text[s - p.start:e - p.start] for s, e in sentence_spans(p.text, p.start)]
                 for top in tops for p in top}
        sv = sentence_vectors(a, name, [s for ss in sents.values() for s in ss])
        rows = {}
        for w in WEIGHTS:
            ranks = []
            for (_, text, _, gold), top in zip(cases, tops):
                best = np.array([max((float(qv[text] @ sv[s]) for s in sents[p.chunk_id]), default=0.0) for p in top])
                order_by_sim = {i: r for r, i in enumerate(np.argsort(-best), 1)}
                rrf_k = a.retriever.params.rrf_k
                unit = 1 / (rrf_k + 1)
                scored = sorted(range(len(top)), key=lambda i: -(top[i].score + w * unit * (rrf_k + 1)
                                                                   / (rrf_k + order_by_sim[i])))
                got = [top[i].article_id for i in scored][:K]
                ranks.append(next((r for r, aid in enumerate(got, 1) if aid in gold), None))
            n = len(ranks)
            rows[str(w)] = {"hits@1": round(sum(r == 1 for r in ranks) / n, 4),
                            "hits@4": round(sum(1 for r in ranks if r and r <= 4) / n, 4),
                            "hits@10": round(sum(1 for r in ranks if r) / n, 4),
                            "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4)}
            print(f"{name}|{variant} w={w}: {rows[str(w)]}", flush=True)
        out[f"{name}|{variant}"] = rows
        a.close()
    path = ROOT / "evals" / "results" / "retrieval_news_sentence_rerank.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
