"""`BriefingRetriever`: the library as a LangChain retriever. The only importer of langchain_core.

For people who already build with LangChain: `retriever.invoke("question")` returns `Document`s whose
text is a stored chunk, verbatim, and whose metadata carries what our own citations carry (article id,
title, source, date, URL, chunk id, start/end offsets into the article body, fused score), so a chain
built on it can still point at the exact sentence it used. Retrieval is ours (hybrid dense + BM25,
dates, diversity); only the wrapper is LangChain's. `assistant/__init__.py` exports it lazily:
importing `assistant` does not import LangChain.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from ..types import Passage


def passage_document(p: Passage) -> Document:
    """One passage as a LangChain Document: the chunk text, and its citation metadata under flat keys
    (LangChain vector stores and tracers expect str/int/float/None values)."""
    return Document(
        id=p.chunk_id,
        page_content=p.text,
        metadata={
            "article_id": p.article_id, "chunk_id": p.chunk_id, "title": p.title, "source": p.source,
            "published_at": p.published_at.date().isoformat() if p.published_at else None, "url": p.url,
            "section": p.section, "start": p.start, "end": p.end, "score": float(p.score),
        },
    )


class BriefingRetriever(BaseRetriever):
    """Passages of the library as Documents, best first.

        from assistant import Assistant, BriefingRetriever
        retriever = BriefingRetriever(assistant=Assistant.from_settings(), k=5, filters={"since": "2025-04-01"})
        docs = retriever.invoke("Is Russia stalling?")

    `filters` are Assistant.search's (since, until, as_of, sources); `mode` hybrid, dense or bm25.
    Each Document's `metadata["start"]:["end"]` is the chunk's span in the article body
    (`assistant.article(metadata["article_id"]).body`)."""

    # The Assistant (or anything with its `search(question, k=, mode=, **filters)`); not validated by pydantic.
    assistant: Any = Field(description="the Assistant whose library is searched")
    k: int = Field(default=4, ge=1, description="passages returned per query")
    mode: Literal["hybrid", "dense", "bm25"] = Field(default="hybrid", description="how passages are found")
    filters: dict[str, Any] = Field(default_factory=dict, description="Assistant.search filters, e.g. since")

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        # Limits (k, question length) are the assistant's own: a RequestError reaches the chain unchanged.
        passages = self.assistant.search(query, k=self.k, mode=self.mode, **self.filters)
        return [passage_document(p) for p in passages]
