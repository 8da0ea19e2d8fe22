"""Chat (and optional embedding) models behind any OpenAI-compatible endpoint. The only importer of openai.

CONTRACT (used by answering.py and tests/fakes.py; keep these names and shapes):
  Completion(text, model, usage)                       frozen dataclass
  ChatModel protocol: .name; .complete(messages, **opts) -> Completion;
                      .stream(messages, **opts) -> Iterator[str | Completion]  (str deltas, then one Completion)
  chat_model_from_settings(settings) -> (ChatModel, closer or None)
  OpenAIEmbedder(model, settings)  -> .name, .dim, .embed(texts) -> np.ndarray
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol


@dataclass(frozen=True)
class Completion:
    """A finished model reply."""

    text: str
    model: str = ""
    usage: dict[str, int] = field(default_factory=dict)


class ChatModel(Protocol):
    """What the answer pipeline needs from a chat model."""

    name: str

    def complete(self, messages: list[dict[str, str]], **opts: Any) -> Completion:
        """The whole reply at once."""
        ...

    def stream(self, messages: list[dict[str, str]], **opts: Any) -> Iterator[str | Completion]:
        """Text deltas as they arrive, then one Completion with the whole text and usage."""
        ...
