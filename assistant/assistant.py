"""Assistant: wires ingest, store, retrieval and answering behind one small API."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .config import Settings, load_settings
from .models.embed import Embedder, make_embedder
from .errors import IngestError, RequestError
from .search.retrieve import Filters, Mode, Retriever
from .search.store import Store
from .types import Answer, Article, Chunk, IngestFailure, IngestReport, Passage

Progress = Callable[[int, str], None]
ChunkProgress = Callable[[int, int], None]  # (chunks embedded and stored so far, chunks to embed in all)
_RECORD_ORIGIN = re.compile(r"[:#]\d+$")
_FLUSH_CHUNKS = 256  # chunks embedded and stored together during ingest


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
        of an RSS/Atom `feed`. Idempotent by content hash; a page keeps one id per URL (fetch.py).

        Everything is read and chunked first (cheap), then embedded and stored (the slow part), so the
        progress shown is chunks embedded out of a known total: `progress(n, title)` is called per
        article read, `on_chunks(done, total)` after each embedded batch (and once with 0 before)."""
        from .ingest.sources import iter_sources  # imports httpx: only when ingesting

        if isinstance(paths, (str, Path)):
            paths = [paths]
        started = time.perf_counter()
        added: list[str] = []
        unchanged: list[str] = []
        updated: list[str] = []
        failed: list[IngestFailure] = []
        written = 0
        seen_ids: dict[str, str] = {}
        queued: list[tuple[Article, list[Chunk], dict[str, Any] | None]] = []
        bar = None
        with self._write_lock:
            self.store.cleanup()
            try:
                records = self.store.article_records()
                # A run killed after writing articles but before grouping them leaves records without
                # a group, and one killed between writing a file's new article and dropping its old
                # one leaves both: this run finishes that work (see tests/test_kill_ingest.py).
                ungrouped = [i for i, m in records.items() if not m.get("dup_group")]
                by_origin: dict[str, list[str]] = {}
                for i, m in records.items():
                    by_origin.setdefault(str(m.get("origin", "")), []).append(i)
                # A feed item already stored (by article id, URL or origin) is not fetched again.
                known = set(records) | {str(m.get(k)) for m in records.values() for k in ("url", "origin") if m.get(k)}
                for n, item in enumerate(iter_sources(list(paths), self.settings, known, feed), 1):
                    if isinstance(item, IngestFailure):
                        failed.append(item)
                        continue
                    if progress:
                        progress(n, item.title)
                    if item.id in seen_ids and seen_ids[item.id] != item.content_hash:
                        failed.append(IngestFailure(item.origin, f"duplicate id {item.id!r} in this run; kept the first"))
                        continue
                    old = records.get(item.id)
                    if item.id in seen_ids or (old is not None and old.get("content_hash") == item.content_hash):
                        if item.id not in seen_ids and not _RECORD_ORIGIN.search(item.origin):
                            for old_id in by_origin.get(item.origin, []):
                                if old_id != item.id and old_id not in seen_ids and records.pop(old_id, None):
                                    self.store.delete_article(old_id)
                        seen_ids[item.id] = item.content_hash
                        unchanged.append(item.id)  # stored already, or queued earlier in this run
                        continue
                    seen_ids[item.id] = item.content_hash
                    try:
                        chunks = self._chunks(item)
                    except IngestError as exc:
                        failed.append(IngestFailure(item.origin, str(exc)))
                        continue
                    queued.append((item, chunks, old))
                total = sum(len(c) for _, c, _ in queued)
                bar = _bar(total)
                if on_chunks:
                    on_chunks(0, total)
                pending: list[tuple[Article, list[Chunk], dict[str, Any] | None]] = []
                for i, entry in enumerate(queued, 1):
                    pending.append(entry)
                    if sum(len(c) for _, c, _ in pending) >= _FLUSH_CHUNKS or i == len(queued):
                        n = self._flush(pending, records, seen_ids, added, updated)
                        written += n
                        bar.update(n)
                        if on_chunks:
                            on_chunks(written, total)
                if added or updated or ungrouped:
                    self.store.regroup(added + updated + ungrouped)  # near-duplicate groups (dedup.py)
            finally:
                if bar is not None:
                    bar.close()
                self.retriever.invalidate()
        return IngestReport(added=added, unchanged=unchanged, updated=updated, failed=failed,
                            chunks_written=written, seconds=round(time.perf_counter() - started, 3))

    def ingest_feed(self, url: str, progress: Progress | None = None) -> IngestReport:
        """Ingest the items of an RSS/Atom feed that are not in the library yet (see fetch.read_feed)."""
        return self.ingest([], progress, feed=url)

    def _chunks(self, article: Article) -> list[Chunk]:
        from .ingest.chunk import chunk_article

        chunks = chunk_article(article, self.settings.chunk_size, self.settings.chunk_overlap)
        if not chunks:
            raise IngestError("no text to index")
        return chunks

    def _flush(self, pending: list[tuple[Article, list[Chunk], dict[str, Any] | None]],
               records: dict[str, dict[str, Any]], seen_ids: dict[str, str], added: list[str], updated: list[str]) -> int:
        """Embed and store the queued articles together (one embed call, a few Chroma calls); returns chunks written.

        Batching across articles keeps the model's batches full (most articles have 1-3 chunks) and
        the store's crash-safe order holds for the whole batch (chunks, then article records)."""
        if not pending:
            return 0
        # Embedding the title and section with the text lets a chunk match questions about its headline.
        texts = [f"{art.title}\n{c.section}\n{c.text}" for art, chunks, _ in pending for c in chunks]
        vectors = self.embedder.embed(texts)
        items, at = [], 0
        for art, chunks, _ in pending:
            items.append((art, chunks, vectors[at:at + len(chunks)]))
            at += len(chunks)
        self.store.write_articles(items)
        for art, _, old in pending:
            # Only a whole file stands for one article; records of a JSON/JSONL file are matched
            # by id, since inserting a line shifts every later line's origin.
            whole_file = art.origin and not _RECORD_ORIGIN.search(art.origin)
            replaced = [i for i in self.store.ids_from_origin(art.origin)
                        if i != art.id and i not in seen_ids] if whole_file else []
            for old_id in replaced:  # the same file/line now holds different text: drop the old version
                self.store.delete_article(old_id)
            records[art.id] = {"content_hash": art.content_hash}
            (updated if (old is not None or replaced) else added).append(art.id)
        pending.clear()
        return at

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


def _bar(total: int):
    from tqdm import tqdm

    # Auto-disabled when stderr is not a terminal, so scripts and --json output stay clean.
    return tqdm(total=total, desc="embedding", unit="chunk", disable=None, leave=False)
