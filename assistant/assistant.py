"""Assistant: wires ingest, store, retrieval and answering behind one small API."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .answer.pipeline import Answerer
from .answer.timeline import MAX_DATES, Timeline
from .config import Settings, load_settings
from .errors import EmptyLibraryError
from .models.embed import Embedder, make_embedder
from .ingest.chunk import Chunker
from .ingest.pipeline import ChunkProgress, Ingestor, Progress
from .ingest.reindex import ReindexReport, reindex
from .limits import check_request
from .models.lazy import LazyChat
from .models.llm import chat_model_from_settings
from .search.retrieve import Filters, Mode, RetrievalParams, Retriever
from .search.store import Store
from .types import Answer, Article, IngestReport, Passage, final_answer


class Assistant:
    """Ask questions over ingested briefings and get cited answers.

    Build with `Assistant.from_settings()` (reads BRIEFING_* settings) or inject the parts:
    `Assistant(settings, store=..., embedder=..., llm=...)`.
    """

    def __init__(self, settings: Settings, store: Store, embedder: Embedder, llm: Any | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.retriever = Retriever(store, embedder, RetrievalParams.from_settings(settings),
                                   index_dir=Path(settings.data_dir) / "index" / settings.collection)
        # The chat model is started when an answer first needs it, never here: `briefing ingest` needs none.
        self._chat = LazyChat(lambda: chat_model_from_settings(self.settings), llm)
        self.settings = settings  # builds the answer side (see the setter)
        self._write_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The settings every part was built with."""
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        # Each pipeline keeps the settings it was built with, so new settings mean new pipelines.
        self._settings = settings
        self.ingestor = Ingestor(self.store, self.embedder, Chunker.from_settings(settings), settings)
        self.answerer = Answerer(self.retriever, self.embedder, self._chat, self.store, settings)
        self.timelines = Timeline(self.answerer)

    @classmethod
    def from_settings(cls, check_embedder: bool = True, **overrides: Any) -> "Assistant":
        """Build from settings (environment, .env) with keyword overrides, e.g. data_dir=...
        `check_embedder=False` opens a library embedded with another model, for `reindex` only."""
        settings = load_settings(**overrides)
        # Private when we create it: uploads, the question log and evidence packs live there.
        Path(settings.data_dir).expanduser().mkdir(mode=0o700, parents=True, exist_ok=True)
        embedder = make_embedder(settings.embedder, settings)
        store = Store.open(settings.data_dir, settings.chroma_url, settings.collection, embedder,
                           check_embedder=check_embedder)
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

    def reindex(self, on_chunks: ChunkProgress | None = None) -> ReindexReport:
        """Chunk and embed every article again with the current settings (embedder, chunk size and
        overlap) into a new index that replaces the old one in one step; searches keep answering from
        the old one meanwhile, and a killed run is finished by the next (ingest/reindex.py)."""
        with self._write_lock:
            try:
                return reindex(self.store, self.embedder, Chunker.from_settings(self.settings), on_chunks)
            finally:
                self.retriever.invalidate()

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
        return self._chat.get()

    @property
    def _llm(self) -> Any | None:
        # The model if one was given or started (None: not yet); tests swap models through it.
        return self._chat.peek()

    @_llm.setter
    def _llm(self, model: Any | None) -> None:
        self._chat.set(model)

    def ask(self, question: str, history: list[Any] | None = None, k: int | None = None, **filters: Any) -> Answer:
        """A cited answer to the question, or the refusal when the briefings do not say."""
        return final_answer(self.ask_stream(question, history=history, k=k, **filters))

    def ask_stream(self, question: str, history: list[Any] | None = None, k: int | None = None,
                   **filters: Any) -> Iterator[Any]:
        """Yield EvidenceEvent first, then TextDelta pieces, then one AnswerEvent.
        Raises RequestError at the call (not on first iteration) when the request is over the limits."""
        k = k or None  # 0 has always meant "the default" here (the API's k=0)
        self.check_request(question, history=history, k=k)
        self.require_articles()
        return self.answerer.stream(question, history=history, k=k, filters=Filters.from_kwargs(**filters))

    def library_location(self) -> str:
        """Where this assistant's library lives, as a user would name it: the Chroma server (credentials
        left out) or the data dir, with the collection when it is not the default one."""
        from .redact import redact_url

        where = redact_url(self.settings.chroma_url) if self.settings.chroma_url else str(self.settings.data_dir)
        default = type(self.settings).model_fields["collection"].default
        return where if self.settings.collection == default else f"{where} (collection {self.settings.collection!r})"

    def require_articles(self) -> None:
        """Raise EmptyLibraryError when the library holds no chunks: asked anyway, every question would get
        the refusal, which reads as "the briefings do not say" when in truth nothing was ever ingested here
        (`make run` once filled ./.data while `briefing ask` read the default library)."""
        if self.store.count() == 0:
            raise EmptyLibraryError(f"the library at {self.library_location()} has no articles yet")

    def check_request(self, question: str, history: Sequence[Any] | None = None, k: int | None = None,
                      max_dates: int | None = None) -> None:
        """Raise RequestError when a request is outside BRIEFING_LIMITS__*: every entry point (Python,
        CLI, the page, the API) comes through here, so they share one rule and one message."""
        check_request(self.settings.limits, question, history=history, k=k, max_dates=max_dates)

    def timeline(self, question: str, k: int | None = None, max_dates: int | None = None, **filters: Any) -> list[Answer]:
        """The question answered for each briefing date with evidence, oldest first (kind="date"), then
        what changed between them (kind="changes"); every statement cited. See timeline.py."""
        return [x for x in self.timeline_stream(question, k=k, max_dates=max_dates, **filters) if isinstance(x, Answer)]

    def timeline_stream(self, question: str, k: int | None = None, max_dates: int | None = None,
                        **filters: Any) -> Iterator[Any]:
        """Yield a TimelinePlan (the dates), then each dated Answer as it is ready, then the changes Answer."""
        k, max_dates = k or None, max_dates or None  # 0 means the default, as before
        self.check_request(question, k=k, max_dates=max_dates)
        self.require_articles()
        return self.timelines.stream(question, Filters.from_kwargs(**filters), k=k, max_dates=max_dates or MAX_DATES)

    def close(self) -> None:
        """Stop anything this assistant started (the local model server)."""
        self._chat.stop()

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

