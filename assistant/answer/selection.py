"""The model choosing evidence keys, and llama.cpp grammars that keep its citation markers to keys that exist
(the "select" answer style and constrained drafts of answer/pipeline.py)."""

from __future__ import annotations

import re
from typing import Any, Sequence

from .prompting import load_prompt
from ..types import REFUSAL, EvidenceSentence


def select_keys(llm: Any, block: str, question: str, evidence: Sequence[EvidenceSentence],
                most: int) -> tuple[list[int], dict[str, int]]:
    """The evidence keys the model says answer the question, best first (at most `most`; [] = none).

    With a llama.cpp endpoint the reply is constrained by a grammar to "0" or valid keys, so it
    cannot name a sentence that does not exist; elsewhere the reply is parsed and filtered.
    """
    known = [e.key for e in evidence]
    messages = load_prompt("select_evidence").render(evidence=block, question=question, most=most, refusal=REFUSAL)
    opts: dict[str, Any] = {"max_tokens": 6 * most + 2, "temperature": 0.0}
    if getattr(llm, "constrain", "none") == "grammar":
        opts["grammar"] = keys_grammar(known, most)
    out = llm.complete(messages, **opts)
    keys = [int(x) for x in re.findall(r"\d+", out.text)]
    return [k for k in dict.fromkeys(keys) if k in known][:most], dict(out.usage or {})


def marker_grammar(keys: Sequence[int]) -> str:
    """A GBNF grammar for free answer text in which every [n] marker names a key that exists."""
    return f'root ::= (text | marker)+\ntext ::= [^\\[\\]]\nmarker ::= "[" key "]"\nkey ::= {_key_rule(keys)}'


def _key_rule(keys: Sequence[int]) -> str:
    # Longest first, so "10" is tried before "1".
    return " | ".join(f'"{k}"' for k in sorted(keys, key=lambda k: -len(str(k))))


def keys_grammar(keys: Sequence[int], most: int) -> str:
    """A GBNF grammar for "0" or 1..`most` bracketed keys separated by commas ("[2], [5]").

    The brackets matter: with bare digits, a model that means "1" can be led on to "10" by the grammar.
    """
    tail = ""
    for _ in range(max(0, most - 1)):
        tail = f'(", " key {tail})?'
    return f'root ::= "0" | key {tail}\nkey ::= "[" ({_key_rule(keys)}) "]"'
