"""Deterministic stand-ins for fast unit tests: a hashing embedder and a scripted chat model.

These live in tests/ only. Integration tests use the real packaged embedder, Chroma and llama.cpp.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterator, Sequence

import numpy as np

from assistant.models.llm import Completion


class FakeEmbedder:
    """Bag-of-words hashed into 256 dims: texts sharing words are close, deterministic across runs."""

    name = "fake-hash-256"
    dim = 256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for w in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
                out[row, h % self.dim] += 1.0
            n = np.linalg.norm(out[row])
            out[row] = out[row] / n if n else out[row]
            if not n:
                out[row, 0] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


class ScriptedChat:
    """Replies from a queue and records every message list it was sent (see STYLE.md)."""

    name = "scripted"

    def __init__(self, replies: list[str] | None = None) -> None:
        self.replies = list(replies or [])
        self.history: list[list[dict]] = []

    def enqueue(self, *replies: "str | Exception") -> "ScriptedChat":
        self.replies.extend(replies)
        return self

    def _next(self, messages: list[dict]) -> str:
        self.history.append(messages)
        if not self.replies:
            raise AssertionError("ScriptedChat ran out of replies")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):  # a scripted failure of the endpoint (e.g. LLMError for a judge call)
            raise reply
        return reply

    def complete(self, messages: list[dict], **_: object) -> Completion:
        text = self._next(messages)
        return Completion(text=text, model=self.name, usage={"prompt_tokens": 0, "completion_tokens": len(text.split())})

    def stream(self, messages: list[dict], **_: object) -> Iterator[str | Completion]:
        text = self._next(messages)
        for piece in re.findall(r"\S+\s*|\s+", text):
            yield piece
        yield Completion(text=text, model=self.name, usage={"prompt_tokens": 0, "completion_tokens": len(text.split())})
