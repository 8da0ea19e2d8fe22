"""Story timeline: the same question answered for each briefing date that has evidence, oldest first,
then what changed between consecutive dates.

Each date's answer goes through the ordinary answer pipeline (pipeline.Answerer) restricted to that
day (UTC), so every statement is cited and verified by verify.py; a date whose answer is the refusal
is left out. The closing "what changed" answer is written from the sentences the dated answers
cited, re-keyed, and checked by the same gate (verify.Verifier): every sentence must cite two
dates, and a date it names must be the cited briefing's date or be in its text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, Mapping, Sequence

from .citations import content_stems, split_answer
from .evidence import format_evidence
from .injection import clean_answer, drop_echoes, orders_in
from ..models.llm import Completion
from .pipeline import Answerer
from .prompting import load_prompt
from ..search.retrieve import Filters
from ..types import REFUSAL, Answer, EvidenceSentence, Passage, final_answer
from .verify import Checked, checked_answer, shown_citations

MAX_DATES = 6  # one model call per date: a long story is cut to its best-matching dates
PER_DATE_EVIDENCE = 4  # cited sentences per date shown to the "what changed" prompt


@dataclass(frozen=True)
class TimelinePlan:
    """Sent first by `Timeline.stream`: the dates (ISO, oldest first) that will be answered."""

    question: str
    dates: list[str]


class Timeline:
    """Story timelines over the library, made with the ordinary answer pipeline (`answerer`)."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

    def stream(self, question: str, filters: Filters, k: int | None = None,
               max_dates: int = MAX_DATES) -> Iterator[TimelinePlan | Answer]:
        """Yield a TimelinePlan, then one Answer (kind="date") per date with evidence, oldest first, then
        the "what changed" Answer (kind="changes") when at least two dates were answered and it holds up."""
        question = question.strip()
        days = self.evidence_days(question, filters, k, max_dates)
        yield TimelinePlan(question, [d.isoformat() for d in days])
        entries: list[Answer] = []
        for day in days:
            answer = self._answer_for_day(question, filters, k, day)
            if answer.answerable:  # a date without relevant evidence is skipped, not shown as a refusal
                entries.append(answer)
                yield answer
        if len(entries) >= 2:
            changes = self.what_changed(question, entries)
            if changes.answerable:
                yield changes

    def evidence_days(self, question: str, filters: Filters, k: int | None, max_dates: int) -> list[date]:
        """The briefing dates (UTC days) whose retrieved passages share a content word with the question:
        the `max_dates` best-scoring ones, returned oldest first. Undated passages cannot be placed."""
        if not question:
            return []
        pool = max(20, 3 * (k or self.answerer.settings.answer_k))
        passages = self.answerer.retriever.search(question, k=pool, filters=filters)
        q_stems = content_stems(question)
        best: dict[date, float] = {}
        for p in passages:
            if p.published_at is None or not (q_stems & content_stems(f"{p.title} {p.text}")):
                continue
            day = p.published_at.astimezone(timezone.utc).date()
            best[day] = max(best.get(day, 0.0), p.score)
        return sorted(sorted(best, key=lambda d: -best[d])[:max_dates])

    def _answer_for_day(self, question: str, filters: Filters, k: int | None, day: date) -> Answer:
        lo = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        hi = lo + timedelta(days=1) - timedelta(seconds=1)
        after = max(lo, filters.published_after) if filters.published_after else lo
        before = min(hi, filters.published_before) if filters.published_before else hi
        day_filters = replace(filters, published_after=after, published_before=before, recency=False)
        final = final_answer(self.answerer.stream(question, history=None, k=k, filters=day_filters))
        return replace(final, kind="date", as_of=final.as_of or day.isoformat())

    def what_changed(self, question: str, entries: Sequence[Answer]) -> Answer:
        """What changed between consecutive dated answers, cited to the sentences those answers cited.

        The comparison goes through the same gate as every answer (injection clean-up, echo filter,
        verify.Verifier); each sentence must cite briefings of two different dates, and a date written
        in a sentence must be the cited briefing's date or appear in its text.
        """
        answerer, settings = self.answerer, self.answerer.settings
        t0 = time.perf_counter()
        evidence = changes_evidence(entries)
        dates = [e.as_of for e in entries]
        block = format_evidence(evidence)
        messages = load_prompt("timeline_changes").render(
            evidence=block, question=question, dates=", ".join(dates), refusal=REFUSAL)
        out: Completion = answerer.llm.complete(messages, max_tokens=settings.llm.max_tokens)
        passages = _union_passages(entries)
        system = messages[0]["content"]
        text, _ = drop_echoes(clean_answer(out.text), orders_in(p.text for p in passages), [e.text for e in evidence],
                              question, system)
        verifier = answerer.verifier(evidence, answerer.checker(), question, block, quote_fallback=False, min_dates=2)
        checked = [two_dates(verifier.check(s, keys, i), verifier.by_key)
                   for i, (s, keys) in enumerate(split_answer(text))]
        by_chunk = {p.chunk_id: p for p in passages}
        cited = [by_chunk[c.chunk_id].published_at for c in shown_citations(checked)
                 if c.chunk_id in by_chunk and by_chunk[c.chunk_id].published_at]
        return checked_answer(question, checked, passages=passages, model=out.model or getattr(answerer.llm, "name", ""),
                              usage=dict(out.usage or {}), latency_s=round(time.perf_counter() - t0, 3),
                              settings_hash=settings.settings_hash(), standalone_question=question,
                              evidence=evidence, raw_text=out.text,
                              timings={"generate_s": round(time.perf_counter() - t0, 3)},
                              as_of=max(cited).date().isoformat() if cited else "", kind="changes")


def two_dates(checked: Checked, by_key: Mapping[int, EvidenceSentence]) -> Checked:
    """A "what changed" sentence is shown only when its citations span two briefing dates, whatever path of
    the gate let it through. The Verifier checks that rule for a claim, but when a claim only dropped who says
    so it shows the hedged sentence that says it as an attributed quote ("The briefing says: “…”"),
    skipping both the two-dates rule and the "answers the question" test: one sentence of one date, which
    states no change between dates."""
    if not checked.shown:
        return checked
    days = {by_key[c.key].published_at.date() for c in checked.citations
            if c.key in by_key and by_key[c.key].published_at}
    quote = any(c.verified_by == "exact quote" for c in checked.citations)
    if len(days) >= 2 and not quote:
        return checked
    why = "a quote of one sentence states no change between dates" if quote else \
        "the citations span one briefing date only"
    note = "; ".join(x for x in (checked.note, f"withheld: {why}") if x)
    return replace(checked, shown="", citations=(), note=note, layer="dates")


def changes_evidence(entries: Sequence[Answer]) -> list[EvidenceSentence]:
    """The sentences each dated answer cited (at most PER_DATE_EVIDENCE per date), oldest date first,
    re-keyed 1..n so the comparison prompt cites them like any other evidence."""
    out: list[EvidenceSentence] = []
    for entry in entries:
        keys = list(dict.fromkeys(c.key for c in entry.citations))[:PER_DATE_EVIDENCE]
        by_key = {e.key: e for e in entry.evidence}
        for key in keys:
            if key in by_key:
                out.append(replace(by_key[key], key=len(out) + 1))
    return out


def _union_passages(entries: Sequence[Answer]) -> list[Passage]:
    seen: dict[str, Passage] = {}
    for entry in entries:
        for p in entry.passages:
            seen.setdefault(p.chunk_id, p)
    return list(seen.values())


def format_timeline(entries: Sequence[Answer]) -> str:
    """Plain text for the CLI: a heading per date, then "What changed", each with its cited sources."""
    if not entries:
        return REFUSAL
    parts = []
    for entry in entries:
        head = "What changed" if entry.kind == "changes" else entry.as_of
        parts.append(f"== {head} ==\n{entry}")
    return "\n\n".join(parts)
