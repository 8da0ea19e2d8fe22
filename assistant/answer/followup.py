"""Follow-up questions: made standalone against the conversation before retrieval, when they need it.

A question that names what it asks about ("What did China's foreign minister say about Russia?") is
answered as asked: rewriting it costs a model call (~3 s of prompt reading on 2 cores, and the answer's
prompt must then be read again after it) and a small model's rewrite can drag the previous topic into it.
Only a question that refers back ("Has either government confirmed it?", "And China?", "Why?") is
rewritten.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .citations import content_stems, is_refusal
from ..errors import LLMError
from ..models.llm import ChatModel
from .prompting import load_prompt
from ..types import REFUSAL, Answer

# Words that point into the conversation: pronouns and determiners without a noun of their own,
# and words that only make sense against something said before.
_BACK = frozenset(
    "he him his she her hers it its they them their theirs this that these those there then such same "
    "other others former latter else too also again either neither both another".split())
# Openers of an elliptic follow-up: "And China?", "What about Putin?" ("Also…", "What else…" have a _BACK word).
_OPENER = re.compile(r"^\s*(?:and|but|or|so|what about|how about|why not)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
# A name or a number: what makes a question say what it is about.
_NAMED = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'\u2019-]+|\d")


def refers_back(question: str) -> bool:
    """Whether a question needs the conversation to be understood: it refers back (a pronoun such as
    "it"/"they"/"that", "either", "too"), opens elliptically ("And China?", "What about…"), or does not
    say what it is about (no name or number, or fewer than three content words: "Why?", "When is the
    meeting?"). Errs towards True: an unneeded rewrite costs time, a missed one a wrong answer."""
    if any(w.casefold() in _BACK for w in _WORD.findall(question)) or _OPENER.search(question):
        return True
    return not _NAMED.search(question.strip()) or len(content_stems(question)) < 3


LOST_CONTEXT = ("The follow-up could not be resolved against the conversation ({why}), so it was answered "
                "as asked, on its own.")


def rewrite_question(llm: ChatModel, question: str, history: Sequence[Any], evidence: str | None = None
                     ) -> tuple[str, dict[str, int], str]:
    """A standalone version of a follow-up question, its token usage, and a note for the user when
    the rewrite failed (the original question is then answered on its own, and the user is told).
    A question that does not refer back is returned as it is, without a model call.

    `evidence`: the evidence block the answer will read (whole articles), put in front of the request as the
    answer prompt has it, so that the model server reuses the prefix it has read for both requests."""
    turns = _history_lines(history)
    if not turns or not refers_back(question):
        return question, {}, ""
    # The last three exchanges, each answer cut to its opening: what a follow-up refers to is in the lead, and every
    # token here is read anew for each follow-up (~100 a second on 2 cores).
    recent = "\n".join(_shortened(t) for t in turns[-6:])
    if evidence is not None:
        messages = load_prompt("rewrite_question_in_context").render(
            evidence=evidence, history=recent, question=question, refusal=REFUSAL)
    else:
        messages = load_prompt("rewrite_question").render(history=recent, question=question)
    try:
        out = llm.complete(messages, max_tokens=60)
    except LLMError as exc:
        return question, {}, LOST_CONTEXT.format(why=f"the model failed: {exc.one_line()}")
    line = next((ln.strip() for ln in out.text.strip().splitlines() if ln.strip()), "")
    line = line.removeprefix("Standalone question:").strip().strip('"')
    if not line or len(line) > 4 * len(question) + 200:
        return question, out.usage, LOST_CONTEXT.format(why="the model's rewrite was empty or rambled")
    return line, out.usage, ""


MAX_ANSWER_CHARS = 300  # of an earlier answer, in the rewrite request


def _shortened(line: str) -> str:
    """An "Assistant: ..." line cut after the sentence that passes MAX_ANSWER_CHARS (user lines whole)."""
    if not line.startswith("Assistant: ") or len(line) <= MAX_ANSWER_CHARS:
        return line
    end = re.search(r"[.!?][\"\u201d\u2019]?(?:\s*\[\d+\])*\s", line[MAX_ANSWER_CHARS:])
    return line[:MAX_ANSWER_CHARS + end.end()].rstrip() + " \u2026" if end else line


def last_question(history: Sequence[Any]) -> str:
    """The last question the user asked in `history` ("" when there is none)."""
    asked = [ln.removeprefix("User: ") for ln in _history_lines(history) if ln.startswith("User: ")]
    return asked[-1] if asked else ""


def _history_lines(history: Sequence[Any]) -> list[str]:
    lines: list[str] = []
    for turn in history:
        if isinstance(turn, dict):
            role, content = turn.get("role", "user"), turn.get("content", "")
            if isinstance(content, Answer):
                content = content.text
            lines.append(f"{'User' if role == 'user' else 'Assistant'}: {str(content).strip()}")
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            q, ans = turn
            lines.append(f"User: {str(q).strip()}")
            if ans:
                lines.append(f"Assistant: {ans.text if isinstance(ans, Answer) else str(ans).strip()}")
        elif isinstance(turn, str):
            lines.append(f"User: {turn.strip()}")
    # Refusals carry no context worth resolving against.
    return [ln for ln in lines if not is_refusal(ln.split(": ", 1)[-1])]
