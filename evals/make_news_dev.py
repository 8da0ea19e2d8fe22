"""Build the news-style retrieval dev set (evals/datasets/news_dev/) from CLAPnq dev, deterministically.

    .venv/bin/python evals/make_news_dev.py [--clapnq DIR] [--out DIR]

CLAPnq passages are undated Wikipedia text; news retrieval has to cope with dates, time words and
many copies of one story. This script turns the 597 CLAPnq dev passages into a small "archive" that
has those three things, so fusion, the date prior and duplicate collapsing can be tuned on something
news-shaped that anyone can rebuild (no CNN text is redistributed):

- every passage gets a publication date (12 weeks from Monday 2025-03-03, a time of day) and an outlet;
- for half of the gold passages, an **earlier version** of the story: the same text without the
  sentences that answer the question, published 2-5 weeks before (a developing story's first
  report; a near-duplicate that must not win);
- for 30% of the gold passages, a **wire copy**: the same story carried by another outlet the same or
  the next day, lightly trimmed (counts as gold: it answers too);
- each of the 200 answerable questions becomes a quiz question asked on a date (`as_of`) a few days
  after its story, worded with a time phrase ("this week", "recently", "yesterday", "last week",
  "earlier this week") or plain. `base_question` is the question without its time phrase.

Output: articles.jsonl (id, title, source, published_at, body) and questions.jsonl (id, question,
base_question, style, as_of, gold_article_ids, stale_article_ids). Same input, same output: every
random choice comes from a generator seeded by the ids. Data: CLAPnq (Rosenthal et al., TACL 2025,
arXiv:2404.02103), Apache-2.0; passages from Wikipedia via Natural Questions (CC BY-SA).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2025, 3, 3, tzinfo=timezone.utc)  # a Monday
DAYS = 84
OUTLETS = ("Wire Service", "Morning Ledger", "City Herald", "Evening Post", "Daily Courier")
# (style, share of questions, templates); "{q}" is the CLAPnq question without its final "?".
STYLES = (
    ("this week", 0.30, ("This week: {q}?", "In this week's news, {q}?", "{q}? (asked about this week's news)")),
    ("earlier this week", 0.10, ("Earlier this week: {q}?", "{q}, as reported earlier this week?")),
    ("recently", 0.15, ("Recently reported: {q}?", "{q}, according to a recent briefing?")),
    ("yesterday", 0.10, ("From yesterday's briefing: {q}?",)),
    ("last week", 0.10, ("Last week's news: {q}?",)),
    ("plain", 0.25, ("{q}?",)),
)


def rng_for(*parts: str) -> random.Random:
    """A generator seeded by the given strings: each item's choices do not depend on file order."""
    return random.Random(int(hashlib.sha256("|".join(("news-dev-v1",) + parts).encode()).hexdigest()[:16], 16))


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:00Z")


def story_date(article_id: str) -> datetime:
    r = rng_for("date", article_id)
    return START + timedelta(days=r.randrange(DAYS), hours=r.randrange(6, 21), minutes=r.randrange(60))


def without(body_sentences: list[str], drop: list[str]) -> str:
    """The body without the given sentences (compared with whitespace normalised)."""
    norm = {" ".join(s.split()) for s in drop}
    return " ".join(s for s in body_sentences if " ".join(s.split()) not in norm)


def trimmed(sentences: list[str], r: random.Random) -> str:
    """A wire copy: the same sentences, the last one dropped when there are enough, one word case-changed."""
    keep = sentences[:-1] if len(sentences) > 4 else list(sentences)
    text = " ".join(keep)
    return re.sub(r"\bthe\b", "The", text, count=1) if r.random() < 0.5 else text


def style_for(qid: str) -> tuple[str, str]:
    r = rng_for("style", qid)
    x, acc = r.random(), 0.0
    for style, share, templates in STYLES:
        acc += share
        if x < acc:
            return style, r.choice(templates)
    return STYLES[-1][0], STYLES[-1][2][0]


def asked_on(style: str, published: datetime, qid: str) -> datetime:
    """The quiz date: a few days after the story, in the window its words name."""
    r = rng_for("asked", qid)
    day = published.replace(hour=0, minute=0)
    if style == "yesterday":
        return day + timedelta(days=1)
    if style == "last week":  # a day of the following calendar week
        return day + timedelta(days=7 - day.weekday() + r.randrange(0, 5))
    if style == "plain":
        return day + timedelta(days=r.randrange(0, 11))
    return day + timedelta(days=r.randrange(0, 7))


def build(clapnq: Path) -> tuple[list[dict], list[dict]]:
    """(articles, questions) of the news dev set."""
    arts = [json.loads(x) for x in (clapnq / "articles.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    qs = [json.loads(x) for x in (clapnq / "questions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    qs = [q for q in qs if q.get("answerable")]
    by_id = {a["id"]: a for a in arts}
    articles: list[dict] = []
    for a in arts:
        r = rng_for("outlet", a["id"])
        articles.append({"id": a["id"], "title": a["title"], "source": r.choice(OUTLETS),
                         "published_at": iso(story_date(a["id"])), "body": a["body"]})
    questions: list[dict] = []
    made: set[str] = set()
    for q in qs:
        gold = q["gold_article_ids"][0]
        src = by_id[gold]
        published = story_date(gold)
        r = rng_for("copies", gold)
        golds, stale = [gold], []
        if gold not in made:
            made.add(gold)
            evidence = [s for ev in q.get("all_evidence") or [q.get("evidence") or []] for s in ev]
            early = without(src["sentences"], evidence)
            if r.random() < 0.5 and len(early.split()) >= 40 and len(early) < 0.9 * len(src["body"]):
                stale.append(f"{gold}-early")
                articles.append({"id": stale[-1], "title": src["title"], "source": r.choice(OUTLETS),
                                 "published_at": iso(published - timedelta(days=r.randrange(14, 36))), "body": early})
            if r.random() < 0.3:
                golds.append(f"{gold}-wire")
                articles.append({"id": golds[-1], "title": f"{src['title']}: what we know",
                                 "source": r.choice(OUTLETS),
                                 "published_at": iso(published + timedelta(days=r.randrange(0, 2), hours=2)),
                                 "body": trimmed(src["sentences"], r)})
        else:  # a second question on the same story shares its copies
            golds += [a["id"] for a in articles if a["id"] == f"{gold}-wire"]
            stale += [a["id"] for a in articles if a["id"] == f"{gold}-early"]
        style, template = style_for(q["id"])
        base = q["question"].strip().rstrip("?")
        text = template.format(q=base[:1].upper() + base[1:] if template.startswith("{q}") else base)
        questions.append({"id": q["id"], "question": text, "base_question": base[:1].upper() + base[1:] + "?",
                          "style": style, "as_of": asked_on(style, published, q["id"]).date().isoformat(),
                          "published": published.date().isoformat(), "gold_article_ids": golds,
                          "stale_article_ids": stale})
    return articles, questions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clapnq", type=Path, default=ROOT.parent / "shared" / "datasets" / "clapnq_dev")
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "datasets" / "news_dev")
    args = parser.parse_args(argv)
    articles, questions = build(args.clapnq)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("articles.jsonl", articles), ("questions.jsonl", questions)):
        (args.out / name).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows), encoding="utf-8")
    styles: dict[str, int] = {}
    for q in questions:
        styles[q["style"]] = styles.get(q["style"], 0) + 1
    print(f"{len(articles)} articles ({sum(a['id'].endswith('-early') for a in articles)} earlier versions, "
          f"{sum(a['id'].endswith('-wire') for a in articles)} wire copies), {len(questions)} questions {styles} "
          f"-> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
