"""`briefing log`: past questions and answers of the CLI and the chat page, the marks users put on
answers, and `--export-eval FILE` to turn those marks into eval rows (eval_export.py)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import load_settings
from .conversations import Conversations, Flag, Turn


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `briefing log`."""
    parser.add_argument("--limit", type=int, default=20, help="show the last N questions (default 20)")
    parser.add_argument("--json", action="store_true", help="print the turns (with their marks) as JSON")
    parser.add_argument("--export-eval", metavar="FILE",
                        help="write the answers marked wrong on the chat page as eval rows (JSONL) for `briefing eval`")


def run(args: argparse.Namespace) -> int:
    """Print the log, or export the marked answers. Exit 0, or 1 (AssistantError) when nothing is marked."""
    with Conversations(load_settings(data_dir=args.data_dir).data_dir) as convs:
        if args.export_eval:
            from .eval_export import export_eval  # here: the eval loader is not needed to list the log

            done = export_eval(convs, args.export_eval)
            print(f"wrote {done.rows} eval row(s) from {done.flags} mark(s) to {done.path}; "
                  f"run them with `briefing eval {done.path} --corpus YOUR_BRIEFINGS`")
            return 0
        turns = convs.recent(args.limit)
        marks: dict[int, list[Flag]] = {}
        for flag in convs.flags():
            marks.setdefault(flag.turn.id, []).append(flag)
    if args.json:
        out = [{**t.to_dict(), "marked_wrong": [_mark(f) for f in marks.get(t.id, [])]} for t in turns]
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for t in turns:
        print(_text(t, marks.get(t.id, [])))
    return 0


def _mark(flag: Flag) -> dict[str, Any]:
    return {"at": flag.at, "kind": flag.kind, "reason": flag.reason, "wrong_sentences": list(flag.wrong)}


def _text(turn: Turn, marks: list[Flag]) -> str:
    where = " (chat page)" if turn.source == "page" else ""
    lines = [f"#{turn.conversation} {turn.at}{where}", f"Q: {turn.question}", f"A: {turn.answer}"]
    lines += [f"Marked wrong ({m.kind}) {m.at}: {m.reason}" for m in marks]
    return "\n".join(lines) + "\n"
