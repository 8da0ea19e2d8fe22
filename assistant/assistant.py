"""Assistant: wires ingest, store, retrieval and answering behind one small API."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .config import Settings, load_settings
from .models.embed import Embedder, make_embedder
from .errors import RequestError
from .search.retrieve import Filters, Mode, Retriever
from .ingest.chunk import Chunker
from .ingest.pipeline import ChunkProgress, Ingestor, Progress
from .search.store import Store
from .types import Answer, Article, IngestReport, Passage


class Assistant:
    """Ask questions over ingested briefings and get cited answers.

    Build with `Assistant.from_settings()` (reads BRIEFING_* settings) or inject the parts:
    `Assistant(settings, store=..., embedder=..., llm=...)`.
    """

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, llm: Any | None = None) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = Retriever(store, embedder, per_article_cap=settings.per_article_cap, rrf_k=settings.rrf_k,
                                   bm25_weight=settings.bm25_weight, mmr_lambda=settings.mmr_lambda,
                                   time_weight=settings.time_weight, collapse=settings.collapse,
                                   index_dir=Path(settings.data_dir) / "index" / settings.collection)
        self.ingestor = Ingestor(store, embedder, Chunker.from_settings(settings), settings)
        self._llm = llm
        self._llm_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []

    @classmethod
    def from_settings(cls, **overrides: Any) -> "Assistant":
        """Build from settings (environment, .env) with keyword overrides, e.g. data_dir=..."""
        settings = load_settings(**overrides)
        embedder = make_embedder(settings.embedder, settings)
        store = Store.open(settings.data_dir, settings.chroma_url, settings.collection, embedder)
        return cls(settings, store, embedder)

    # --- library --------------------------------------------------------------------------

    def ingest(self, paths: Iterable[str | Path] | str | Path, progress: Progress | None = None,
               feed: str | None = None, on_chunks: ChunkProgress | None = None) -> IngestReport:
        """Read, chunk, embed and store articles from files/folders and http(s) URLs, then the new items
        of an RSS/Atom `feed`. Idempotent by content hash; a page keeps one id per URL (web.py).

        Everything is read and chunked first (cheap), then embedded and stored (the slow part), so the
        progress shown is chunks embedded out of a known total: `progress(n, title)` is called per
        article read, `on_chunks(done, total)` after each embedded batch (and once with 0 before).
        See ingest/pipeline.py."""
        started = time.perf_counter()
        with self._write_lock:
            try:
                report = self.ingestor.ingest(paths, progress, feed=feed, on_chunks=on_chunks)
            finally:
                self.retriever.invalidate()
        # The time the caller waited, the write lock included, as before the Ingestor existed.
        return replace(report, seconds=round(time.perf_counter() - started, 3))

    def ingest_feed(self, url: str, progress: Progress | None = None) -> IngestReport:
        """Ingest the items of an RSS/Atom feed that are not in the library yet (see web.read_feed)."""
        return self.ingest([], progress, feed=url)

    def articles(self) -> list[Article]:
        """Every article in the library (bodies not loaded), newest first."""
        return self.store.articles()

    def article(self, article_id: str) -> Article | None:
        """One article with its body, or None."""
        return self.store.article(article_id)

    def delete(self, article_id: str) -> bool:
        """Remove an article and its chunks. Returns False if it was not there."""
        with self._write_lock:
            try:
                return self.store.delete_article(article_id)
            finally:
                self.retriever.invalidate()

    def search(self, question: str, k: int | None = None, mode: Mode = "hybrid", **filters: Any) -> list[Passage]:
        """The k passages (default BRIEFING_SEARCH_K) that best match the question. Filters:
        published_after, published_before, source(s), as_of, recency."""
        k = self.settings.search_k if k is None else k
        self.check_request(question, k=k)
        return self.retriever.search(question, k=k, filters=Filters.from_kwargs(**filters), mode=mode)

    # --- answers --------------------------------------------------------------------------

    @property
    def llm(self) -> Any:
        """The chat model, started on first use (the bundled local server when nothing is configured)."""
        with self._llm_lock:
            if self._llm is None:
                from .models.llm import chat_model_from_settings

                self._llm, closer = chat_model_from_settings(self.settings)
                if closer is not None:
                    self._closers.append(closer)
            return self._llm

    def ask(self, question: str, history: list[Any] | None = None, k: int | None = None, **filters: Any) -> Answer:
        """A cited answer to the question, or the refusal when the briefings do not say."""
        from .types import AnswerEvent

        final: Answer | None = None
        for event in self.ask_stream(question, history=history, k=k, **filters):
            if isinstance(event, AnswerEvent):
                final = event.answer
        assert final is not None  # ask_stream always ends with an AnswerEvent
        return final

    def ask_stream(self, question: str, history: list[Any] | None = None, k: int | None = None,
                   **filters: Any) -> Iterator[Any]:
        """Yield EvidenceEvent first, then TextDelta pieces, then one AnswerEvent.
        Raises RequestError at the call (not on first iteration) when the request is over the limits."""
        from .answer.pipeline import answer_stream

        k = k or None  # 0 has always meant "the default" here (the API's k=0)
        self.check_request(question, history=history, k=k)
        return answer_stream(self, question, history=history, k=k, filters=Filters.from_kwargs(**filters))

    def check_request(self, question: str, history: Sequence[Any] | None = None, k: int | None = None,
                      max_dates: int | None = None) -> None:
        """Raise RequestError when a request is outside BRIEFING_LIMITS__*: every entry point (Python,
        CLI, the page, the API) comes through here, so they share one rule and one message."""
        lim = self.settings.limits
        if not isinstance(question, str):
            raise RequestError(f"the question must be text, not {type(question).__name__}", hint="pass a string")
        if len(question) > lim.max_question_chars:
            raise RequestError(f"the question has {len(question):,} characters, over the limit of "
                               f"{lim.max_question_chars:,}",
                               hint="shorten it, or raise BRIEFING_LIMITS__MAX_QUESTION_CHARS")
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= lim.max_k):
            raise RequestError(f"k must be a whole number from 1 to {lim.max_k}, got {k!r}",
                               hint="ask for fewer passages, or raise BRIEFING_LIMITS__MAX_K")
        if max_dates is not None and (not isinstance(max_dates, int) or not 1 <= max_dates <= lim.max_timeline_dates):
            raise RequestError(f"max_dates must be from 1 to {lim.max_timeline_dates}, got {max_dates!r}",
                               hint="ask for fewer dates, or raise BRIEFING_LIMITS__MAX_TIMELINE_DATES")
        if history:
            if len(history) > lim.max_history_messages:
                raise RequestError(f"the history has {len(history)} messages, over the limit of "
                                   f"{lim.max_history_messages}",
                                   hint="send only the last turns, or raise BRIEFING_LIMITS__MAX_HISTORY_MESSAGES")
            size = sum(len(str(m.get("content", "")) if isinstance(m, dict) else str(m)) for m in history)
            if size > lim.max_history_chars:
                raise RequestError(f"the history has {size:,} characters, over the limit of {lim.max_history_chars:,}",
                                   hint="send only the last turns, or raise BRIEFING_LIMITS__MAX_HISTORY_CHARS")

    def timeline(self, question: str, k: int | None = None, max_dates: int | None = None, **filters: Any) -> list[Answer]:
        """The question answered for each briefing date with evidence, oldest first (kind="date"), then
        what changed between them (kind="changes"); every statement cited. See timeline.py."""
        return [x for x in self.timeline_stream(question, k=k, max_dates=max_dates, **filters) if isinstance(x, Answer)]

    def timeline_stream(self, question: str, k: int | None = None, max_dates: int | None = None,
                        **filters: Any) -> Iterator[Any]:
        """Yield a TimelinePlan (the dates), then each dated Answer as it is ready, then the changes Answer."""
        from .answer.timeline import MAX_DATES, timeline_stream

        k, max_dates = k or None, max_dates or None  # 0 means the default, as before
        self.check_request(question, k=k, max_dates=max_dates)
        return timeline_stream(self, question, Filters.from_kwargs(**filters), k=k, max_dates=max_dates or MAX_DATES)

    def close(self) -> None:
        """Stop anything this assistant started (the local model server)."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

