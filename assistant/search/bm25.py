"""The BM25 index (bm25s) and the article records search needs, persisted beside the store.

Building BM25 over 100k chunks means reading every chunk back from Chroma and tokenizing it
(~18 s); loading a saved one is a few memory maps. The only importer of bm25s and PyStemmer.

On disk, `<data_dir>/index/<collection>/<tag>/` holds:
- the bm25s matrices and vocabulary (`BM25.save`, loaded with `mmap=True`);
- `rows.jsonl` + `offsets.npy`: one JSON line per indexed chunk (id, text, metadata), read lazily
  by row number through a memory map, so only the rows a query ranks are ever decoded;
- `records.json`: the article records retrieval uses (commit marks, duplicate groups), without the
  bulky MinHash signatures.
The tag is the store's library version (a random token every write changes, see
`Store.version`) plus the chunk count: an index is only used for the library it was built from.
A build is written to a temporary folder and renamed into place, so a crash leaves either the old
index or the new one, never half of one; older tags are removed afterwards.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..types import ArticleRecord
from .store import Store, StoredChunk, _chunk

log = logging.getLogger(__name__)

FORMAT = "1"  # bump when the files change shape: older folders are then rebuilt
_DROP_RECORD_KEYS = ("dup_sig", "dup_n", "dup_hash")  # dedup's signatures: only regroup() needs them
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class LazyRows(Sequence[StoredChunk]):
    """The indexed chunks in index order, decoded from a memory-mapped JSON-lines file on access."""

    def __init__(self, folder: Path) -> None:
        self._offsets = np.load(folder / "offsets.npy", mmap_mode="r")
        with (folder / "rows.jsonl").open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._blob = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> StoredChunk:  # type: ignore[override]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        cid, text, meta = json.loads(self._blob[int(self._offsets[i]):int(self._offsets[i + 1])])
        return StoredChunk(_chunk(cid, text, meta), meta)


@dataclass(frozen=True)
class Bm25Index:
    """A BM25 retriever over `docs` (row i of the matrix is docs[i]) and the query tokenizer."""

    retriever: Any
    tokenize: Callable[[str], list[str]]
    docs: Sequence[StoredChunk]

    def as_tuple(self) -> tuple[Any, Callable[[str], list[str]], Sequence[StoredChunk]]:
        """(retriever, tokenize, docs): the shape Retriever works with."""
        return self.retriever, self.tokenize, self.docs


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenizer(retriever: Any, stemmer: Any) -> Callable[[str], list[str]]:
    import bm25s

    vocab = retriever.vocab_dict

    def tokenize(q: str) -> list[str]:
        toks = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False)[0]
        return [t for t in toks if t in vocab]

    return tokenize


def build(docs: list[StoredChunk]) -> Bm25Index | None:
    """A fresh in-memory index over these chunks (title, section and text), or None when empty."""
    if not docs:
        return None
    import bm25s

    stemmer = _stemmer()
    corpus = [f"{d.meta.get('title', '')}\n{d.chunk.section}\n{d.chunk.text}" for d in docs]
    corpus_tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    return Bm25Index(retriever, _tokenizer(retriever, stemmer), docs)


def folder_for(root: Path, tag: str) -> Path:
    """The folder an index with this tag lives in."""
    return Path(root) / f"f{FORMAT}-{_SAFE.sub('_', tag)}"


def save(index: Bm25Index, records: dict[str, ArticleRecord], root: Path, tag: str) -> Path:
    """Write the index and records under `root/<tag>` atomically; remove other tags. Returns the folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = folder_for(root, tag)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".building-"))
    try:
        index.retriever.save(str(tmp), corpus=None)
        offsets = [0]
        with (tmp / "rows.jsonl").open("wb") as f:
            for d in index.docs:
                line = json.dumps([d.chunk.id, d.chunk.text, d.meta], ensure_ascii=False).encode() + b"\n"
                f.write(line)
                offsets.append(offsets[-1] + len(line))
            f.flush()
            os.fsync(f.fileno())
        np.save(tmp / "offsets.npy", np.asarray(offsets, dtype=np.int64))
        slim = {i: {k: v for k, v in r.to_meta().items() if k not in _DROP_RECORD_KEYS} for i, r in records.items()}
        (tmp / "records.json").write_text(json.dumps(slim, ensure_ascii=False))
        (tmp / "complete").write_text(tag)  # written last: a folder without it is never loaded
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "complete").is_file():  # not ours to trust (copied in, damaged): replace it
                shutil.rmtree(final, ignore_errors=True)
                try:
                    os.rename(tmp, final)
                except OSError:
                    pass
            # else another process saved the same tag first: theirs is as good as ours
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for old in root.iterdir():
        # Readers of an older folder keep their memory maps: unlinked files live until unmapped.
        # A build of another process is left alone unless it is an hour old (its builder died).
        building = old.name.startswith(".building-")
        if old != final and old.is_dir() and (not building or time.time() - old.stat().st_mtime > 3600):
            shutil.rmtree(old, ignore_errors=True)
    return final


def load(root: Path, tag: str) -> tuple[Bm25Index, dict[str, ArticleRecord]] | None:
    """The saved index and records for this tag, memory-mapped, or None when there is none (or it is
    unreadable: then the caller rebuilds it)."""
    folder = folder_for(root, tag)
    if not (folder / "complete").is_file():
        return None
    try:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), mmap=True)
        docs = LazyRows(folder)
        saved = json.loads((folder / "records.json").read_text())
        records = {i: ArticleRecord.from_meta(m) for i, m in saved.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("the saved search index in %s is unreadable (%s); rebuilding it", folder, exc)
        return None
    return Bm25Index(retriever, _tokenizer(retriever, _stemmer()), docs), records


def load_or_build(store: Store, root: Path | None, tag: str) -> tuple[Bm25Index | None, dict[str, ArticleRecord]]:
    """The index and article records for the library as it is now: loaded when saved under this tag,
    else built from the store and (when `root` is given) saved for the next process."""
    if root is not None:
        got = load(root, tag)
        if got is not None:
            return got
    records = store.article_records()
    index = build(store.all_chunks())
    if index is not None and root is not None:
        # Saved only if nothing was written while we read: the tag is read again after the reads.
        if store.version_tag() == tag:
            try:
                save(index, records, root, tag)
            except OSError as exc:  # a read-only data dir still searches, just without the saved index
                log.warning("could not save the search index under %s: %s", root, exc)
    return index, records
