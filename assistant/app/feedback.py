"""The chat page's side of the conversation log: each answer the page shows is logged like the CLI's
(conversations.py, marked `page`), and a user can mark an answer wrong, with a reason.

Plain Python over the page's turns (handlers.Turn dicts); ui.py wires it to the chat's flag control
and the small form under the chat. `briefing log --export-eval` (eval_export.py) turns the marks into
eval rows, so what users flag becomes a regression case.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..answer.citations import split_answer
from ..errors import AssistantError
from ..types import REFUSAL, Answer
from .conversations import Conversations

log = logging.getLogger(__name__)

FLAG_OPTION = "Wrong answer"  # the chat's feedback option (shown under the flag icon of each answer)
# What a user can say is wrong, in the order the form offers them; eval_export.py maps each to a row.
KINDS: dict[str, str] = {
    "wrong": "It states something wrong, or not what its sources say",
    "should_refuse": "The briefings don't say this: it should have said so",
    "should_answer": "It said the briefings don't say, but they do",
}
MAX_REASON = 2000  # characters kept of a reason: a note, not a document


class FeedbackError(AssistantError):
    """An answer cannot be marked wrong as asked (the form says why)."""

    hint = "fill in the form under the chat and save again"


@dataclass(frozen=True)
class FlagForm:
    """What the form shows for the answer being marked: its logged turn's id (not its place on the
    page, which a new conversation reuses), the question, the answer's sentences (to tick the wrong
    ones), and the kind of wrong to preselect."""

    turn_id: int
    question: str
    sentences: tuple[str, ...]
    kind: str


def log_page_answer(data_dir: str | Path, earlier: Sequence[dict[str, Any]], answer: Answer) -> dict[str, int] | None:
    """Log an answer the page showed: in the conversation of the latest logged turn of `earlier` (the
    page's turns before this one), or in a new `page` conversation. Returns {"conversation", "turn"}
    for the page's state, or None when the log cannot be written: the user still gets the answer, and
    the server log says why."""
    conversation = next((t["logged"]["conversation"] for t in reversed(earlier) if t.get("logged")), None)
    try:
        with Conversations(Path(data_dir)) as convs:
            if conversation is None:
                conversation = convs.start("page")
            return {"conversation": conversation, "turn": convs.add(conversation, answer)}
    except (AssistantError, sqlite3.Error) as exc:  # e.g. the log locked by a writer for longer than its timeout
        log.warning("the page's answer was not logged: %s", exc.one_line() if isinstance(exc, AssistantError) else exc)
        return None


def answer_sentences(text: str) -> tuple[str, ...]:
    """The sentences an answer showed, citation markers removed; the refusal sentence is not one."""
    refusal = REFUSAL.rstrip(".").casefold()
    return tuple(s for s, _ in split_answer(text or "") if s.rstrip(".").casefold() != refusal)


def flag_form(turns: Sequence[dict[str, Any]], message_index: Any) -> FlagForm:
    """The form for the answer at chat message `message_index` (the chat shows each turn as a question
    then an answer). FeedbackError when that message is not a finished, logged answer."""
    index = message_index[0] if isinstance(message_index, (list, tuple)) else message_index
    if not isinstance(index, int) or index < 0 or index // 2 >= len(turns):
        raise FeedbackError("that message is no longer in this conversation")
    turn = turns[index // 2]
    answer = turn.get("answer")
    if answer is None or not turn.get("logged"):
        raise FeedbackError("only a finished answer can be marked wrong (not a timeline, an error or one still "
                            "being checked)", hint="wait for the answer, or ask again")
    sentences = answer_sentences(answer.text)
    return FlagForm(turn["logged"]["turn"], turn["question"], sentences,
                    "wrong" if answer.answerable and sentences else "should_answer")


def save_flag(data_dir: str | Path, turns: Sequence[dict[str, Any]], turn_id: int | None, kind: str, reason: str,
              wrong: Sequence[str] | None = None) -> str:
    """Store the mark on the logged turn `turn_id` (FlagForm.turn_id), which must still be one of the
    page's `turns`: kind (a key of KINDS), the user's reason, and for "wrong" the sentences named wrong
    (the only sentence when the answer has one). Returns a confirmation; FeedbackError says what is
    missing."""
    turn = next((t for t in turns if turn_id is not None and (t.get("logged") or {}).get("turn") == turn_id), None)
    if turn is None:
        raise FeedbackError("choose an answer of this conversation to mark: the flag under it, then 'Wrong answer'")
    if kind not in KINDS:
        raise FeedbackError(f"choose what is wrong ({', '.join(KINDS)})")
    reason = re.sub(r"\s+", " ", reason or "").strip()[:MAX_REASON]
    if not reason:
        raise FeedbackError("say in a few words what is wrong: it becomes the note of the eval case")
    sentences = answer_sentences(turn["answer"].text)
    chosen = tuple(s for s in sentences if s in set(wrong or ()))
    if kind == "wrong":
        chosen = chosen or (sentences if len(sentences) == 1 else ())
        if not chosen:
            raise FeedbackError("tick the sentence or sentences that are wrong"
                                if sentences else "this answer states nothing; choose another kind of wrong")
    elif kind == "should_refuse" and not turn["answer"].answerable:
        raise FeedbackError("this answer already says the briefings don't say")
    try:
        with Conversations(Path(data_dir)) as convs:
            convs.flag(turn["logged"]["turn"], kind, reason, chosen if kind == "wrong" else ())
    except sqlite3.Error as exc:
        raise FeedbackError(f"the mark could not be saved ({exc})", hint="try Save again in a moment") from None
    return "Saved: this answer is marked wrong (`briefing log` lists it). Thank you."
