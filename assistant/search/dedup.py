"""Near-duplicate articles: the same wire story carried by several outlets.

At ingest every article gets a MinHash signature of its 5-word shingles (normalised body text).
Articles whose estimated Jaccard similarity reaches `THRESHOLD` (or where the shorter one is
almost wholly contained in the longer, an outlet trimming the wire copy) form a group; the group's
id is its canonical member: the first ingested, and within one ingest run the earliest published.
store.py keeps the signature and the group in each article's record; retrieval keeps one member per
group and lists the others as `Passage.also_reported_by`, so an answer never cites the same text three times.

Pure Python + numpy; no chromadb here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import replace
from typing import Any, Iterable, Mapping, Protocol, TypeVar

import numpy as np

from ..types import ArticleRecord

SHINGLE = 5  # words per shingle
PERMUTATIONS = 128  # estimate error ~0.044 at J = 0.5
# Measured on wire copies (see tests/component/test_dedup.py and docs/usage.md): the same story re-headlined,
# re-bylined and lightly edited scores 0.55-0.95; different stories on the same topic score
# below 0.1. 0.5 sits well clear of both; containment catches a copy trimmed to half its length.
THRESHOLD = 0.5
CONTAINMENT = 0.8
MIN_WORDS = 20  # shorter bodies are too short to call duplicates (a headline, a one-line note)
VERSION = "m1"  # stored with the signature: a new scheme is never compared with an old one

_P = (1 << 61) - 1
_rng = np.random.RandomState(20250402)
_A = _rng.randint(1, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.randint(0, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")


class Ranked(Protocol):
    """What `collapse` needs of a ranked retrieval candidate (candidate.Candidate: a frozen dataclass with
    an `also` field). Named here, not imported: the store imports this module, and a candidate holds a store row."""

    @property
    def article_id(self) -> str: ...


R = TypeVar("R", bound=Ranked)


def shingles(text: str, k: int = SHINGLE) -> set[int]:
    """32-bit hashes of the k-word shingles of casefolded, NFKC-normalised words."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < MIN_WORDS:
        return set()
    return {int.from_bytes(hashlib.blake2b(" ".join(words[i:i + k]).encode(), digest_size=4).digest(), "little")
            for i in range(len(words) - k + 1)}


def signature(text: str) -> tuple[str, int]:
    """(encoded MinHash signature, number of shingles); ("", 0) for a body too short to compare."""
    sh = shingles(text)
    if not sh:
        return "", 0
    hv = np.fromiter(sh, dtype=np.uint64, count=len(sh))
    # (a*x + b) mod p with a, b, x < 2^32: no uint64 overflow, a proper universal hash family.
    mins = ((np.outer(hv, _A) + _B) % np.uint64(_P) & np.uint64(0xFFFFFFFF)).min(axis=0)
    return VERSION + ":" + mins.astype(">u4").tobytes().hex(), len(sh)


def decode(sig: str) -> np.ndarray | None:
    """The signature as an array, or None when missing or from another scheme."""
    if not sig or not sig.startswith(VERSION + ":"):
        return None
    raw = bytes.fromhex(sig[len(VERSION) + 1:])
    arr = np.frombuffer(raw, dtype=">u4").astype(np.uint32)
    return arr if len(arr) == PERMUTATIONS else None


def similar(a: tuple[np.ndarray, int], others: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A boolean mask over `others` (rows of signatures, with their shingle counts): near-duplicates of `a`."""
    sig, n = a
    jac = (others == sig).mean(axis=1)
    # |A ∩ B| = J (|A| + |B|) / (1 + J); containment of the shorter article in the longer one.
    inter = jac * (n + sizes) / (1.0 + jac)
    smaller = np.minimum(n, sizes).clip(min=1)
    contained = inter / smaller
    return (jac >= THRESHOLD) | ((contained >= CONTAINMENT) & (smaller >= 0.5 * np.maximum(n, sizes)))


def jaccard(a: str, b: str) -> float:
    """Estimated Jaccard similarity of two bodies (0 when either is too short): for tests and tuning."""
    sa, sb = decode(signature(a)[0]), decode(signature(b)[0])
    if sa is None or sb is None:
        return 0.0
    return float((sa == sb).mean())


def components(records: Mapping[str, ArticleRecord], seeds: Iterable[str]) -> list[list[str]]:
    """The duplicate groups (connected components of `similar`) that contain the seed article ids.

    `records` maps article id to its record (`dup_sig`, `dup_n`). Singletons are returned
    too, so a caller can reset an article that no longer has duplicates.
    """
    ids = [i for i, r in records.items() if decode(r.dup_sig) is not None]
    index = {i: n for n, i in enumerate(ids)}
    if ids:
        sigs = np.stack([decode(records[i].dup_sig) for i in ids])
        sizes = np.array([records[i].dup_n for i in ids], dtype=np.float64)
    seen: set[str] = set()
    out: list[list[str]] = []
    for seed in seeds:
        if seed in seen or seed not in records:
            continue
        group, queue = [], [seed]
        seen.add(seed)
        while queue:
            cur = queue.pop()
            group.append(cur)
            if cur not in index:
                continue
            n = index[cur]
            for j in np.flatnonzero(similar((sigs[n], sizes[n]), sigs, sizes)):
                other = ids[int(j)]
                if other not in seen:
                    seen.add(other)
                    queue.append(other)
        out.append(sorted(group, key=lambda i: canonical_key(i, records[i])))
    return out


def canonical_key(article_id: str, record: ArticleRecord) -> tuple:
    """Sort key choosing a group's canonical article: first ingested, then (within one ingest run)
    earliest published, undated last. A published date is the article's own claim: ordered by it
    first, a near-copy backdated a day would take the original's place in every answer."""
    ts = record.published_ts
    return (record.ingested_ts, ts is None, ts or 0, article_id)


def collapse(order: list[R], records: Mapping[str, ArticleRecord],
             prefer_canonical: bool = True) -> list[R]:
    """Keep one article per duplicate group among ranked retrieval candidates.

    The kept article is the group's canonical one when any of its chunks ranked (with
    `prefer_canonical`), else the best-ranked member; every kept entry of a group gets `also` = ((source, title, url), ...) for the group's
    other members in the library, earliest first.
    """
    members: dict[str, list[str]] = {}
    for aid, record in records.items():
        if record.dup_group:
            members.setdefault(record.dup_group, []).append(aid)
    members = {g: m for g, m in members.items() if len(m) > 1}
    if not members:
        return order
    present = {e.article_id for e in order}
    chosen: dict[str, str] = {}
    out: list[R] = []
    for e in order:
        aid = e.article_id
        group = records[aid].dup_group if aid in records else ""
        if group not in members:
            out.append(e)
            continue
        if group not in chosen:
            chosen[group] = group if prefer_canonical and group in present else aid
        if chosen[group] != aid:
            continue
        others = sorted((m for m in members[group] if m != aid), key=lambda i: canonical_key(i, records[i]))
        out.append(replace(e, also=tuple((records[m].source, records[m].title, records[m].url) for m in others)))
    return out
