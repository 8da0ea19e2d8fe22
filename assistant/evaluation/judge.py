"""Support judges: does a source text entail a claim? Used for ALCE citation recall/precision.

- LexicalJudge: the offline default. It scores with `assistant.citations.support` (mean of content-
  word coverage and best embedding cosine, the same score the answer pipeline keeps sentences by)
  and says "supported" at a threshold calibrated on CLAPnq evidence sentences
  (evals/calibrate_judge.py -> evals/results/judge_calibration.json).
- LLMJudge: asks a chat model with prompts/judge.md (SUPPORTED / UNSUPPORTED) at temperature 0.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Sequence

import numpy as np

from ..citations import support
from ..prompting import load_prompt

# Calibrated with the packaged MiniLM embedder by evals/calibrate_judge.py (threshold maximising
# balanced accuracy on the calibration half of CLAPnq dev). With another embedder, recalibrate.
LEXICAL_THRESHOLD = 0.65


class SupportJudge(Protocol):
    """Decides whether sources, read together, support a claim."""

    name: str

    def supports(self, sources: Sequence[str], claim: str) -> bool:
        """True when the joined sources entail the claim."""
        ...


class LexicalJudge:
    """Offline judge: `support(claim, sources) >= threshold`, with embeddings cached per text."""

    def __init__(self, embedder: Any, threshold: float = LEXICAL_THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.name = f"lexical@{threshold:g} ({getattr(embedder, 'name', type(embedder).__name__)})"
        self.calls = 0
        self._vecs: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed texts not seen yet in one batch (speeds up many small calls)."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._vecs))
        if todo:
            for t, v in zip(todo, self.embedder.embed(todo)):
                self._vecs[t] = v

    def score(self, sources: Sequence[str], claim: str) -> float:
        """The support score (0..1) of the claim by the sources."""
        if not sources:
            return 0.0
        self.prefetch([claim, *sources])
        self.calls += 1
        return support(claim, self._vecs[claim], list(sources), [self._vecs[s] for s in sources])

    def supports(self, sources: Sequence[str], claim: str) -> bool:
        """True when the score reaches the threshold."""
        return self.score(sources, claim) >= self.threshold


_VERDICT = re.compile(r"\b(unsupported|not supported|supported)\b", re.I)


def parse_verdict(text: str) -> bool | None:
    """SUPPORTED -> True, UNSUPPORTED / NOT SUPPORTED -> False, anything else -> None."""
    m = _VERDICT.search(text or "")
    if not m:
        return None
    return m.group(1).lower() == "supported"


class LLMJudge:
    """A chat model as judge (prompts/judge.md). Unparseable replies count as unsupported."""

    def __init__(self, chat: Any, max_tokens: int = 5) -> None:
        self.chat = chat
        self.max_tokens = max_tokens
        self.name = f"llm ({getattr(chat, 'name', type(chat).__name__)})"
        self.calls = 0
        self.unparsed = 0
        self.usage: dict[str, int] = {}
        self._cache: dict[tuple[tuple[str, ...], str], bool] = {}

    def supports(self, sources: Sequence[str], claim: str) -> bool:
        """Ask the model once per distinct (sources, claim) pair."""
        if not sources:
            return False
        key = (tuple(sources), claim)
        if key in self._cache:
            return self._cache[key]
        messages = load_prompt("judge").render(source="\n".join(sources), claim=claim)
        out = self.chat.complete(messages, max_tokens=self.max_tokens, temperature=0.0)
        self.calls += 1
        for k, v in (out.usage or {}).items():
            if isinstance(v, int):
                self.usage[k] = self.usage.get(k, 0) + v
        verdict = parse_verdict(out.text)
        if verdict is None:
            self.unparsed += 1
            verdict = False
        self._cache[key] = verdict
        return verdict


def judge_info(judge: Any) -> dict[str, Any]:
    """What a report records about the judge that was used."""
    info: dict[str, Any] = {"name": getattr(judge, "name", type(judge).__name__),
                            "calls": getattr(judge, "calls", None)}
    for attr in ("threshold", "unparsed", "usage"):
        if hasattr(judge, attr):
            info[attr] = getattr(judge, attr)
    return info
