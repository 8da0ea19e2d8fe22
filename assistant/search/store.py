"""Chroma storage for chunks and articles. The only importer of chromadb.

Two collections: `<name>_chunks` (embedded chunks, typed metadata) and `<name>_articles` (one
record per article holding its full body). Writing an article is ordered so that a crash at any
point leaves a store that `cleanup()` repairs: chunks first, then the article record (the commit
mark), then removal of the article's older chunks. Readers only see chunks whose article record
carries the same content hash.

`briefing reindex` builds a whole new pair of collections (a generation, generations.py) and then
switches to it with one metadata write on `<name>_chunks`, the anchor every Store reads; a Store
follows a switch at its next search or write.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

from . import dedup, generations
from .where import where_filter  # noqa: F401 - retrieve.py and the store cases import it from here
from .writelock import WriteLock, lock_for
from ..dates import from_epoch, to_epoch
from ..models.embed import Embedder
from ..errors import StoreError
from ..redact import redact_url
from ..types import Article, ArticleRecord, Chunk

_BATCH = 256
_BULK = 2000  # rows per Chroma call in bulk writes (Chroma's limit is ~5,000)


def _chroma():
    import chromadb  # heavy: imported on first use so `briefing --help` stays fast

    return chromadb


def _chroma_ef(embedder: Embedder):
    """Wrap our embedder in Chroma's EmbeddingFunction interface (so Chroma can embed queries too)."""
    from chromadb.api.types import EmbeddingFunction

    class BriefingEmbeddingFunction(EmbeddingFunction):
        def __init__(self, inner: Embedder | None, config: dict[str, Any] | None = None) -> None:
            self._inner = inner
            self._config = dict(config) if config is not None else {"model": inner.name, "dim": inner.dim}

        @property
        def inner(self) -> Embedder:
            if self._inner is None:
                self._inner = _shared_minilm()
            return self._inner

        def __call__(self, input):  # noqa: A002 - Chroma's parameter name
            return [row for row in self.inner.embed(list(input))]

        @staticmethod
        def name() -> str:
            return "briefing-assistant"

        def get_config(self) -> dict[str, Any]:
            return dict(self._config)

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "BriefingEmbeddingFunction":
            # Chroma rebuilds the function from the stored config each time it reads a collection's
            # schema, which it does on every upsert. Our reads and writes always pass vectors, so the
            # model is only loaded if something really asks Chroma to embed text (~0.3 s per load).
            return BriefingEmbeddingFunction(None, config)

        def default_space(self) -> str:
            return "cosine"

    return BriefingEmbeddingFunction(embedder)


@functools.lru_cache(maxsize=1)
def _shared_minilm() -> Embedder:
    from ..models.embed import make_embedder

    return make_embedder("minilm")


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from Chroma with its metadata."""

    chunk: Chunk
    meta: dict[str, Any]
    distance: float = 0.0


class Store:
    """Articles and chunks in Chroma, with crash-safe writes and typed filters."""

    def __init__(self, client: Any, name: str, embedder: Embedder, lock: WriteLock | None = None,
                 generation: str | None = None, check_embedder: bool = True) -> None:
        """Open the library `name` on `client`: the generation its anchor names, or `generation` itself
        (reindex building a new one; such a Store never follows the anchor). `check_embedder=False`
        opens a library embedded with another model (reindex reads its bodies, not its vectors)."""
        self.client = client
        self.embedder = embedder
        self.name = name
        # Held by every write here and by a whole ingest run (pipeline.py): one writer per data dir.
        self.write_lock = lock or WriteLock(None)
        self._anchor_name = f"{name}_chunks"
        self._follows = generation is None
        try:
            with self.write_lock:  # two processes creating the collections of a new library at once collide
                anchor = client.get_or_create_collection(
                    self._anchor_name, embedding_function=_chroma_ef(embedder),
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedder": embedder.name, "dim": embedder.dim},
                )
                self._open_generation(generations.active(anchor.metadata) if generation is None else generation,
                                      create=generation is not None)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises many types; all mean the same to a user
            raise StoreError(f"cannot open the Chroma collections: {exc}") from exc
        if check_embedder:
            self._check_embedder()

    def _open_generation(self, generation: str, create: bool) -> None:
        # The base generation ("") is the anchor pair itself, so a library that was never reindexed is
        # read exactly as before generations existed.
        chunks_name, articles_name = generations.names(self.name, generation)
        if create or not generation:
            chunks = self.client.get_or_create_collection(
                chunks_name, embedding_function=_chroma_ef(self.embedder), configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder.name, "dim": self.embedder.dim})
            articles = self.client.get_or_create_collection(
                articles_name, embedding_function=None, configuration={"hnsw": {"space": "l2"}})
        else:  # following a switch: never re-create a generation another process may just have dropped
            chunks = self.client.get_collection(chunks_name, embedding_function=_chroma_ef(self.embedder))
            articles = self.client.get_collection(articles_name, embedding_function=None)
        self.chunks, self.articles_col, self.generation, self._chunks_name = chunks, articles, generation, chunks_name

    def _check_embedder(self) -> None:
        stored = (self.chunks.metadata or {}).get("embedder")
        if stored and stored != self.embedder.name:
            raise StoreError(f"this library was embedded with {stored}, not {self.embedder.name}",
                             hint="use the same BRIEFING_EMBEDDER, or run `briefing reindex` to embed it again")

    def follow(self) -> bool:
        """Move to the generation the anchor names now, if a reindex switched it; True when it moved.
        Called at each search (version_tag) and write, so a long-running page or server follows."""
        if not self._follows:
            return False
        meta = self.anchor_meta()
        target = generations.active(meta)
        if target == self.generation:
            return False
        try:
            self._open_generation(target, create=False)
        except Exception as exc:
            raise StoreError(f"the library was reindexed and its new index cannot be opened: {exc}",
                             hint="try again; if it persists, run `briefing reindex`") from exc
        self._check_embedder()
        return True

    def anchor_meta(self) -> dict[str, Any]:
        """The anchor's metadata now: active and pending generations, library version (generations.py)."""
        col = self._call(self.client.get_collection, name=self._anchor_name,
                         embedding_function=self.chunks._embedding_function)
        return dict(col.metadata or {})

    def set_anchor(self, **changes: Any) -> None:
        """Change keys of the anchor's metadata and the library version with them, in one write: how a
        reindex records its pending generation ("" for none) and then switches to it."""
        with self.write_lock:
            anchor = self._call(self.client.get_collection, name=self._anchor_name,
                                embedding_function=self.chunks._embedding_function)
            meta = {**(anchor.metadata or {}), **changes, "library_version": secrets.token_hex(8)}
            self._call(anchor.modify, metadata=meta)

    @classmethod
    def open(cls, data_dir: Path, chroma_url: str | None, name: str, embedder: Embedder,
             check_embedder: bool = True) -> "Store":
        """An embedded PersistentClient under data_dir, or an HttpClient when chroma_url is set."""
        chromadb = _chroma()
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if chroma_url:
                u = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
                client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or (443 if u.scheme == "https" else 8000),
                                             ssl=u.scheme == "https", settings=chroma_settings)
                client.heartbeat()
            else:
                path = Path(data_dir).expanduser() / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                # Under the data dir's write lock: two processes opening a new library at once both ran Chroma's
                # first-time table creation, and one failed ("table collections already exists").
                with lock_for(Path(data_dir)):
                    client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except StoreError:
            raise
        except Exception as exc:
            # The message reaches API clients (serve answers 503 with it): never the URL's user, password or key.
            where = redact_url(chroma_url) if chroma_url else str(data_dir)
            why = str(exc).replace(chroma_url, where) if chroma_url else str(exc)
            raise StoreError(f"cannot open the Chroma store at {where}: {why}") from exc
        return cls(client, name, embedder, lock_for(Path(data_dir)), check_embedder=check_embedder)

    # --- articles -------------------------------------------------------------------------

    def article_records(self) -> dict[str, ArticleRecord]:
        """The record of every committed article, by id (no bodies)."""
        return {i: ArticleRecord.from_meta(m) for i, m in self._article_metas().items()}

    def _article_metas(self) -> dict[str, dict[str, Any]]:
        self.follow()  # the library listing of a page that was open during a reindex
        out: dict[str, dict[str, Any]] = {}
        for ids, metas, _ in self._paged(self.articles_col, include=["metadatas"]):
            out.update(zip(ids, metas))
        return out

    def articles(self) -> list[Article]:
        """Every committed article, without bodies, newest first then by title."""
        items = [self._article(i, m, "") for i, m in self._article_metas().items()]
        return sorted(items, key=lambda a: (-(to_epoch(a.published_at) or 0), a.title.lower(), a.id))

    def article(self, article_id: str) -> Article | None:
        """One article with its full body, or None."""
        self.follow()
        got = self._call(self.articles_col.get, ids=[article_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return self._article(got["ids"][0], got["metadatas"][0], got["documents"][0])

    def bodies(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Full bodies of the given articles."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        self.follow()
        got = self._call(self.articles_col.get, ids=ids, include=["documents"])
        return dict(zip(got["ids"], got["documents"]))

    def ids_from_origin(self, origin: str) -> list[str]:
        """Articles that were read from the same file/line/URL before."""
        got = self._call(self.articles_col.get, where={"origin": origin}, include=[])
        return list(got["ids"])

    @staticmethod
    def _article(article_id: str, m: dict[str, Any], body: str) -> Article:
        return Article(id=article_id, title=m.get("title", ""), body=body, source=m.get("source", ""),
                       url=m.get("url", ""), published_at=from_epoch(m.get("published_ts")),
                       origin=m.get("origin", ""), content_hash=m.get("content_hash", ""),
                       chunk_count=int(m.get("chunk_count", 0)))

    # --- writes ---------------------------------------------------------------------------

    def write_article(self, article: Article, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Store an article and its chunks; replaces any earlier version of the same article id."""
        self.write_articles([(article, chunks, embeddings)])

    def write_articles(self, items: Sequence[tuple[Article, Sequence[Chunk], np.ndarray]],
                       stamp: int | None = None, carry: dict[str, dict[str, Any]] | None = None) -> None:
        """`write_article` for many articles with few Chroma calls, in the same crash-safe order: every
        chunk first, then the article records (each one commits its article), then the stale chunks.
        `ingested_ts` is `stamp` (default now) for a new article and kept for an updated one. `carry`:
        record metadata by article id written in the same upsert (reindex keeps ingest times and groups)."""
        if not items:
            return
        with self.write_lock:
            self.follow()
            self._bump()  # before and after: an index built from a half-done write is never reused
            rows = [(c, {**_meta(art), "article_id": art.id, "start": c.start, "end": c.end,
                         "section": c.section, "index": c.index}, vecs[j])
                    for art, chunks, vecs in items for j, c in enumerate(chunks)]
            for i in range(0, len(rows), _BULK):
                part = rows[i:i + _BULK]
                self._call(self.chunks.upsert, ids=[c.id for c, _, _ in part], embeddings=[v for _, _, v in part],
                           documents=[c.text for c, _, _ in part], metadatas=[m for _, m, _ in part])
            now = int(time.time() * 1000) if stamp is None else stamp  # ms, as pipeline._Run.stamp
            for i in range(0, len(items), _BULK):
                part = items[i:i + _BULK]
                # An edit must not make an article newer than the copies of it ingested after it.
                got = self._call(self.articles_col.get, ids=[art.id for art, _, _ in part], include=["metadatas"])
                first = {aid: int((m or {}).get("ingested_ts") or now) for aid, m in zip(got["ids"], got["metadatas"])}
                self._call(self.articles_col.upsert, ids=[art.id for art, _, _ in part],
                           embeddings=[[1.0]] * len(part), documents=[art.body for art, _, _ in part],
                           metadatas=[_record(art, len(chunks), first, now, (carry or {}).get(art.id, {}))
                                      for art, chunks, _ in part])
            stale = [{"$and": [{"article_id": art.id}, {"content_hash": {"$ne": art.content_hash}}]}
                     for art, _, _ in items]
            for i in range(0, len(stale), 100):
                part = stale[i:i + 100]
                self._call(self.chunks.delete, where=part[0] if len(part) == 1 else {"$or": part})
            self._bump()

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and its chunks. Returns False when there was no such article.

        When the article was in a duplicate group, the group is recomputed (a new canonical member).
        """
        with self.write_lock:
            self.follow()
            got = self._call(self.articles_col.get, ids=[article_id], include=["metadatas"])
            existed = bool(got["ids"])
            self._bump()
            self._call(self.articles_col.delete, ids=[article_id])
            self._call(self.chunks.delete, where={"article_id": article_id})
            self._bump()
            group = (got["metadatas"][0] or {}).get("dup_group") if existed else None
            if group:
                self.regroup([article_id, group])
            return existed

    # --- near-duplicate groups (see dedup.py) -------------------------------------------------

    def regroup(self, article_ids: Iterable[str]) -> int:
        """Recompute the duplicate groups that hold, or held, these articles; returns records changed.

        Signatures are computed for any article whose stored one is missing or from an older version
        of its body; each group's `dup_group` is its canonical member's id (its own for a singleton).
        """
        with self.write_lock:
            self.follow()
            records = self.article_records()
            self._fill_signatures(records)
            seeds = set(article_ids)
            old = {records[i].dup_group for i in seeds if i in records and records[i].dup_group}
            seeds |= {i for i, r in records.items() if r.dup_group in seeds | old}
            updates: dict[str, str] = {}
            for group in dedup.components(records, sorted(seeds)):
                for member in group:
                    if records[member].dup_group != group[0]:
                        updates[member] = group[0]
            ids = sorted(updates)
            for i in range(0, len(ids), _BATCH):
                part = ids[i:i + _BATCH]
                self._call(self.articles_col.update, ids=part, metadatas=[{"dup_group": updates[x]} for x in part])
            if ids:
                self._bump()  # duplicate groups are part of what search reads
            return len(ids)

    def _fill_signatures(self, records: dict[str, ArticleRecord]) -> None:
        stale = [i for i, r in records.items() if r.dup_hash != r.content_hash]
        for i in range(0, len(stale), _BATCH):
            part = stale[i:i + _BATCH]
            metas = []
            for aid, body in self.bodies(part).items():
                sig, n = dedup.signature(body)
                meta = {"dup_sig": sig, "dup_n": n, "dup_hash": records[aid].content_hash}
                records[aid] = replace(records[aid], **meta)
                metas.append((aid, meta))
            if metas:
                self._call(self.articles_col.update, ids=[a for a, _ in metas], metadatas=[m for _, m in metas])

    def cleanup(self) -> int:
        """Delete chunks left by an interrupted write (no matching committed article). Returns count."""
        with self.write_lock:
            self.follow()
            committed = {i: r.content_hash for i, r in self.article_records().items()}
            orphans = [cid for cid, m in self._chunk_metas() if committed.get(m.get("article_id")) != m.get("content_hash")]
            for i in range(0, len(orphans), _BATCH):
                self._call(self.chunks.delete, ids=orphans[i:i + _BATCH])
            if orphans:
                self._bump()
            return len(orphans)

    def miscounted(self) -> list[str]:
        """Committed articles whose stored chunks are not the number their record says: what a second
        writer's cleanup left before the data dir had a lock, or a store damaged by hand."""
        records = self.article_records()
        have = Counter(m.get("article_id") for _, m in self._chunk_metas()
                       if m.get("article_id") in records and records[m["article_id"]].content_hash == m.get("content_hash"))
        return sorted(i for i, r in records.items() if have.get(i, 0) != r.chunk_count)

    def drop_chunks(self, article_id: str) -> None:
        """Delete every chunk of an article and keep its record (a repair writes the chunks again)."""
        with self.write_lock:
            self._call(self.chunks.delete, where={"article_id": article_id})
            self._bump()

    # --- library version (what saved search indexes are keyed by) ------------------------------

    def version_tag(self) -> str:
        """Changes whenever chunks or article records are written or deleted, by any process: a random
        token kept in the anchor's metadata (the generation's own, for a generation being built), plus
        the chunk count. Follows a reindex's switch first."""
        self.follow()
        col = self._call(self.client.get_collection, name=self._version_name(),
                         embedding_function=self.chunks._embedding_function)
        return f"{(col.metadata or {}).get('library_version', 'v0')}-{self._count()}"

    def _bump(self) -> None:
        # A random token, not a counter: two writers can never both land on the same "next" value. A
        # generation being built bumps its own collection: serving processes keep their index until the switch.
        col = self._call(self.client.get_collection, name=self._version_name(),
                         embedding_function=self.chunks._embedding_function)
        meta = {**(col.metadata or {}), "library_version": secrets.token_hex(8)}
        self._call(col.modify, metadata=meta)

    def _version_name(self) -> str:
        return self._anchor_name if self._follows else self._chunks_name

    # --- reads for retrieval --------------------------------------------------------------

    def dense(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None) -> list[StoredChunk]:
        """Nearest chunks by cosine distance, restricted by a Chroma `where` filter."""
        total = self._count()
        if total == 0:
            return []
        got = self._call(self.chunks.query, query_embeddings=[embedding.tolist()], n_results=min(n, total),
                         where=where or None, include=["metadatas", "documents", "distances"])
        return [StoredChunk(_chunk(cid, doc, meta), meta, dist)
                for cid, doc, meta, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of the given chunks, by id (missing ids are left out)."""
        if not chunk_ids:
            return {}
        got = self._call(self.chunks.get, ids=list(chunk_ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def all_chunks(self) -> list[StoredChunk]:
        """Every stored chunk with its text and metadata (for the BM25 index)."""
        out: list[StoredChunk] = []
        for ids, metas, docs in self._paged(self.chunks, include=["metadatas", "documents"]):
            out.extend(StoredChunk(_chunk(i, d, m), m) for i, d, m in zip(ids, docs, metas))
        return out

    def count(self) -> int:
        """Number of stored chunks (of the generation in use after a reindex's switch)."""
        self.follow()
        return self._count()

    def _count(self) -> int:
        return int(self._call(self.chunks.count))

    def stamp(self) -> tuple[int, int]:
        """Changes whenever articles are written or deleted: (chunk count, hash of article versions)."""
        records = self.article_records()
        return self.count(), hash(frozenset((i, r.content_hash) for i, r in records.items()))

    def _chunk_metas(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        for ids, metas, _ in self._paged(self.chunks, include=["metadatas"]):
            out.extend(zip(ids, metas))
        return out

    def _paged(self, col: Any, include: list[str]):
        offset = 0
        while True:
            got = self._call(col.get, include=include, limit=5000, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got.get("metadatas") or [{}] * len(got["ids"]), got.get("documents") or [""] * len(got["ids"])
            offset += len(got["ids"])

    @staticmethod
    def _call(fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except Exception as exc:
            raise StoreError(f"Chroma {getattr(fn, '__name__', 'call')} failed: {exc}") from exc


def _meta(article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = {"content_hash": article.content_hash, "title": article.title,
                            "source": article.source, "url": article.url}
    ts = to_epoch(article.published_at)
    if ts is not None:
        meta["published_ts"] = ts  # int: Chroma range filters ($gte/$lte) need numbers
    # Chroma range filters skip records without the key; `dated` lets an as_of filter keep undated ones.
    meta["dated"] = ts is not None
    return meta


def _record(article: Article, n_chunks: int, first: dict[str, int], now: int, kept: dict[str, Any]) -> dict[str, Any]:
    # The article record; `kept` (a reindex's copy of the old record) keeps its first ingest time and group.
    ingested = first.get(article.id, int(kept.get("ingested_ts") or now))
    return {**kept, **_meta(article), "origin": article.origin, "chunk_count": n_chunks, "ingested_ts": ingested}


def _chunk(cid: str, doc: str, m: dict[str, Any]) -> Chunk:
    return Chunk(id=cid, article_id=m.get("article_id", ""), text=doc or "", start=int(m.get("start", 0)),
                 end=int(m.get("end", 0)), section=m.get("section", ""), index=int(m.get("index", 0)))
