"""Briefing Assistant: cited answers over news briefings.

    from assistant import Assistant
    with Assistant.from_settings() as a:
        a.ingest(["examples/briefings"])
        print(a.ask("Is Russia stalling?"))
"""

from __future__ import annotations

from .errors import AssistantError, ConfigError, EmptyLibraryError, IngestError, LLMError, PromptError, RequestError, StoreError
from .types import (
    REFUSAL, Answer, AnswerEvent, Article, Chunk, Citation, EvidenceEvent, EvidenceSentence,
    IngestFailure, IngestReport, Passage, TextDelta,
)

__all__ = [
    "Assistant", "Settings", "BriefingRetriever", "REFUSAL", "Answer", "AnswerEvent", "Article", "Chunk", "Citation",
    "EvidenceEvent", "EvidenceSentence", "IngestFailure", "IngestReport", "Passage", "TextDelta",
    "AssistantError", "ConfigError", "EmptyLibraryError", "IngestError", "LLMError", "PromptError", "RequestError", "StoreError",
]


def __getattr__(name: str):
    # Assistant and Settings pull in pydantic/numpy; load them on first use to keep imports light.
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    if name == "Settings":
        from .config import Settings

        return Settings
    if name == "BriefingRetriever":
        # LangChain is imported only by whoever asks for the retriever.
        from .app.langchain_retriever import BriefingRetriever

        return BriefingRetriever
    raise AttributeError(name)
