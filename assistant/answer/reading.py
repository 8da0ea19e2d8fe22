"""What one question's answer reads: the retrieved passages, then the keyed evidence sentences the model sees.

The retrieved articles are read whole when together they fit settings.whole_article_tokens (a short briefing:
the same evidence block for every question, so the model server reuses what it has read); else the best
sentences, each opening on a pronoun with the sentence before it. A follow-up's rewrite is given the same block
when it is whole articles (whole_block), so that request too shares the answer prompt's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

from .context import attach_chunks, whole_articles, widen
from .evidence import format_evidence, select_evidence
from .followup import last_question
from ..models.embed import Embedder
from ..search.retrieve import Filters, Retriever
from ..search.timewords import SearchDates
from ..types import EvidenceSentence, Passage

if TYPE_CHECKING:
    from ..config import Settings


class Library(Protocol):
    """What answering needs of the store: the article bodies, to cite each sentence verbatim."""

    def bodies(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The body of each article id that exists."""
        ...


@dataclass(frozen=True)
class Reader:
    """The parts reading needs: where passages come from, the article bodies, the embedder and the settings."""

    retriever: Retriever
    library: Library
    embedder: Embedder
    settings: "Settings"


def read_evidence(reader: Reader, question: str, k: int | None, filters: Filters
                  ) -> tuple[list[Passage], list[EvidenceSentence], str, list[str]]:
    """The retrieved passages, the keyed evidence sentences the model reads, their layout, and the retriever's
    notes (which dates were searched)."""
    settings, embedder = reader.settings, reader.embedder
    qvec = embedder.embed([question])[0]
    found = reader.retriever.retrieve(question, k=k or settings.answer_k, filters=filters, query_vector=qvec)
    layout, budget, read = settings.evidence_layout, settings.context_tokens, found.passages
    read, stale_note = _without_stale(read, found.dates, settings.stale_days)
    notes = list(found.notes) + ([stale_note] if stale_note else [])
    if layout == "articles" and read:
        bodies = reader.library.bodies(p.article_id for p in read)
        whole = whole_articles(read, bodies, settings.whole_article_tokens, embedder.count_tokens)
        if whole:
            read, budget = whole, settings.whole_article_tokens  # they fit that budget: read them all
        else:
            # Too long to read whole: the best sentences, as layout "sentences" (measured on the news dev set:
            # whole passages made 1,200-1,400-token prompts and the 1.5B model refused more), each sentence
            # that opens on a pronoun with the one before it (the passages are widened for that).
            read, layout = widen(read, bodies), "sentences"
    evidence = select_evidence(embedder, question, qvec, read, budget, layout)
    if read is not found.passages:
        evidence = attach_chunks(evidence, found.passages)
    return list(found.passages), evidence, layout, notes


def _without_stale(passages: list[Passage], dates: SearchDates, days: int) -> tuple[list[Passage], str]:
    """The passages a question about a time may be answered from, and a note on those left out.

    Only with an explicit as_of (the caller fixed "now") and no date bounds of their own: then "this week" or
    "on Sunday" names a window (the one the retriever read, `dates.preferred`), and a passage published more than
    `days` before it tells of another week's events ("Liverpool won the final on Sunday" in a story from the
    year before). Undated passages stay."""
    window = dates.preferred
    if not days or dates.as_of is None or dates.after is not None or dates.before is not None or window is None:
        return passages, ""
    cutoff = window.after - timedelta(days=days)
    stale = [p for p in passages if p.published_at is not None and p.published_at < cutoff]
    if not stale:
        return passages, ""
    best = stale[0]  # the best-ranked: what the briefings say closest to the question, from another time
    # No quotation marks: public_note hides quoted words (they may be the model's).
    note = (f"Left out {len({p.article_id for p in stale})} briefing(s) published before {cutoff.date().isoformat()}: "
            f"the question asks about {window.after.date().isoformat()} to {window.before.date().isoformat()} "
            f"({window.phrase}); the closest of them is from {best.published_at.date().isoformat()}: {best.title}")
    return [p for p in passages if p not in stale], note


def whole_block(reader: Reader, question: str, history: Sequence[Any], k: int | None, filters: Filters) -> str | None:
    """The evidence block a follow-up's answer will most likely read, when it is whole articles: retrieved for
    the last question asked and the follow-up together. None when the articles do not fit whole (the
    evidence then depends on the rewritten question, and reading it in the rewrite would only cost time)."""
    query = f"{last_question(history)} {question}".strip()
    _, evidence, layout, _ = read_evidence(reader, query, k, filters)
    return format_evidence(evidence, layout) if layout == "articles" and evidence else None
