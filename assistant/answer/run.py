"""The state of one answer while the pipeline makes it (pipeline.py): what was read, checked and shown so far, the
usage, timings and notes; `finish` turns it into the Answer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

from .entailment import question_share
from .verify import Checked, checked_answer, shown_citations
from ..types import Answer, EvidenceSentence, Passage, TextDelta

if TYPE_CHECKING:
    from ..config import Settings


class AnswerRun:
    """The state of one answer while it is being made; `finish` turns it into the Answer."""

    def __init__(self, question: str, t0: float, settings: "Settings") -> None:
        self.question, self.t0, self.settings = question, t0, settings
        self.standalone = question
        self.timings: dict[str, float] = {}
        self.usage: dict[str, int] = {}
        self.notes: list[str] = []
        self.passages: list[Passage] = []
        self.evidence: list[EvidenceSentence] = []
        self.checked: list[Checked] = []
        self.raw = ""
        self.model = ""
        self.style = ""
        self.judge_calls = 0
        self._shown = 0

    def add_usage(self, more: dict[str, int]) -> None:
        """Add a model call's token counts to this answer's usage."""
        add_usage(self.usage, more)

    def shown_count(self) -> int:
        """How many checked sentences hold text to show (a held lead included, before it is yielded)."""
        return sum(1 for c in self.checked if c.shown)

    def show(self, checked: Checked) -> TextDelta:
        """The text event that shows `checked`, timing the first one shown."""
        if "first_shown_s" not in self.timings:
            self.timings["first_shown_s"] = round(time.perf_counter() - self.t0, 3)
        text = checked.shown if not self._shown else " " + checked.shown
        self._shown += 1
        return TextDelta(text, checked.citations)

    def finish(self, model: str) -> Answer:
        """The Answer made of what was checked, with the run's evidence, usage, timings and notes."""
        cited = {c.article_id for c in shown_citations(self.checked)}
        dates = [p.published_at for p in self.passages if p.article_id in cited and p.published_at]
        if self.judge_calls:
            self.usage["judge_calls"] = self.judge_calls
        if not self.shown_count():
            note = closest_note(self.standalone, self.evidence)
            if note:
                self.notes.append(note)
        return checked_answer(self.question, self.checked, passages=self.passages, model=self.model or model,
                              usage=self.usage, latency_s=round(time.perf_counter() - self.t0, 3),
                              settings_hash=self.settings.settings_hash(), standalone_question=self.standalone,
                              evidence=self.evidence, raw_text=self.raw, timings=self.timings,
                              as_of=max(dates).date().isoformat() if dates else "", notes=self.notes,
                              style=self.style)


CLOSEST_SHARE = 0.5  # of the question's content words: below it a sentence is on another subject


def closest_note(question: str, evidence: Sequence[EvidenceSentence]) -> str:
    """What a refusal adds when the briefings say something close (issue 26 item 5): the evidence sentence
    holding the most of the question's words, with its key, briefing and date; "" when none holds half of them.
    The sentence is the briefing's, verbatim; it is not claimed to answer."""
    if not evidence:
        return ""
    share, best = max(((question_share(question, e.text), e) for e in evidence), key=lambda pair: pair[0])
    if share < CLOSEST_SHARE:
        return ""
    where = ", ".join(x for x in (best.title, best.published_at.date().isoformat() if best.published_at else "") if x)
    return f"The closest the briefings come is [{best.key}]" + (f" ({where})" if where else "") + f": {best.text}"


def add_usage(total: dict[str, int], more: dict[str, int]) -> None:
    """Add the integer counts of `more` (a model call's usage) into `total`."""
    for key, value in (more or {}).items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
