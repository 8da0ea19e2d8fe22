"""Support judges: does a source text entail a claim? Used for ALCE citation recall/precision.

- EntailmentJudge: the default. The claim checker of `assistant.answer.entailment` (deterministic guards
  for numbers, dates, negation, names and attribution, then the chat model asked a one-word yes/no
  question). It is measured on the labelled faithfulness set by `briefing eval-judge`; every eval
  report prints that measurement next to the citation numbers.
- LLMJudge: asks a chat model with prompts/judge.md (SUPPORTED / UNSUPPORTED) at temperature 0.
- LexicalJudge: the retrieval similarity (`assistant.answer.citations.support`) at a threshold. It shares
  the answer pipeline's blind spots (negation, numbers, attribution), so reports show it only as
  the "similarity" column, never under the ALCE names.

`make_judge` is the one place a judge is built from its name.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Sequence

import numpy as np

from ..answer.citations import support
from ..answer.prompting import load_prompt

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


class EntailmentJudge:
    """ALCE judge over a claim checker: `checker.check(claim, evidence) -> Verdict` (supported, layer,
    reason). Verdicts are cached per everything the checker reads (sources, claim, context, block and keys)
    and kept for the report (which layer said no)."""

    def __init__(self, checker: Any, label: str = "entailment") -> None:
        self.checker = checker
        self.name = f"{label} ({getattr(checker, 'name', type(checker).__name__)})"
        self.calls = 0
        self.rejected_by: dict[str, int] = {}
        self._cache: dict[tuple[Any, ...], Any] = {}

    @staticmethod
    def _key(sources: Sequence[str], claim: str, context: str, block: str | None,
             keys: Sequence[int] | None) -> tuple[Any, ...]:
        # The block and keys are part of what the checker is asked: the same claim and sentences under another
        # evidence block (eval-judge --articles) is another question, not a cached answer.
        extra = (block, tuple(keys)) if block and keys else (None, ())
        return (tuple(sources), claim, context, *extra)

    def verdict(self, sources: Sequence[str], claim: str, context: str = "", block: str | None = None,
                keys: Sequence[int] | None = None) -> Any:
        """The checker's Verdict for the claim against the joined sources (cached); `context` is text the
        checker may take names from, as the product gives it the cited briefing's headline; `block` and
        `keys`: the whole keyed evidence the answer prompt showed and the cited keys, as the product asks
        the judge (default: the cited sentences alone)."""
        key = self._key(sources, claim, context, block, keys)
        if key not in self._cache:
            self.calls += 1
            extra = {"block": block, "keys": list(keys)} if block and keys else {}
            v = self.checker.check(claim, list(sources), context=context, **extra)
            if not v.supported:
                layer = getattr(v, "layer", "") or "unknown"
                self.rejected_by[layer] = self.rejected_by.get(layer, 0) + 1
            self._cache[key] = v
        return self._cache[key]

    def supports(self, sources: Sequence[str], claim: str, context: str = "", block: str | None = None,
                 keys: Sequence[int] | None = None) -> bool:
        """True when the checker finds the claim in the sources."""
        if not sources or not claim.strip():
            return False
        return bool(self.verdict(sources, claim, context, block, keys).supported)

    def why(self, sources: Sequence[str], claim: str, context: str = "", block: str | None = None,
            keys: Sequence[int] | None = None) -> str:
        """'layer: reason' of a rejection ('' when supported or never asked)."""
        v = self._cache.get(self._key(sources, claim, context, block, keys))
        if v is None or v.supported:
            return ""
        return f"{getattr(v, 'layer', '')}: {getattr(v, 'reason', '')}".strip(": ")


JUDGES = ("entailment", "guards", "openai", "llm", "lexical")


def make_judge(kind: str, assistant: Any, judge_model: str | None = None, judge_url: str | None = None) -> SupportJudge:
    """The support judge by name, built on the assistant's parts:

    - "entailment" (default): `assistant.answer.entailment.Checker` with the assistant's chat model as judge;
    - "guards": the same checker without the model (deterministic layers only; offline, fast);
    - "openai" / "llm": the checker with another chat model on an OpenAI-compatible endpoint as judge
      (`judge_model` on `judge_url`, default the configured endpoint); "llm" without `judge_model`
      keeps the old prompts/judge.md judge on the configured endpoint;
    - "lexical": accepted for old command lines; runs "guards" (the similarity score is reported
      in its own column in every run).
    """
    from ..errors import ConfigError

    if kind not in JUDGES:
        raise ConfigError(f"unknown judge {kind!r}", hint="use " + ", ".join(JUDGES))
    if kind == "llm" and not judge_model:
        if assistant.settings.llm.uses_local and getattr(assistant, "_llm", None) is None:
            raise ConfigError("the LLM judge needs a capable hosted model, but none is configured",
                              hint="set OPENAI_API_KEY or BRIEFING_LLM__BASE_URL and BRIEFING_LLM__MODEL, "
                                   "or pass --judge-model")
        return LLMJudge(assistant.llm)
    Checker = checker_class()
    embedder = getattr(assistant, "embedder", None)
    # llama.cpp takes a grammar that lets the judge say only yes or no; hosted endpoints do not.
    # A chat model that says what it takes (`.constrain`) is believed.
    llm = None if kind in ("guards", "lexical") else assistant.llm
    constrain = getattr(llm, "constrain", None) or ("grammar" if assistant.settings.llm.uses_local else "none")
    if kind in ("guards", "lexical"):
        return EntailmentJudge(_checker(Checker, None, embedder), label="guards")
    if kind == "entailment":  # as the product runs it, with its judge threshold
        threshold = assistant.settings.answer.judge_threshold
        return EntailmentJudge(_checker(Checker, llm, embedder, constrain, threshold))
    if not judge_model:
        raise ConfigError("--judge openai needs a model name", hint="pass --judge-model NAME")
    from ..models.llm import OpenAIChat

    s = assistant.settings.llm
    key = s.api_key.get_secret_value() if s.api_key is not None else "not-needed"
    chat = OpenAIChat(judge_url or s.base_url, key, judge_model, temperature=0.0, seed=s.seed,
                      timeout_s=s.timeout_s, max_retries=s.max_retries)
    return EntailmentJudge(_checker(Checker, chat, embedder, "grammar" if judge_url else "none"), label="entailment")


def checker_class() -> Any:
    """The claim checker class (assistant.answer.entailment.Checker); ConfigError when it is not there."""
    from ..errors import ConfigError

    try:
        from ..answer.entailment import Checker
    except ImportError as exc:
        raise ConfigError("the entailment checker (assistant/answer/entailment.py) is not available",
                          hint="use --judge openai --judge-model NAME, or update the code") from exc
    return Checker


def _checker(cls: Any, llm: Any, embedder: Any, constrain: str = "none", threshold: float | None = None) -> Any:
    # The interface promised is Checker(llm=...); the embedder (similarity floor), the grammar and the judge's
    # threshold are used when the checker takes them.
    try:
        return cls(llm=llm, embedder=embedder, constrain=constrain, threshold=threshold)
    except TypeError:
        return cls(llm=llm)


def judge_info(judge: Any) -> dict[str, Any]:
    """What a report records about the judge that was used."""
    info: dict[str, Any] = {"name": getattr(judge, "name", type(judge).__name__),
                            "calls": getattr(judge, "calls", None)}
    for attr in ("threshold", "unparsed", "usage", "rejected_by"):
        if hasattr(judge, attr):
            info[attr] = getattr(judge, attr)
    return info
