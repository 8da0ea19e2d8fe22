"""Ingestor: read, chunk, embed and store articles, idempotently and so that a killed run is finished by
the next one.

One run has two phases. Reading (cheap): every source is read and chunked, and each article is
sorted into unchanged, queued or failed against the store's records. Writing (the slow part): the
queued articles are embedded and stored in batches, in the store's crash-safe order, then their
near-duplicate groups are recomputed. The rules that make a killed run harmless are the methods of
`Ingestor` below, each saying which half-done state it repairs; tests/test_kill_ingest.py kills
runs at every write and checks the next run ends where an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..config import Settings
from ..dates import to_epoch
from ..errors import IngestError
from ..models.embed import Embedder
from ..search.store import Store
from ..types import Article, ArticleRecord, Chunk, IngestFailure, IngestReport
from .files import text_headings
from .sources import iter_sources

Progress = Callable[[int, str], None]  # (articles read so far, title of the last one)
ChunkProgress = Callable[[int, int], None]  # (chunks embedded and stored so far, chunks to embed in all)

# "file.jsonl:12" or "file.json#3": one record of a file. Such an origin does not name its article,
# since inserting a line shifts every later line's origin; records are matched by id instead.
_RECORD_ORIGIN = re.compile(r"[:#]\d+$")
FLUSH_CHUNKS = 256  # chunks embedded and stored together: keeps the model's batches full


@dataclass(frozen=True)
class _Queued:
    """An article read in this run that needs writing, with its chunks and its stored record, if any."""

    article: Article
    chunks: list[Chunk]
    old: ArticleRecord | None


@dataclass
class _Run:
    """What one ingest run has found so far; becomes its IngestReport."""

    records: dict[str, ArticleRecord]  # committed articles when the run began, by id
    seen: dict[str, str] = field(default_factory=dict)  # article id -> content hash read in this run
    queued: list[_Queued] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[IngestFailure] = field(default_factory=list)
    written: int = 0  # chunks embedded and stored
    # One ingest time for the whole run: among near-duplicates, the first ingested run's article stays
    # canonical (dedup.canonical_key), and within a run the earliest published one.
    # Milliseconds: two runs in one second are still ordered (older libraries hold seconds, all earlier).
    stamp: int = field(default_factory=lambda: int(time.time() * 1000))
    # Taken from the records before anything is written, so they describe what earlier runs left behind.
    ungrouped: list[str] = field(init=False)  # committed by a run killed before it grouped them
    by_origin: dict[str, list[str]] = field(init=False)  # article ids by the file/URL they were read from

    def __post_init__(self) -> None:
        self.ungrouped = [i for i, r in self.records.items() if not r.dup_group]
        self.by_origin = {}
        for i, r in self.records.items():
            self.by_origin.setdefault(r.origin, []).append(i)

    def known(self) -> set[str]:
        """Article ids, URLs and origins already stored: a feed item matching one is not fetched again."""
        return set(self.records) | {v for r in self.records.values() for v in (r.url, r.origin) if v}

    def report(self, seconds: float) -> IngestReport:
        """The run's outcome, article ids in the order they were met."""
        return IngestReport(added=self.added, unchanged=self.unchanged, updated=self.updated, failed=self.failed,
                            chunks_written=self.written, seconds=round(seconds, 3))


class Ingestor:
    """Adds articles from files, folders, URLs and feeds to the store, cut by `chunker` (a
    chunk.Chunker). Not thread-safe: the caller (Assistant.ingest) holds the library's write lock and
    refreshes search afterwards."""

    def __init__(self, store: Store, embedder: Embedder, chunker: Callable[[Article], list[Chunk]],
                 settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.settings = settings

    def ingest(self, paths: Iterable[str | Path] | str | Path, progress: Progress | None = None,
               feed: str | None = None, on_chunks: ChunkProgress | None = None) -> IngestReport:
        """Read, chunk, embed and store articles from files/folders and http(s) URLs, then the new items
        of an RSS/Atom `feed`. Idempotent by content hash; a page keeps one id per URL (web.py).

        `progress(n, title)` is called per article read, `on_chunks(done, total)` after each embedded
        batch (and once with 0 before), so progress shows chunks embedded out of a known total."""
        started = time.perf_counter()
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        # The whole run holds the data dir: cleanup() would take another writer's uncommitted chunks
        # for a killed run's leftovers, and that writer would then commit articles without chunks.
        with self.store.write_lock:
            self.repair()  # chunks a killed run wrote without committing, and articles left without theirs
            run = _Run(self.store.article_records())
            for n, item in enumerate(iter_sources(paths, self.settings, run.known(), feed), 1):
                if isinstance(item, IngestFailure):
                    run.failed.append(item)
                    continue
                if progress:
                    progress(n, item.title)
                self._sort(run, item)
            self._write(run, on_chunks)
            self._regroup(run)
        return run.report(time.perf_counter() - started)

    def repair(self) -> list[str]:
        """Delete orphan chunks, then chunk and embed again, from its stored body, every committed
        article whose stored chunks differ from its record's count; returns those articles' ids."""
        with self.store.write_lock:
            self.store.cleanup()
            damaged = self.store.miscounted()
            for article_id in damaged:
                stored = self.store.article(article_id)
                if stored is None:
                    continue
                # Headings are not stored: found again in the body as a text file's would be.
                article = replace(stored, headings=tuple(text_headings(stored.body)))
                chunks = self._chunks(article)
                self.store.drop_chunks(article_id)  # a crash from here on leaves it miscounted: repaired next time
                vectors = self.embedder.embed([embed_text(article, c) for c in chunks])
                self.store.write_articles([(article, chunks, vectors)])
            return damaged

    # --- reading ---------------------------------------------------------------------------

    def _sort(self, run: _Run, article: Article) -> None:
        """Unchanged (stored already, or met earlier in this run), queued for writing, or failed."""
        article = _own_namespace(run, article)
        seen = run.seen.get(article.id)
        if seen is not None and seen != article.content_hash:
            run.failed.append(IngestFailure(article.origin, f"duplicate id {article.id!r} in this run; kept the first"))
            return
        old = run.records.get(article.id)
        if seen is not None or (old is not None and _same_version(old, article)):
            if seen is None:
                self._drop_replaced_leftovers(run, article)
            run.seen[article.id] = article.content_hash
            run.unchanged.append(article.id)
            return
        run.seen[article.id] = article.content_hash
        try:
            chunks = self._chunks(article)
        except IngestError as exc:
            run.failed.append(IngestFailure(article.origin, str(exc)))
            return
        run.queued.append(_Queued(article, chunks, old))

    def _drop_replaced_leftovers(self, run: _Run, article: Article) -> None:
        """A run killed between writing a file's new article and deleting its old one leaves both, and
        the new one then reads as unchanged: delete the other articles of the same whole file now."""
        if _RECORD_ORIGIN.search(article.origin):
            return
        for old_id in run.by_origin.get(article.origin, []):
            if old_id != article.id and old_id not in run.seen and run.records.pop(old_id, None) is not None:
                self.store.delete_article(old_id)

    def _chunks(self, article: Article) -> list[Chunk]:
        chunks = self.chunker(article)
        if not chunks:
            raise IngestError("no text to index")
        return chunks

    # --- writing ---------------------------------------------------------------------------

    def _write(self, run: _Run, on_chunks: ChunkProgress | None) -> None:
        """Embed and store the queued articles in batches of about FLUSH_CHUNKS chunks."""
        total = sum(len(q.chunks) for q in run.queued)
        bar = _bar(total)
        try:
            if on_chunks:
                on_chunks(0, total)
            for batch in _batches(run.queued, FLUSH_CHUNKS):
                n = self._flush(run, batch)
                run.written += n
                bar.update(n)
                if on_chunks:
                    on_chunks(run.written, total)
        finally:
            bar.close()

    def _flush(self, run: _Run, batch: list[_Queued]) -> int:
        """Embed and store a batch together (one embed call, a few Chroma calls); returns chunks written.

        Batching across articles keeps the model's batches full (most articles have 1-3 chunks) and
        the store's crash-safe order holds for the whole batch (chunks, then article records)."""
        texts = [embed_text(q.article, c) for q in batch for c in q.chunks]
        vectors = self.embedder.embed(texts)
        items, at = [], 0
        for q in batch:
            items.append((q.article, q.chunks, vectors[at:at + len(q.chunks)]))
            at += len(q.chunks)
        self.store.write_articles(items, stamp=run.stamp)
        for q in batch:
            replaced = self._replaced(run, q.article)
            for old_id in replaced:  # the same file now holds different text: drop the old version
                self.store.delete_article(old_id)
            (run.updated if (q.old is not None or replaced) else run.added).append(q.article.id)
        return at

    def _replaced(self, run: _Run, article: Article) -> list[str]:
        """Older articles of the same whole file, now committed over. Records of a JSON/JSONL file are
        matched by id only, and an article read in this run is never one of them."""
        if not article.origin or _RECORD_ORIGIN.search(article.origin):
            return []
        return [i for i in self.store.ids_from_origin(article.origin) if i != article.id and i not in run.seen]

    def _regroup(self, run: _Run) -> None:
        """Near-duplicate groups (dedup.py) for what this run wrote, and for articles a killed run
        committed but never grouped."""
        if run.added or run.updated or run.ungrouped:
            self.store.regroup(run.added + run.updated + run.ungrouped)


def _same_version(old: ArticleRecord, article: Article) -> bool:
    """The stored record is this article: same body and same title, source, url and date. A record whose body
    is unchanged but whose date or title was corrected (or read at last: JSON "published" was ignored before)
    is an update, not "unchanged": the date is what as_of and "this week" filter on, the title is embedded."""
    return (old.content_hash == article.content_hash and old.title == article.title and old.source == article.source
            and old.url == article.url and _epoch_or_none(old.published_ts) == to_epoch(article.published_at))


def _epoch_or_none(ts: int | float | None) -> int | None:
    return None if ts is None else int(ts)


def _own_namespace(run: _Run, article: Article) -> Article:
    """A JSON/JSONL record whose chosen id belongs to an article from another origin (a page, a file,
    or records in another folder) gets that id qualified by its own folder: an uploaded file must not
    replace what a cron ingest or a URL put in the library. Records of one folder still update each other."""
    old = run.records.get(article.id)
    if (old is None or not _RECORD_ORIGIN.search(article.origin) or article.id == "a-" + article.content_hash[:16]
            or _home(old.origin) == _home(article.origin)):
        return article
    return replace(article, id=f"{article.id}@{hashlib.sha256(_home(article.origin).encode()).hexdigest()[:8]}")


def _home(origin: str) -> str:
    # The folder of a record's file ("/in/feed.jsonl:12" -> "/in"); any other origin is its own home.
    return os.path.dirname(_RECORD_ORIGIN.sub("", origin)) if _RECORD_ORIGIN.search(origin) else origin


def embed_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk (ingest, repair and reindex alike): the title and section with the
    text, so a chunk matches questions about its headline."""
    return f"{article.title}\n{chunk.section}\n{chunk.text}"


def _batches(queued: list[_Queued], size: int) -> Iterator[list[_Queued]]:
    """Consecutive runs of whole articles, each closed once it holds `size` chunks or more."""
    batch: list[_Queued] = []
    for q in queued:
        batch.append(q)
        if sum(len(b.chunks) for b in batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bar(total: int):
    from tqdm import tqdm  # imported on the first ingest only: start-up time of every other command

    # Auto-disabled when stderr is not a terminal, so scripts and --json output stay clean.
    return tqdm(total=total, desc="embedding", unit="chunk", disable=None, leave=False)
