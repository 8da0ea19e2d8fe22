"""Answers users marked wrong, as eval dataset rows: `briefing log --export-eval FILE`, so what users
flag becomes a regression case for `briefing eval`.

A mark (conversations.Flag, made on the chat page: feedback.py) becomes one row, by its kind:

- "wrong": `answerable: true` and `must_not_mention` with one pattern per sentence the user named
  wrong. A pattern is the sentence's words in order, whatever punctuation or spacing lies between
  them (matched case-insensitively, citation markers removed), so the row fails if the same claim
  comes back in the same words; a reworded wrong claim passes it. That is the honest reach of a
  pattern made without a person writing it; edit the row to widen it.
- "should_refuse": `answerable: false` (the eval counts an answer as a failure).
- "should_answer": `answerable: true` (the eval counts a refusal as a failure). The reference answer
  is unknown: the user's reason is a note, not a reference; add `answer` or `must_mention` by hand.

Every row keeps the user's reason in `note`, the earlier turns of its conversation as `history`,
and, for whoever reviews it, the flagged answer and its citations (fields the loader ignores).
Only the latest mark of a turn counts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import AssistantError
from ..evaluation.dataset import load_dataset
from .conversations import Conversations, Flag, Turn
from .feedback import KINDS
from .handlers import HISTORY_KEEP

ROW_TYPE = "flagged"  # the rows' `type`, so the eval report breaks them out


@dataclass(frozen=True)
class Export:
    """What an export wrote: the file, how many rows, and how many marks they came from."""

    path: Path
    rows: int
    flags: int


def claim_pattern(sentence: str) -> str:
    """A regex for the sentence's words in order, with any non-word characters between them."""
    words = re.findall(r"\w+", sentence)
    return r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b" if words else ""


def flag_row(flag: Flag, earlier: Sequence[Turn]) -> dict[str, Any]:
    """The eval row for one mark; `earlier` are the turns of its conversation before the flagged one."""
    turn = flag.turn
    history: list[dict[str, str]] = []
    for t in earlier:
        history += [{"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer}]
    row: dict[str, Any] = {"id": f"flagged-{turn.id}", "question": turn.question,
                           "answerable": flag.kind != "should_refuse", "type": f"{ROW_TYPE}:{flag.kind}",
                           "note": f"{KINDS.get(flag.kind, flag.kind)}. The user's reason: {flag.reason}"}
    patterns = [p for p in map(claim_pattern, flag.wrong) if p]
    if flag.kind == "wrong" and patterns:
        row["must_not_mention"] = patterns
    if history:
        row["history"] = history[-HISTORY_KEEP:]
    full = json.loads(turn.answer_json) if turn.answer_json else {}
    titles = {p.get("article_id"): p.get("title", "") for p in full.get("passages", [])}
    row.update({
        "flagged_answer": turn.answer, "flagged_sentences": list(flag.wrong),
        "flagged_citations": [{"key": c.get("key"), "article_id": c.get("article_id"),
                               "title": titles.get(c.get("article_id"), ""), "quote": c.get("quote")}
                              for c in full.get("citations", [])],
        "asked_at": turn.at, "flagged_at": flag.at, "source": turn.source, "model": full.get("model", ""),
    })
    return row


def flagged_rows(convs: Conversations) -> tuple[list[dict[str, Any]], int]:
    """The rows of every flagged turn (its latest mark), in the order they were asked, and the number
    of marks read."""
    flags = convs.flags()
    latest = {f.turn.id: f for f in flags}  # oldest first, so a later mark replaces an earlier one
    rows = []
    for turn_id in sorted(latest):
        flag = latest[turn_id]
        earlier = [t for t in convs.turns(flag.turn.conversation) if t.id < turn_id]
        rows.append(flag_row(flag, earlier))
    return rows, len(flags)


def export_eval(convs: Conversations, path: str | Path) -> Export:
    """Write the flagged rows to `path` (JSONL, replacing the file) and load it back with the eval's
    own loader, so a file this writes is one `briefing eval` accepts. AssistantError when nothing is
    marked yet (no file is written)."""
    rows, flags = flagged_rows(convs)
    if not rows:
        raise AssistantError("no answers are marked wrong yet",
                             hint="mark one with the flag under an answer on the chat page, then export again")
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"cannot write {out}: {exc.strerror or exc}", hint="choose a writable path") from None
    load_dataset(out)
    return Export(out, len(rows), flags)
