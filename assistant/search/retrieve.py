"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by reciprocal rank, with diversity,
hard date/source filters from the caller and a soft preference for the dates a question names.

Time words in the question ("this week", "recently", "yesterday") never filter: they add a prior to
the fused score (`time_weight` first-place ranks at most), so a question can always be answered from
an undated briefing or from last week's story. The caller's own `since`/`until`/`as_of` stay hard.
`Retriever.retrieve()` returns the passages together with the dates it searched (`SearchDates`), so
the answer can say which window it looked in.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np

from ..dates import end_of_day, from_epoch, parse_date, to_epoch
from .candidate import BM25_WEIGHT, RRF_K, TIME_WEIGHT, Candidate, Collapse, RetrievalParams  # noqa: F401 (public here too)
from .dedup import collapse as collapse_duplicates
from ..models.embed import Embedder
from ..errors import ConfigError
from .store import Store, StoredChunk, where_filter
from .timewords import SearchDates, TimePrior, TimeWindow, search_notes  # noqa: F401 (public here too)
from ..types import ArticleRecord, Passage

Mode = Literal["hybrid", "dense", "bm25"]
TIME_DECAY_DAYS = 7.0  # outside the preferred window the prior halves every ~5 days
UNDATED_PRIOR = 0.5  # an undated briefing may be from any day: half the in-window prior
_RECENCY_WORDS = re.compile(r"\b(latest|newest|most recent|recent(ly)?|now|today|yesterday|this (week|month)|currently|current)\b", re.I)


@dataclass(frozen=True)
class Filters:
    """Typed search filters. Dates are inclusive; `as_of` hides anything published after it.

    `published_after/before`, `sources` and `as_of` are hard filters; `prefer` (set by
    `for_question` from the question's words) only reorders."""

    published_after: datetime | None = None
    published_before: datetime | None = None
    sources: tuple[str, ...] = ()
    as_of: datetime | None = None
    recency: bool | None = None  # None: decide from the question's wording
    time_words: bool = True  # read "this week", "yesterday", "since Monday" in the question (timewords.py)
    prefer: TimePrior | None = None

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "Filters":
        """Build from user-facing keyword filters (strings or datetimes); unknown names are an error."""
        known = {"published_after", "published_before", "source", "sources", "as_of", "recency", "since", "until",
                 "time_words"}
        unknown = set(kw) - known
        if unknown:
            raise ConfigError(f"unknown search filter(s): {', '.join(sorted(unknown))}",
                              hint=f"use one of {', '.join(sorted(known))}")

        def date(name: str, now: datetime | None = None) -> datetime | None:
            raw = kw.get(name)
            if raw in (None, ""):
                return None
            dt = parse_date(raw, now=now)  # "3 days ago" / "yesterday" count back from as_of
            if dt is None:
                raise ConfigError(f"{name}={raw!r} is not a date", hint="use YYYY-MM-DD or e.g. '3 days ago'")
            return dt

        src = kw.get("sources") or kw.get("source") or ()
        sources = (src,) if isinstance(src, str) else tuple(src)
        as_of = date("as_of")
        before = date("published_before", as_of) or date("until", as_of)
        if before is not None and before.hour == 0 and before.minute == 0 and before.second == 0:
            before = before.replace(hour=23, minute=59, second=59)  # a bare date includes its whole day
        return cls(published_after=date("published_after", as_of) or date("since", as_of), published_before=before,
                   sources=sources, as_of=as_of, recency=kw.get("recency"),
                   time_words=bool(kw.get("time_words", True)))

    def for_question(self, question: str, newest: datetime | None = None) -> "Filters":
        """These filters plus the preferred published-date window of the question's time words ("this
        week", "since Monday"), resolved against as_of. Without as_of, against today, or against
        `newest` (the library's newest briefing) when even that is older than the window: an archive
        has its own "now". A date bound the caller set wins: then the words change nothing."""
        if not self.time_words or self.published_after is not None or self.published_before is not None:
            return self
        from .timewords import question_window

        window = question_window(question, self.as_of)
        if window is None:
            return self
        now = self.as_of or datetime.now(timezone.utc)
        archive = False
        if self.as_of is None and newest is not None and newest < window.after:
            now, archive = newest, True
            window = question_window(question, newest) or window
        return replace(self, prefer=TimePrior(window=window, now=now, archive_now=archive))

    def dates(self) -> SearchDates:
        """The published dates a search with these filters looks at (the question's window once for_question
        has read it), for the answer's notes and for reading the evidence (answer/reading.py)."""
        prefer = self.prefer
        return SearchDates(self.published_after, self.published_before, self.as_of,
                           prefer.window if prefer else None, prefer.now if prefer else self.as_of,
                           prefer.archive_now if prefer else False)


@dataclass(frozen=True)
class Retrieval:
    """The passages found for a question, the dates searched, and notes for the answer to show."""

    passages: list[Passage]
    dates: SearchDates = field(default_factory=SearchDates)
    notes: tuple[str, ...] = ()


class Retriever:
    """Finds passages for a question over a Store, with fixed `RetrievalParams`."""

    def __init__(self, store: Store, embedder: Embedder, params: RetrievalParams | None = None,
                 index_dir: Path | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params or RetrievalParams()
        self.index_dir = index_dir  # where the BM25 index is saved between processes (None: memory only)
        self._lock = threading.Lock()
        self._bm25: tuple[Any, Any, Sequence[StoredChunk]] | None = None
        self._bm25_stamp: tuple[str, int] | None = None
        self._records: dict[str, ArticleRecord] | None = None
        self._records_stamp: tuple[str, int] | None = None
        self._newest: datetime | None = None
        self._generation = 0

    def with_params(self, params: RetrievalParams) -> "Retriever":
        """A retriever over the same store, embedder and saved index with other parameters: how tuning
        scripts measure a setting without changing the retriever the assistant answers with."""
        return Retriever(self.store, self.embedder, params, self.index_dir)

    def invalidate(self) -> None:
        """Forget cached indexes after a write."""
        with self._lock:
            self._bm25 = None
            self._records = None
            self._generation += 1

    def search(self, question: str, k: int = 10, filters: Filters | None = None, mode: Mode = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Passage]:
        """The k best passages for the question, fused, diversified and filtered."""
        return self.retrieve(question, k, filters, mode, query_vector).passages

    def retrieve(self, question: str, k: int = 10, filters: Filters | None = None, mode: Mode = "hybrid",
                 query_vector: np.ndarray | None = None) -> Retrieval:
        """Like `search`, with the dates searched and notes about them (`Retrieval.notes`) for the answer."""
        base = filters or Filters()
        if not question.strip():
            return Retrieval([], SearchDates(base.published_after, base.published_before, base.as_of))
        records = self._article_records()
        f = base.for_question(question, self._newest)
        dates = f.dates()
        passages = self._search(question, k, f, mode, query_vector, records)
        return Retrieval(passages, dates, search_notes(dates, passages))

    def _search(self, question: str, k: int, f: Filters, mode: Mode, query_vector: np.ndarray | None,
                records: dict[str, ArticleRecord]) -> list[Passage]:
        after = to_epoch(f.published_after)
        before = to_epoch(f.published_before)
        cutoff = None  # as_of hides later briefings but keeps undated ones
        if f.as_of is not None:
            cutoff = to_epoch(f.as_of.replace(hour=23, minute=59, second=59) if f.as_of.hour == 0 else f.as_of)
        pool = max(50, 5 * k)
        ranked: dict[str, list[tuple[int, StoredChunk]]] = {}

        def live(sc: StoredChunk) -> bool:
            aid, h = sc.chunk.article_id, sc.meta.get("content_hash")
            rec = records.get(aid)
            if rec is not None and rec.content_hash == h:
                return True
            # The cached records may be behind another process's write: ask the store before hiding a chunk.
            art = self.store.article(aid)
            return art is not None and art.content_hash == h

        if mode in ("hybrid", "dense"):
            vec = query_vector if query_vector is not None else self.embedder.embed([question])[0]
            hits = [h for h in self.store.dense(vec, pool, where_filter(after, before, f.sources, as_of=cutoff)) if live(h)]
            ranked["dense"] = list(enumerate(hits, 1))
        if mode in ("hybrid", "bm25"):
            ranked["bm25"] = list(enumerate(self._bm25_search(question, pool, after, before, f.sources, live, cutoff), 1))
        p = self.params
        candidates = self._fuse(ranked, question, f)
        order = sorted(candidates, key=lambda c: (-c.score, c.chunk_id))
        if p.collapse != "off":  # one article per wire story (dedup.py)
            order = collapse_duplicates(order, records, prefer_canonical=p.collapse == "canonical")
        if p.mmr_lambda is not None and len(order) > k:
            pool_entries = order[:max(3 * k, 30)]
            vectors = self.store.vectors([c.chunk_id for c in pool_entries])
            order = _mmr(pool_entries, vectors, p.mmr_lambda) + order[len(pool_entries):]
        chosen = _diversify(order, k, p.per_article_cap)
        return [_passage(c) for c in chosen]

    def _fuse(self, ranked: dict[str, list[tuple[int, StoredChunk]]], question: str, f: Filters) -> list[Candidate]:
        """Reciprocal-rank fusion of the ranked lists plus the date prior, one Candidate per chunk."""
        hits: dict[str, StoredChunk] = {}
        scores: dict[str, float] = {}
        ranks: dict[str, dict[str, int]] = {}
        for name, found in ranked.items():
            for rank, sc in found:
                cid = sc.chunk.id
                hits.setdefault(cid, sc)
                scores[cid] = scores.get(cid, 0.0) + self.params.weight(name) / (self.params.rrf_k + rank)
                ranks.setdefault(cid, {})[name] = rank
        prior = self._time_prior(question, f)
        return [Candidate(sc, scores[cid] + prior(sc), ranks[cid].get("dense"), ranks[cid].get("bm25"))
                for cid, sc in hits.items()]

    def _time_prior(self, question: str, f: Filters) -> Callable[[StoredChunk], float]:
        """The bonus for passages from the dates the question prefers (its time words' window, at most
        `time_weight` first-place ranks), or for recent ones on "latest"/"now" with no window; 0 when
        the question has no time preference. Never removes anything: a prior breaks ties and lifts
        near-misses, it does not bury relevance."""
        unit = self.params.time_weight / (self.params.rrf_k + 1)
        if f.prefer is not None:
            lo, hi = f.prefer.window.after.timestamp(), f.prefer.window.before.timestamp()

            def in_window(sc: StoredChunk) -> float:
                ts = sc.meta.get("published_ts")
                if ts is None:
                    return UNDATED_PRIOR * unit
                gap_days = max(0.0, lo - ts, ts - hi) / 86400
                return math.exp(-gap_days / TIME_DECAY_DAYS) * unit

            return in_window
        wants_recent = f.recency if f.recency is not None else bool(_RECENCY_WORDS.search(question))
        if not wants_recent:
            return lambda sc: 0.0
        now = f.as_of or self._archive_now() or datetime.now(timezone.utc)
        rrf_k = self.params.rrf_k

        def recent(sc: StoredChunk) -> float:
            ts = sc.meta.get("published_ts")
            if ts is None:
                return 0.0  # an undated briefing gets no recency bonus
            age_days = max(0.0, (now.timestamp() - ts) / 86400)
            return math.exp(-age_days / 7) / (rrf_k + 1)

        return recent

    def _archive_now(self) -> datetime | None:
        # "latest" in an archive whose newest briefing is weeks old: count ages from that briefing.
        newest = self._newest
        if newest is not None and newest < datetime.now(timezone.utc) - timedelta(days=7):
            return end_of_day(newest)
        return None

    def _bm25_search(self, question: str, n: int, after: int | None, before: int | None,
                     sources: Sequence[str], live, as_of: int | None = None) -> list[StoredChunk]:
        index = self._bm25_index()
        if index is None:
            return []
        retriever, tokenize, docs = index
        tokens = tokenize(question)
        if not tokens:
            return []
        scores = retriever.get_scores(tokens)
        if not np.any(scores > 0):
            return []
        positive = int(np.count_nonzero(scores > 0))
        # Most queries fill n from the first few hundred: sort those only, the rest if filters need more.
        head = min(positive, max(4 * n, 200))
        top = np.argpartition(-scores, head - 1)[:head] if head < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        if head < positive:
            rest = np.setdiff1d(np.nonzero(scores > 0)[0], top, assume_unique=True)
            top = np.concatenate([top, rest[np.lexsort((rest, -scores[rest]))]])
        out: list[StoredChunk] = []
        for i in top:
            if scores[i] <= 0 or len(out) >= n:
                break
            sc = docs[int(i)]
            ts = sc.meta.get("published_ts")
            if (after is not None and (ts is None or ts < after)) or (before is not None and (ts is None or ts > before)):
                continue
            if as_of is not None and ts is not None and ts > as_of:
                continue
            if sources and sc.meta.get("source") not in sources:
                continue
            if live(sc):
                out.append(sc)
        return out

    def _bm25_index(self):
        with self._lock:
            self._load_index(self._stamp())
            return self._bm25

    def _article_records(self) -> dict[str, ArticleRecord]:
        """Article records (commit marks, duplicate groups), re-read only when the library changed."""
        with self._lock:
            stamp = self._stamp()
            if self._records is None or self._records_stamp != stamp:
                self._load_index(stamp)
            return self._records

    def _load_index(self, stamp: tuple[str, int]) -> None:
        # The BM25 index and the records are saved together under the library's version tag
        # (bm25index.py), so a fresh process loads both instead of reading every chunk back.
        if self._bm25_stamp == stamp and self._records_stamp == stamp and self._records is not None:
            return
        from . import bm25 as bm25index

        index, records = bm25index.load_or_build(self.store, self.index_dir, stamp[0])
        self._bm25 = index.as_tuple() if index is not None else None
        self._records = records
        self._bm25_stamp = self._records_stamp = stamp
        # The newest briefing date: an archive's own "now" for time words (timewords.py).
        stamps = [r.published_ts for r in records.values() if isinstance(r.published_ts, (int, float))]
        self._newest = from_epoch(max(stamps)) if stamps else None

    def _stamp(self) -> tuple[str, int]:
        # The store's version tag catches every write (ours and other processes'); the generation
        # catches our own writes even on a store without one.
        return self.store.version_tag(), self._generation


def _mmr(entries: list[Candidate], vectors: dict[str, np.ndarray], lam: float) -> list[Candidate]:
    """Maximal marginal relevance: reorder so each next passage is relevant (its fused score, scaled
    to [0, 1]) and unlike those already chosen (cosine of chunk vectors): lam*rel - (1-lam)*max_sim."""
    if not entries:
        return []
    top = max(e.score for e in entries) or 1.0
    rel = [e.score / top for e in entries]
    dim = next((len(v) for v in vectors.values()), 0)
    vecs = np.stack([vectors.get(e.chunk_id, np.zeros(dim, np.float32)) for e in entries]) if dim else None
    left = list(range(len(entries)))
    max_sim = np.zeros(len(entries), dtype=np.float64)
    out: list[Candidate] = []
    while left:
        best = max(left, key=lambda i: (lam * rel[i] - (1 - lam) * max_sim[i], -i))
        left.remove(best)
        out.append(entries[best])
        if vecs is not None:
            max_sim = np.maximum(max_sim, vecs @ vecs[best])
    return out


def _diversify(order: list[Candidate], k: int, cap: int) -> list[Candidate]:
    """Keep at most `cap` chunks per article until k are chosen; fill up from the rest if short."""
    chosen: list[Candidate] = []
    per: dict[str, int] = {}
    spill: list[Candidate] = []
    for e in order:
        aid = e.article_id
        if cap and per.get(aid, 0) >= cap:
            spill.append(e)
            continue
        per[aid] = per.get(aid, 0) + 1
        chosen.append(e)
        if len(chosen) == k:
            return chosen
    return chosen + spill[: k - len(chosen)]


def _passage(e: Candidate) -> Passage:
    sc = e.hit
    m = sc.meta
    return Passage(article_id=sc.chunk.article_id, chunk_id=sc.chunk.id, title=m.get("title", ""),
                   source=m.get("source", ""), published_at=from_epoch(m.get("published_ts")),
                   section=sc.chunk.section, text=sc.chunk.text, start=sc.chunk.start, end=sc.chunk.end,
                   score=round(float(e.score), 6), url=m.get("url", ""),
                   dense_rank=e.dense_rank, bm25_rank=e.bm25_rank, also_reported_by=e.also)
