"""Chroma `where` clauses from typed search filters (dates as epoch seconds). Plain dicts: no chromadb here."""

from __future__ import annotations

from typing import Any, Sequence


def where_filter(published_after: int | None = None, published_before: int | None = None,
                 sources: Sequence[str] | None = None, article_ids: Sequence[str] | None = None,
                 as_of: int | None = None) -> dict[str, Any] | None:
    """A Chroma `where` clause from typed filters (dates as epoch seconds).

    `published_before`/`after` keep dated chunks only; `as_of` hides chunks dated after it but keeps
    undated ones (marked `dated: False` at ingest).
    """
    clauses: list[dict[str, Any]] = []
    if published_after is not None:
        clauses.append({"published_ts": {"$gte": int(published_after)}})
    if published_before is not None:
        clauses.append({"published_ts": {"$lte": int(published_before)}})
    if as_of is not None:
        clauses.append({"$or": [{"published_ts": {"$lte": int(as_of)}}, {"dated": False}]})
    if sources:
        clauses.append({"source": {"$in": list(sources)}})
    if article_ids:
        clauses.append({"article_id": {"$in": list(article_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
