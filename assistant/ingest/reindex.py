"""`briefing reindex`: chunk and embed every article again, from its stored body, with the settings in
force now (BRIEFING_EMBEDDER, BRIEFING_CHUNK_SIZE, BRIEFING_CHUNK_OVERLAP), in place.

Crash-safe by construction (search/generations.py): the new index is written into a new generation
of collections while searches keep reading the active one; one metadata write switches them; then the
old generation is dropped. Killed before the switch, the old index still answers and the next run
resumes the pending generation (articles it committed already are skipped, by content hash, if it is
built with the same settings; otherwise it starts over). Killed after the switch, the next run drops
what the old generation left. The whole run holds the data dir's write lock, so no ingest can write
to the old generation while the new one is being filled (and be lost at the switch).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Iterator

from ..dates import from_epoch
from ..errors import StoreError
from ..models.embed import Embedder
from ..search import generations
from ..search.store import Store
from ..types import Article, ArticleRecord
from .chunk import Chunker
from .files import text_headings
from .pipeline import FLUSH_CHUNKS, ChunkProgress, embed_text

_READ = 64  # article bodies read from the store at a time


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did: articles and chunks written, those a killed run had done already, and the
    generation now active with the one it replaced ("" is the library's original collections)."""

    articles: int
    chunks: int  # in the new index
    written: int  # chunks embedded by this run (fewer than `chunks` when it resumed a killed run)
    resumed: int
    generation: str
    replaced: str
    built_with: str
    seconds: float

    def __str__(self) -> str:
        done = f"; {self.resumed} were done already by an interrupted run" if self.resumed else ""
        articles = f"{self.articles} article{'' if self.articles == 1 else 's'}"
        return (f"reindexed {articles} into {self.chunks} chunks with {self.built_with} "
                f"in {self.seconds:.1f} s (index {self.generation}, replacing {self.replaced or 'the original'}){done}")


def built_with(embedder: Embedder, chunker: Chunker) -> str:
    """The settings an index is built with; a pending generation built otherwise is started over."""
    return f"{embedder.name}, chunks {chunker.size}/{chunker.overlap}"


def reindex(store: Store, embedder: Embedder, chunker: Chunker, on_chunks: ChunkProgress | None = None) -> ReindexReport:
    """Rebuild the library's whole index from the stored bodies into a new generation and switch to it.
    `store` is the library as opened now (any embedder: Store.open(check_embedder=False));
    `on_chunks(done, total)` reports articles' chunks written so far against an estimate."""
    started = time.perf_counter()
    spec = built_with(embedder, chunker)
    with store.write_lock:
        store.follow()
        old = store.generation
        anchor = store.anchor_meta()
        target_name = anchor.get(generations.PENDING)
        if not target_name or anchor.get(generations.PENDING_BUILD) != spec or target_name == old:
            target_name = generations.new_name()
            store.set_anchor(**{generations.PENDING: target_name, generations.PENDING_BUILD: spec})
        _drop_leftovers(store, keep={old, target_name})
        target = Store(store.client, store.name, embedder, store.write_lock, generation=target_name)
        target.cleanup()  # chunks of a batch whose article records a killed run never wrote
        source = store.article_records()
        done = target.article_records()
        for gone in sorted(set(done) - set(source)):  # deleted from the library since the killed run
            target.delete_article(gone)
        todo = sorted(i for i, r in source.items() if done.get(i) is None or done[i].content_hash != r.content_hash)
        resumed = len(source) - len(todo)
        written = _fill(store, target, embedder, chunker, source, todo, on_chunks)
        _check_complete(store, target, source)
        # The switch: one write of the anchor's metadata. Searches read the old index up to here, the new one after.
        store.set_anchor(**{generations.ACTIVE: target_name, generations.PENDING: "", generations.PENDING_BUILD: ""})
        store.follow()
        generations.drop(store.client, store.name, old)
    return ReindexReport(articles=len(source), chunks=target.count(), written=written, resumed=resumed,
                         generation=target_name, replaced=old, built_with=spec,
                         seconds=round(time.perf_counter() - started, 3))


def _drop_leftovers(store: Store, keep: set[str]) -> None:
    """Finish what killed runs left: generations neither active nor being built, and the original
    collections' contents once another generation is active."""
    for col_name in generations.stale(store.client, store.name, keep):
        generations.drop_collection(store.client, col_name)
    if "" not in keep:
        generations.drop(store.client, store.name, "")


def _fill(store: Store, target: Store, embedder: Embedder, chunker: Chunker, source: dict[str, ArticleRecord],
          todo: list[str], on_chunks: ChunkProgress | None) -> int:
    """Chunk, embed and write the `todo` articles into `target` in batches of about FLUSH_CHUNKS chunks,
    each article's record carried over (ingest time, duplicate group); returns chunks written."""
    # The old chunk counts are the best guess of the total before everything is chunked again.
    total = sum(source[i].chunk_count for i in todo)
    written = 0
    if on_chunks:
        on_chunks(0, total)
    batch: list[tuple[Article, list, ArticleRecord]] = []
    for article, record in _articles(store, source, todo):
        batch.append((article, chunker(article), record))
        if sum(len(c) for _, c, _ in batch) >= FLUSH_CHUNKS:
            written += _write(target, embedder, batch)
            batch = []
            if on_chunks:
                on_chunks(written, max(total, written))
    if batch:
        written += _write(target, embedder, batch)
    if on_chunks:
        on_chunks(written, max(total, written))
    return written


def _articles(store: Store, source: dict[str, ArticleRecord], ids: list[str]) -> Iterator[tuple[Article, ArticleRecord]]:
    for i in range(0, len(ids), _READ):
        part = ids[i:i + _READ]
        bodies = store.bodies(part)
        for aid in part:
            r = source[aid]
            if aid not in bodies:
                raise StoreError(f"article {aid} has a record but no body", hint="run `briefing doctor`, then reindex")
            body = bodies[aid]
            # Headings are not stored: found again in the body, as repair does (pipeline.Ingestor.repair).
            article = Article(id=aid, title=r.title, body=body, source=r.source, url=r.url,
                              published_at=from_epoch(r.published_ts), origin=r.origin, content_hash=r.content_hash)
            yield replace(article, headings=tuple(text_headings(body))), r


def _write(target: Store, embedder: Embedder, batch: list[tuple[Article, list, ArticleRecord]]) -> int:
    items = [(a, chunks, None) for a, chunks, _ in batch if chunks]
    vectors = embedder.embed([embed_text(a, c) for a, chunks, _ in items for c in chunks])
    out, at = [], 0
    for a, chunks, _ in items:
        out.append((a, chunks, vectors[at:at + len(chunks)]))
        at += len(chunks)
    carry = {a.id: {k: v for k, v in r.to_meta().items() if k != "chunk_count"} for a, _, r in batch}
    target.write_articles(out, carry=carry)
    return at


def _check_complete(store: Store, target: Store, source: dict[str, ArticleRecord]) -> None:
    """Refuse to switch to an index that is missing an article or some of its chunks."""
    built = target.article_records()
    missing = sorted(set(source) - set(built))
    short = target.miscounted()
    if missing or short:
        raise StoreError(f"the new index is incomplete ({len(missing)} articles missing, {len(short)} miscounted); "
                         "the old index is still in use", hint="run `briefing reindex` again")
