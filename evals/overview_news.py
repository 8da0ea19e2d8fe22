"""Overview questions over real news (issue 26 item 7): do the points come from different articles and parts?

    python -m evals.overview_news [--index evals/cache/rtqa_eval/index] [--out evals/results/overview_news_DATE.md]

Asks a few overview questions written for this measurement (below; not quiz questions) through
`Assistant.ask`, each with the `as_of` of the news week it is about, over the news dev index
(evals/rtqa_dev.py builds it). For each answer it records the points shown, how many of them are checked
claims and how many quotes, the distinct articles and article sections they cite, the distinct articles
retrieved (what the points could have come from), and the time to the first checked point and to the end.

The pages are copyrighted news with no licence stated: the report holds the questions, counts and article ids,
never page text or answer text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# (as_of, question): overview questions about a week of the dev set, several articles on each topic.
QUESTIONS = [
    ("2023-01-06", "What happened in the vote for House speaker this week?"),
    ("2023-01-06", "Summarize the news about Damar Hamlin this week."),
    ("2023-01-05", "What happened after the death of Pelé?"),
    ("2023-03-03", "What are the main points of the new Brexit deal for Northern Ireland?"),
    ("2023-05-26", "Summarize Ron DeSantis's presidential campaign launch in three points."),
]


def measure(index: str) -> list[dict[str, Any]]:
    """Ask QUESTIONS over the library in `index`; one row of counts per question."""
    os.environ["BRIEFING_DATA_DIR"] = index
    from assistant import Assistant
    from assistant.answer.verify import QUOTE_LEAD

    rows = []
    with Assistant.from_settings() as a:
        for as_of, question in QUESTIONS:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            answer = a.ask(question, as_of=as_of)
            wall = time.perf_counter() - t0
            shown = [s for s in answer.sentences if s.kept]
            cited = {c.article_id for c in answer.citations}
            parts = {(c.article_id, next((p.section for p in answer.passages if p.chunk_id == c.chunk_id), ""))
                     for c in answer.citations}
            rows.append({
                "as_of": as_of, "question": question, "answered": answer.answerable, "points": len(shown),
                "quotes": sum(1 for s in shown if s.text.startswith(QUOTE_LEAD)),
                "articles_cited": len(cited), "parts_cited": len(parts),
                "articles_retrieved": len({p.article_id for p in answer.passages}),
                "cited_ids": sorted(cited), "first_shown_s": answer.timings.get("first_shown_s"),
                "total_s": round(wall, 2), "load1": round(load, 2)})
    return rows


def report(rows: list[dict[str, Any]], note: str) -> str:
    """The Markdown table of `rows`, with medians."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Overview questions over real news ({stamp})", "",
             "Bundled model, shipped defaults, 2 cores, the news dev index with dates; each question asked with the "
             f"as_of of its week. Counts and ids only (the pages are copyrighted). {note}", "",
             "| as_of | question | answered | points | of them quotes | articles cited | parts cited | "
             "articles retrieved | first point s | total s | load |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['as_of']} | {r['question']} | {'yes' if r['answered'] else 'refused'} | {r['points']} | "
                     f"{r['quotes']} | {r['articles_cited']} | {r['parts_cited']} | {r['articles_retrieved']} | "
                     f"{r['first_shown_s']} | {r['total_s']} | {r['load1']} |")
    answered = [r for r in rows if r["answered"]]
    if answered:
        lines += ["", f"Answered {len(answered)} of {len(rows)}; median points "
                  f"{statistics.median(r['points'] for r in answered)}, median articles cited "
                  f"{statistics.median(r['articles_cited'] for r in answered)}, median parts cited "
                  f"{statistics.median(r['parts_cited'] for r in answered)}.", "",
                  "Cited article ids: " + "; ".join(f"{r['question'][:40]}… {', '.join(r['cited_ids'])}"
                                                    for r in answered)]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default=str(ROOT / "evals" / "cache" / "rtqa_eval" / "index"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    out = Path(a.out or ROOT / "evals" / "results" / f"overview_news_{datetime.now():%Y%m%d}.md")
    text = report(measure(a.index), a.note)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
