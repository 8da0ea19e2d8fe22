"""The values retrieval passes between its stages: a `Candidate` chunk and the `RetrievalParams`.

Both cross module lines (retrieve.py fuses and ranks candidates, dedup.py collapses them; the
composition root and the tuning scripts in evals/ build the parameters), so they are named, frozen
values rather than dicts keyed "sc"/"also" or attributes patched on a live `Retriever`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .store import StoredChunk

if TYPE_CHECKING:
    from ..config import Settings

Collapse = Literal["canonical", "best", "off"]
RRF_K = 10  # fusion defaults; Settings.rrf_k / bm25_weight carry the ones in use
BM25_WEIGHT = 0.5
TIME_WEIGHT = 0.5  # the date prior's weight, in first-place ranks (Settings.time_weight)


@dataclass(frozen=True)
class Candidate:
    """A stored chunk in the running for a question: its fused score (with the date prior), its rank in
    each list that found it, and the other outlets that carried the same story (set by the collapse)."""

    hit: StoredChunk
    score: float
    dense_rank: int | None = None
    bm25_rank: int | None = None
    also: tuple[tuple[str, str, str], ...] = ()  # (source, title, url) of each near-duplicate, earliest first

    @property
    def chunk_id(self) -> str:
        """The chunk's id (the tie-breaker of every ordering)."""
        return self.hit.chunk.id

    @property
    def article_id(self) -> str:
        """The article the chunk belongs to (the unit of the per-article cap and of duplicate groups)."""
        return self.hit.chunk.article_id


@dataclass(frozen=True)
class RetrievalParams:
    """How retrieval fuses and diversifies: fixed for a `Retriever`'s life. A tuning script measures
    another setting with `Retriever.with_params(replace(params, ...))`, never by patching the live one."""

    per_article_cap: int = 3
    rrf_k: int = RRF_K
    bm25_weight: float = BM25_WEIGHT  # the dense list's weight is 1
    mmr_lambda: float | None = None  # None: no MMR, only the per-article cap
    time_weight: float = TIME_WEIGHT
    collapse: Collapse = "best"  # near-duplicates: keep the group's original, the best-ranked copy, or all

    @classmethod
    def from_settings(cls, settings: "Settings") -> "RetrievalParams":
        """The parameters named by the settings (BRIEFING_RRF_K, BRIEFING_BM25_WEIGHT, ...): the one place
        Settings become retrieval parameters."""
        return cls(per_article_cap=settings.per_article_cap, rrf_k=settings.rrf_k, bm25_weight=settings.bm25_weight,
                   mmr_lambda=settings.mmr_lambda, time_weight=settings.time_weight, collapse=settings.collapse)

    def weight(self, ranking: str) -> float:
        """The fusion weight of a ranked list ("dense" or "bm25")."""
        return self.bm25_weight if ranking == "bm25" else 1.0
