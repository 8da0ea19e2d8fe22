"""Overview questions: a summary, the main points, a relationship, "what happened". They get 3-5 points from
different parts of the evidence (prompts/answer_overview.md), each checked like any other claim, instead of
the one-sentence direct answer that suits "who", "when" and yes/no questions."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .citations import content_stems
from ..types import EvidenceSentence

_OVERVIEW = re.compile(
    r"\b(summar(y|ise|ize|ising|izing)|overview|main points|key points|the gist|highlights|brief me|"
    r"what happened|what is happening|what's happening|what's going on|what is going on|the latest on|"
    r"relationship between|relations between|tell me about|what do the briefings say about|"
    r"in (two|three|four|five|\d) points)\b", re.I)


def is_overview(question: str) -> bool:
    """True for questions that ask for several points rather than one fact."""
    return bool(_OVERVIEW.search(question))


MIN_POINTS = 3  # an overview shows at least this many points when the evidence has that many parts
MAX_POINTS = 5  # and at most this many (issue 26: 3-5 points); the model sometimes writes six or more
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ASKED = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:main\s+|key\s+|short\s+)?"
                    r"(?:points?|bullets?|bullet points|sentences|takeaways|things)\b", re.I)


def max_points(question: str) -> int:
    """How many points an overview may show: the number the question asks for ("in three points"), within
    1..MAX_POINTS, else MAX_POINTS."""
    m = _ASKED.search(question)
    if m is None:
        return MAX_POINTS
    word = m.group(1).lower()
    n = int(word) if word.isdigit() else _NUMBERS[word]
    return max(1, min(n, MAX_POINTS))


# Words that ask for an overview rather than name its topic ("Summarize this briefing in three points").
_FRAME = re.compile(r"\b(summar\w*|overview|main|key|points?|gist|highlights|brief|briefings?|happen\w*|going|"
                    r"latest|between|tell|say|says|three|four|five|two|article|news|today|"
                    r"week|this|these|me|us)\b", re.I)


def top_up(question: str, evidence: Sequence[EvidenceSentence], covered: Iterable[int], shown: int) -> list[int]:
    """Keys of evidence sentences to quote so that an overview has MIN_POINTS points from different parts.

    The evidence is grouped by article and section; each group no shown point cites gives one sentence: for a
    question with a topic ("the relationship between Russia and China"), its sentence sharing most of the topic's
    words (none shared, none taken), then, if still short, more of the topic's sentences from any part; for
    "summarize this briefing", the group's first sentence, which in news says what the section is about. Groups
    come in the evidence's order (the retriever's, or the article's)."""
    target = min(MIN_POINTS, max_points(question))
    if shown >= target:
        return []
    topic = content_stems(_FRAME.sub(" ", question))
    by_key = {e.key: e for e in evidence}
    covered_parts = {(by_key[k].article_id, by_key[k].section) for k in covered if k in by_key}
    groups: dict[tuple[str, str], list[EvidenceSentence]] = {}
    for e in evidence:
        groups.setdefault((e.article_id, e.section), []).append(e)
    picks: list[int] = []
    for part, sentences in groups.items():
        if part in covered_parts:
            continue
        if topic:
            best = max((_shared(topic, e.text), -i, e.key) for i, e in enumerate(sentences))
            if best[0] < min(2, len(topic)):  # "Russia and China": a sentence about both
                continue
            picks.append(best[2])
        else:
            picks.append(min(sentences, key=lambda e: e.start).key)
        if shown + len(picks) >= target:
            return picks
    if topic:
        # Still short, and the topic is all in one part ("Russia and China reaffirm ties"): more of its sentences
        # about the topic, most topic words first ("friends forever", "weaker partner in the relationship").
        taken = set(picks) | set(covered)
        more = sorted((-_shared(topic, e.text), i, e.key) for i, e in enumerate(evidence) if e.key not in taken)
        picks += [key for n, _, key in more if -n >= min(2, len(topic))][:target - shown - len(picks)]
    return picks


def _shared(topic: set[str], text: str) -> int:
    """How many topic words the text has, a word counting for its derivations ("Russia" in "Russian")."""
    stems = content_stems(text)
    return sum(1 for t in topic if any(s.startswith(t) or (len(s) >= 4 and t.startswith(s)) for s in stems))
