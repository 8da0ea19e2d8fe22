"""Overview questions: a summary, the main points, a relationship, "what happened". They get 3-5 points from
different parts of the evidence (prompts/answer_overview.md), each checked like any other claim, instead of
the one-sentence direct answer that suits "who", "when" and yes/no questions."""

from __future__ import annotations

import re

_OVERVIEW = re.compile(
    r"\b(summar(y|ise|ize|ising|izing)|overview|main points|key points|the gist|highlights|brief me|"
    r"what happened|what is happening|what's happening|what's going on|what is going on|the latest on|"
    r"relationship between|relations between|tell me about|what do the briefings say about|"
    r"in (two|three|four|five|\d) points)\b", re.I)


def is_overview(question: str) -> bool:
    """True for questions that ask for several points rather than one fact."""
    return bool(_OVERVIEW.search(question))

