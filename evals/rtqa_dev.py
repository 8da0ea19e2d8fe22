"""The news dev set for `briefing eval`: a few RealTime QA 2023 weeks, answerable quiz questions, and
unanswerable ones made by holding out every page that holds their answer.

    python3 ../shared/datasets/rtqa_dev/build.py --git-dir <fetched repo> --out evals/cache/rtqa_dev
    python -m evals.rtqa_dev evals/cache/rtqa_dev --git-dir <fetched repo> --out evals/cache/rtqa_eval
    briefing eval evals/cache/rtqa_eval/questions.jsonl --corpus evals/cache/rtqa_eval/articles.jsonl \
        --index evals/cache/rtqa_eval/index --judge guards --config naive --out evals/reports/rtqa

The pages are copyrighted news with no licence stated: everything this writes stays under the gitignored
evals/cache/, and only metrics and question ids reach evals/results/.

Why a subset of weeks: the whole set is ~1,400 pages (~21k chunks of 700 characters), ~35 minutes of
embedding on 2 cores; three weeks are ~350 pages, embedded once into `--index` and reused by every run.
Each question keeps its quiz date as `as_of`, so it is answered over the pages published by then. An index
built before 43b6328 (2026-12-07) has every page undated (the pages' `published` field was not read); since
2026-12-08 the next run's ingest updates those records' dates in place (a changed date or title is an update,
not "unchanged"), re-embedding every page once (~3.5 minutes). The results from rtqa_dev_20261207_s28a on are
on the dated index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import subprocess
from pathlib import Path

MAX_HELD_PAGES = 8  # a held-out question takes at most this many pages out of the corpus
WEEKS = ("20230106", "20230303", "20230526")  # the three weeks with the most answerable questions


def _norm(text: str) -> str:
    return " " + re.sub(r"\s+", " ", re.sub(r"[^0-9a-z$%., ]", " ", text.lower().replace("\u2019", "'"))).strip() + " "


def _holds(body_norm: str, answer: str) -> bool:
    return _norm(answer) in body_norm


def build(src: Path, out: Path, git_dir: str, answerable: int = 40, unanswerable: int = 10, seed: int = 0,
          weeks: tuple[str, ...] = WEEKS) -> dict[str, int]:
    """Write out/questions.jsonl and out/articles.jsonl; return the counts."""
    qs = [json.loads(x) for x in (src / "questions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    arts = [json.loads(x) for x in (src / "articles.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    in_weeks = _page_ids(git_dir, weeks)
    qs = [q for q in qs if q["week"] in weeks and q["answerable"]]
    # A page belongs to a week through the quiz that found it; the build keeps week order, so ids are unique.
    norm = {a["id"]: _norm(a["body"]) for a in arts}
    rng = random.Random(seed)
    rng.shuffle(qs)
    # Held out: questions whose answer only a few pages of their weeks hold (a specific phrase, not "Twitter"),
    # every such page removed from the corpus; the fewest-pages ones first, so the corpus stays whole.
    removal = {}
    for q in qs:
        pages = {aid for aid in in_weeks if aid in norm and _holds(norm[aid], q["answer"])} | set(q["gold_article_ids"])
        if len(pages) <= MAX_HELD_PAGES:
            removal[q["id"]] = pages
    held = [q for q in qs if q["id"] in removal][:unanswerable]
    removed = set().union(*(removal[q["id"]] for q in held)) if held else set()
    held_ids = {q["id"] for q in held}
    kept = []
    for q in qs:
        if q["id"] in held_ids or len(kept) >= answerable:
            continue
        gold = [g for g in q["gold_article_ids"] if g not in removed]
        if gold:  # still answerable once the held-out pages are gone
            kept.append({**q, "gold_article_ids": gold})
    rows = [{**q, "answerable": True, "type": "answerable"} for q in kept] + \
           [{**q, "answerable": False, "gold_article_ids": [], "type": "held_out"} for q in held]
    rows.sort(key=lambda r: r["id"])
    corpus = [a for a in arts if a["id"] in in_weeks and a["id"] not in removed]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(out / "articles.jsonl", "w", encoding="utf-8") as f:
        for a in corpus:
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    return {"questions": len(rows), "answerable": len(kept), "unanswerable": len(held),
            "articles": len(corpus), "held_out_pages": len(removed)}


def _page_ids(git_dir: str, weeks: tuple[str, ...]) -> set[str]:
    """The ids build.py gives the search-result pages of these weeks ("n-" + sha1(url)[:12])."""
    ids = set()
    for w in weeks:
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:past/{w[:4]}/{w}_gcs.jsonl"], check=True,
                              capture_output=True).stdout.decode("utf-8", "replace")
        for line in filter(str.strip, text.splitlines()):
            for r in json.loads(line).get("search_result") or []:
                if r.get("url"):
                    ids.add("n-" + hashlib.sha1(r["url"].encode()).hexdigest()[:12])
    return ids


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="the folder build.py wrote (articles.jsonl, questions.jsonl)")
    ap.add_argument("--git-dir", default="/work/.mirror/realtimeqa+realtimeqa_public/repo",
                    help="the fetched realtimeqa_public git dir (to know which pages each week searched)")
    ap.add_argument("--out", default="evals/cache/rtqa_eval")
    ap.add_argument("--answerable", type=int, default=40)
    ap.add_argument("--unanswerable", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(json.dumps(build(Path(a.src), Path(a.out), a.git_dir, a.answerable, a.unanswerable, a.seed)))


if __name__ == "__main__":
    main()
