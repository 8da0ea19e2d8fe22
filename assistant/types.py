"""Plain values passed between the parts of the assistant (frozen dataclasses)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

# The one refusal sentence. The answer prompt tells the model to reply with exactly this when the
# evidence does not answer the question; the code and the tests compare against it.
REFUSAL = "The briefings don't say."


@dataclass(frozen=True)
class Article:
    """One ingested article: the body is kept whole so any cited span can be shown and checked."""

    id: str
    title: str
    body: str
    source: str = ""
    url: str = ""
    published_at: datetime | None = None
    origin: str = ""  # where it came from: a resolved file path (plus #line for JSONL) or a URL
    content_hash: str = ""
    chunk_count: int = 0
    author: str = ""  # from a fetched page's metadata (fetch.py); not kept by the store yet
    # (start, end, level) of headings found while reading; level 1 = section, 2 = sub-headline.
    headings: tuple[tuple[int, int, int], ...] = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class Chunk:
    """A piece of an article body as stored: `text == article.body[start:end]`."""

    id: str
    article_id: str
    text: str
    start: int
    end: int
    section: str = ""
    index: int = 0


@dataclass(frozen=True)
class ArticleRecord:
    """What the store keeps about an article besides its body (the metadata of its record in the
    articles collection): the commit mark ingest and search check chunks against, where it came from,
    and its near-duplicate signature and group (dedup.py). Keyed by article id where it is passed around."""

    content_hash: str = ""
    title: str = ""
    source: str = ""
    url: str = ""
    origin: str = ""  # the file, file:line/#n or URL it was read from
    published_ts: int | float | None = None  # epoch seconds; None when undated
    ingested_ts: int = 0
    chunk_count: int = 0
    dup_group: str = ""  # the canonical article of its duplicate group ("" until grouped)
    dup_sig: str = ""  # MinHash signature, dedup.signature
    dup_n: int = 0  # shingles in the signature
    dup_hash: str = ""  # content_hash the signature was computed from

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> "ArticleRecord":
        """The record from stored metadata, which may lack any key (older libraries, half-done writes)."""
        m = meta or {}
        return cls(content_hash=str(m.get("content_hash") or ""), title=str(m.get("title") or ""),
                   source=str(m.get("source") or ""), url=str(m.get("url") or ""), origin=str(m.get("origin") or ""),
                   published_ts=m.get("published_ts"), ingested_ts=int(m.get("ingested_ts") or 0),
                   chunk_count=int(m.get("chunk_count") or 0), dup_group=str(m.get("dup_group") or ""),
                   dup_sig=str(m.get("dup_sig") or ""), dup_n=int(m.get("dup_n") or 0),
                   dup_hash=str(m.get("dup_hash") or ""))

    def to_meta(self) -> dict[str, Any]:
        """The record as metadata again (the saved search index keeps it as JSON); no key for no date."""
        meta = dataclasses.asdict(self)
        if self.published_ts is None:
            del meta["published_ts"]
        return meta


@dataclass(frozen=True)
class Passage:
    """A chunk retrieved for a question, with its article's metadata and a fused score."""

    article_id: str
    chunk_id: str
    title: str
    source: str
    published_at: datetime | None
    section: str
    text: str
    start: int
    end: int
    score: float
    url: str = ""
    dense_rank: int | None = None
    bm25_rank: int | None = None
    # Other outlets that carried the same wire story (source, title, url); see dedup.py.
    also_reported_by: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class EvidenceSentence:
    """One sentence of a passage shown to the model under a numbered key."""

    key: int
    article_id: str
    chunk_id: str
    text: str
    start: int  # offsets into the article body
    end: int
    score: float
    title: str = ""
    section: str = ""
    published_at: datetime | None = None


@dataclass(frozen=True)
class Citation:
    """Links one answer sentence to the exact span of an article that supports it."""

    key: int
    article_id: str
    chunk_id: str
    quote: str
    start: int
    end: int
    support: float
    sentence_index: int = 0
    repaired: bool = False  # attached or replaced by post-processing, not by the model
    # How the claim was checked against this span: "checked" (guards, plus the model judge when on)
    # or "exact quote" (the answer shows the sentence itself).
    verified_by: str = "checked"


@dataclass(frozen=True)
class AnswerSentence:
    """A sentence of the model's answer, with the keys it ended up citing and its support."""

    text: str
    keys: tuple[int, ...]
    support: float
    kept: bool
    note: str = ""  # why a key was repaired or the sentence dropped


@dataclass(frozen=True)
class Answer:
    """A cited answer, or the refusal (answerable=False) when the briefings do not say."""

    question: str
    text: str
    answerable: bool
    citations: list[Citation]
    passages: list[Passage]
    model: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    settings_hash: str = ""
    standalone_question: str = ""
    evidence: list[EvidenceSentence] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    raw_text: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    as_of: str = ""  # ISO date of the newest cited briefing
    # "answer"; in a timeline (timeline.py): "date" for one briefing date, "changes" for what changed.
    kind: str = "answer"
    # Things the user should know about how this answer was made ("answered without the conversation…").
    notes: list[str] = field(default_factory=list)
    style: str = ""  # prose, select or quote (answer/pipeline.py)

    def to_dict(self, debug: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings).

        Only checked text leaves the library: the model's raw draft, the sentences the checks dropped and
        the checker's notes in full (which may quote the draft) are included with `debug=True` alone (the
        CLI's and page's BRIEFING_DEBUG=1); otherwise notes are `public_note`s and the model's rewrite of a
        follow-up is `model_rewritten_question` (`standalone_question`, kept for clients of the earlier shape,
        is the question as asked).
        """
        out = to_jsonable(self)
        if not debug:
            out.pop("raw_text", None)
            out["sentences"] = [{**s, "note": public_note(s["note"])} for s in out["sentences"] if s.get("kept")]
            out["dropped_sentences"] = sum(1 for s in self.sentences if not s.kept)
            # The key stays (API shapes are extended, never renamed) but holds only the user's words.
            out["standalone_question"] = self.question
            out["model_rewritten_question"] = self.model_rewrite
        return out

    @property
    def model_rewrite(self) -> str | None:
        """The model's standalone rewrite of a follow-up question, None when the question was answered as asked.
        Unchecked model text: sent to users only under a name that says so ("model_rewritten_question")."""
        rewrite = self.standalone_question.strip()
        return rewrite if rewrite and rewrite != self.question.strip() else None

    def sources(self) -> list[Passage]:
        """The passages cited at least once, in key order of first citation."""
        by_chunk = {p.chunk_id: p for p in self.passages}
        seen: list[Passage] = []
        for c in self.citations:
            p = by_chunk.get(c.chunk_id)
            if p is not None and p not in seen:
                seen.append(p)
        return seen

    def __str__(self) -> str:
        if not self.citations:
            return self.text
        return f"{self.text}\n{self.sources_text()}"

    def sources_text(self) -> str:
        """The "as of" line and the numbered sources with their quotes, as the CLI prints them."""
        if not self.citations:
            return ""
        lines = ([f"(as of {self.as_of}, the newest cited briefing)"] if self.as_of else []) + ["", "Sources:"]
        titles = {p.chunk_id: p for p in self.passages}
        seen: set[int] = set()
        for c in sorted(self.citations, key=lambda c: c.key):
            if c.key in seen:
                continue
            seen.add(c.key)
            p = titles.get(c.chunk_id)
            meta = ""
            if p is not None:
                date = p.published_at.date().isoformat() if p.published_at else "undated"
                meta = f"{p.title} ({p.source or 'unknown source'}, {date})"
                if p.section:
                    meta += f", {p.section}"
                if p.also_reported_by:
                    meta += f"; also reported by {', '.join(s or t for s, t, _ in p.also_reported_by)}"
            lines.append(f"[{c.key}] {meta}: \u201c{c.quote}\u201d")
        return "\n".join(lines)


@dataclass(frozen=True)
class IngestFailure:
    """What could not be ingested, and why."""

    where: str  # a path, path:line or URL
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did. Article ids in each list."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return to_jsonable(self)

    def __str__(self) -> str:
        head = (
            f"added {len(self.added)}, unchanged {len(self.unchanged)}, "
            f"updated {len(self.updated)}, failed {len(self.failed)} "
            f"({self.chunks_written} chunks written in {self.seconds:.1f}s)"
        )
        return "\n".join([head] + [f"  failed: {f.where}: {f.reason}" for f in self.failed])


_QUOTED = re.compile(r"(?<!\w)'(?:[^']|'(?=\w))+'(?!\w)|\"[^\"]+\"|\u201c[^\u201d]+\u201d|\u2018[^\u2019]+\u2019(?!\w)")
_Q = "\u27e8q\u27e9"  # a quoted span of the note, before it is described
# A checker reason that names the draft's words, and how it reads without them (the reasons of guards.py,
# names.py, quantities.py, entailment.py and verify.py); any other quoted span becomes "…".
_DESCRIBED = tuple((re.compile(a), b) for a, b in (
    (r"\b(number|date) [^\s;,]+ is not in the cited evidence", r"a \1 of the sentence is not in the cited evidence"),
    (rf"{_Q} and {_Q} have swapped roles \({_Q} / {_Q} in the evidence\)",
     "two names of the sentence have swapped roles"),
    (rf"{_Q} stands where the (?:cited )?evidence has {_Q}", "a name of the sentence stands where the evidence has another"),
    (rf"{_Q} is not in the cited evidence", "a name of the sentence is not in the cited evidence"),
    (rf"the claim has {_Q}; the cited evidence does not name them",
     "the sentence names a speaker the cited evidence does not name"),
    (rf"the claim names the speaker; the cited sentence has {_Q}, someone it does not name",
     "the sentence names a speaker the cited sentence leaves unnamed"),
    (rf"the claim negates {_Q}, the evidence does not", "the sentence negates what the evidence states"),
    (rf"the evidence negates {_Q}, the claim does not", "the evidence negates what the sentence states"),
    (rf"the claim says {_Q} where the evidence says {_Q}", "a word of the sentence turns one of the evidence around"),
    (rf"the claim answers {_Q} and then (affirms|denies)", r"the sentence's yes/no and what follows it disagree"),
    (rf"the claim adds {_Q} to its cited sentence", "the sentence adds words to the sentence it copies"),
    (rf"dropped the leading {_Q}", "dropped the leading yes/no"),
))


def public_note(note: str) -> str:
    """A checker note as users may read it: which check failed and how, without the draft's own words.

    The checker's reasons quote what the model wrote ("'Vladimir Zelensky' is not in the cited evidence"),
    and the draft is unchecked text, shown only when debugging; here the quoted words are described instead
    ("a name of the sentence is not in the cited evidence"), so --json, the API and the page's checker panel
    carry no unchecked words."""
    text = _QUOTED.sub(_Q, note)
    for pattern, described in _DESCRIBED:
        text = pattern.sub(described, text)
    return text.replace(_Q, "\u2026")


# Events of Assistant.ask_stream, in the order they arrive.
@dataclass(frozen=True)
class EvidenceEvent:
    """The retrieved evidence, sent before the model starts."""

    passages: list[Passage]
    evidence: list[EvidenceSentence]
    standalone_question: str = ""


@dataclass(frozen=True)
class StatusEvent:
    """What the pipeline is doing while nothing checked can be shown yet ("Checking each claim…")."""

    text: str


@dataclass(frozen=True)
class TextDelta:
    """Checked answer text as it becomes ready: one verified sentence (with its [n] markers) at a time.

    Joined with "" the deltas give the final `Answer.text`, unless that became the refusal. The
    model's unchecked draft is never sent.
    """

    text: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class AnswerEvent:
    """The final, validated answer."""

    answer: Answer


def final_answer(events: Iterable[Any]) -> Answer:
    """The Answer an ask_stream-style event stream ends with, the stream consumed to its end."""
    final: Answer | None = None
    for event in events:
        if isinstance(event, AnswerEvent):
            final = event.answer
    if final is None:  # the pipeline always ends with an AnswerEvent: a stream without one is a bug
        raise RuntimeError("the answer stream ended without an AnswerEvent")
    return final


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, datetimes and containers into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value
