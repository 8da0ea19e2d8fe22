"""A minimal stand-in for `assistant.answer.entailment.Checker`, for eval-harness unit tests only.

It keeps the promised interface (`Checker(llm=None).check(claim, evidence) -> Verdict`) and a crude
rule: supported when every content word of the claim (4+ letters, or a number) is in the evidence
and a "not"/"no"/"never" in one is in the other. Never used by the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

_NEG = re.compile(r"\b(not|no|never|n't)\b", re.I)


@dataclass(frozen=True)
class Verdict:
    supported: bool
    layer: str = ""
    reason: str = ""


class StandInChecker:
    name = "stand-in"

    def __init__(self, llm=None, **_: object) -> None:
        self.llm = llm
        self.calls = 0

    def check(self, claim: str, evidence: Sequence[str], **_: object) -> Verdict:
        self.calls += 1
        ev = " ".join(evidence).lower()
        if not evidence or not claim.strip():
            return Verdict(False, "empty", "nothing cited")
        words = re.findall(r"[a-z]{4,}|\d+", claim.lower())
        missing = [w for w in words if w not in ev]
        if missing:
            return Verdict(False, "words", f"not in the evidence: {', '.join(missing[:3])}")
        if bool(_NEG.search(claim)) != bool(_NEG.search(ev)):
            return Verdict(False, "polarity", "negation differs")
        return Verdict(True)
