"""The short answer: when nothing the model wrote survives the checks, ask it for the answer's words alone.

The 1.5B model refuses, or writes a claim the checks reject, for questions its evidence answers: "Buffalo Bills
player Damar Hamlin remains hospitalized ..." was evidence [1] for "He is a valued member of which team?" and the
draft was "The briefings don't say." Asked instead for the short answer copied from one evidence sentence
("Buffalo Bills [1]"), it names it. A short answer is easy to verify without trusting the model: its words must
stand verbatim in an evidence sentence, all of them, and that sentence must pass the same "does it answer the
question" check as any quote. What is shown is the briefing's words twice: the span, then the sentence it is in.

The request repeats the draft's messages up to and including the question and changes only the instruction after
it, so a llama.cpp server that still holds the draft's prompt reads a few dozen new tokens, not the evidence again.
"""

from __future__ import annotations

from typing import Sequence

from .citations import content_stems, is_pure_refusal, split_answer
from .injection import clean_answer
from .prompting import load_prompt
from .span import MAX_SPAN_WORDS, TOKEN, Span, asks_for_a_name, plain, trim
from .verify import restates_question
from ..types import EvidenceSentence

SHORT_MAX_TOKENS = 32  # a name, number or date and its marker; a longer reply is a sentence, which the draft was


def short_messages(draft: Sequence[dict[str, str]], question: str) -> list[dict[str, str]] | None:
    """The draft's messages with the instruction after the question replaced by prompts/short_answer.md's; None
    when the question does not ask for a name, number, date or place, or the draft's prompt has no question line
    written as that template writes it."""
    if not draft or not asks_for_a_name(question):
        return None
    user = draft[-1]["content"]
    # The template's first line is the question as the answer prompts write it: the new instruction goes there.
    tail = load_prompt("short_answer").render(question=question)[-1]["content"]
    at = user.rfind(tail.splitlines()[0])
    if at < 0:
        return None
    return [dict(m) for m in draft[:-1]] + [{"role": "user", "content": user[:at] + tail}]


def short_span(raw: str, question: str, evidence: Sequence[EvidenceSentence]) -> tuple[Span, int] | None:
    """The reply's answer words as a span of evidence sentences, and the key to quote with it: the one the reply
    cites when that sentence holds the words, else the first that does. None for "none", a refusal, a reply that
    only restates the question or is longer than a name, or words no evidence sentence holds in full."""
    parts = split_answer(clean_answer(raw))
    if not parts:
        return None
    text, cited = parts[0]
    if text.strip(" .").lower() in {"none", "n/a", "unknown"} or is_pure_refusal(text):
        return None
    # The reply is the answer whole: a part of it that a sentence holds ("Cincinnati" of "Cincinnati Bengals") is not,
    # nor is the reply when it is a part of a longer name in the sentence.
    words = trim(TOKEN.findall(text))
    if not words or len(words) > MAX_SPAN_WORDS or restates_question(text, question) \
            or not content_stems(" ".join(words)) - content_stems(question):
        return None
    keys = tuple(e.key for e in evidence if _holds_whole(e.text, words))
    if not keys:
        return None
    return Span(" ".join(words), keys), next((k for k in cited if k in keys), keys[0])


def _holds_whole(sentence: str, words: Sequence[str]) -> bool:
    """Does `sentence` hold `words` in a row, and not as a piece of a longer name? "Reedy Creek" in "the Reedy Creek
    Improvement Act" names no bill: a capitalised word right next to the words (no punctuation between) continues
    the name they are part of; before them, only a content word counts ("The" may open a sentence)."""
    found = list(TOKEN.finditer(sentence))
    lower = [plain(m.group()) for m in found]
    want = [plain(w) for w in words]
    n = len(want)

    def joined(a: int, b: int) -> bool:  # tokens a and b with only spaces between them
        return 0 <= a and b < len(found) and not sentence[found[a].end():found[b].start()].strip()

    for i in range(len(found) - n + 1):
        if lower[i:i + n] != want:
            continue
        after = found[i + n].group() if joined(i + n - 1, i + n) else ""
        before = found[i - 1].group() if joined(i - 1, i) else ""
        if not (after[:1].isupper() or (before[:1].isupper() and content_stems(before) and found[i].group()[:1].isupper())):
            return True
    return False
