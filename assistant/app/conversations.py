"""Conversations kept in the data dir (SQLite, standard library): `briefing ask -c` continues the last
one, `briefing log` lists past questions and answers, the chat page's included.

Each `briefing ask` adds a turn: to a new conversation, or with `-c` to the latest one of the CLI, whose
earlier turns become the question's history. The chat page logs its answers the same way, in
conversations marked `page` (feedback.py). The answer is stored whole (Answer.to_dict JSON), so
`log --json` gives the citations too. A turn a user marks wrong on the page gets a flag (kind, reason,
the sentences named wrong), which `briefing log --export-eval` turns into eval rows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..errors import StoreError
from ..types import Answer

FILE = "conversations.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation INTEGER NOT NULL REFERENCES conversations(id),
  at TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL,
  answer_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation, id);
CREATE TABLE IF NOT EXISTS flags (
  id INTEGER PRIMARY KEY AUTOINCREMENT, turn INTEGER NOT NULL REFERENCES turns(id), at TEXT NOT NULL,
  kind TEXT NOT NULL, reason TEXT NOT NULL, wrong_json TEXT NOT NULL);
"""
SOURCES = ("cli", "page")  # where a conversation was held
_TURN_COLUMNS = ("t.id, t.conversation, t.at, t.question, t.answer, t.answerable, t.answer_json, c.source "
                 "FROM turns t JOIN conversations c ON c.id = t.conversation")


@dataclass(frozen=True)
class Turn:
    """One question and its answer, as logged."""

    conversation: int
    at: str
    question: str
    answer: str
    answerable: bool
    answer_json: str = ""
    id: int = 0
    source: str = "cli"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the full answer (citations included) under "answer_full"."""
        return {"conversation": self.conversation, "turn": self.id, "source": self.source, "at": self.at,
                "question": self.question, "answer": self.answer, "answerable": self.answerable,
                "answer_full": json.loads(self.answer_json) if self.answer_json else None}


@dataclass(frozen=True)
class Flag:
    """A logged answer a user marked wrong: what kind of wrong (feedback.KINDS), their reason, and the
    sentences of the answer they named wrong."""

    id: int
    at: str
    kind: str
    reason: str
    wrong: tuple[str, ...]
    turn: Turn

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the flagged turn."""
        return {"flag": self.id, "at": self.at, "kind": self.kind, "reason": self.reason,
                "wrong_sentences": list(self.wrong), "turn": self.turn.to_dict()}


class Conversations:
    """The conversation log of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(conversations)")}
            if "source" not in columns:  # a log written before the page kept conversations: all from the CLI
                _add_source_column(self._db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the conversation log {self.path}: {exc}") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> "Conversations":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self, source: str = "cli") -> int | None:
        """The id of the most recent conversation held in `source`, or None. `ask -c` continues the CLI's
        own conversation, never one a page user happens to be having at the time."""
        row = self._db.execute("SELECT max(id) FROM conversations WHERE source = ?", (source,)).fetchone()
        return row[0] if row and row[0] is not None else None

    def start(self, source: str = "cli") -> int:
        """A new, empty conversation held in `source` ("cli" or "page"); returns its id."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        with self._db:
            cur = self._db.execute("INSERT INTO conversations(started, source) VALUES (?, ?)", (_now(), source))
        return int(cur.lastrowid)

    def turns(self, conversation: int) -> list[Turn]:
        """The turns of one conversation, oldest first."""
        rows = self._db.execute(f"SELECT {_TURN_COLUMNS} WHERE t.conversation = ? ORDER BY t.id",
                                (conversation,)).fetchall()
        return [_turn(r) for r in rows]

    def turn(self, turn_id: int) -> Turn | None:
        """One logged turn by id, or None."""
        row = self._db.execute(f"SELECT {_TURN_COLUMNS} WHERE t.id = ?", (turn_id,)).fetchone()
        return _turn(row) if row else None

    def history(self, conversation: int) -> list[dict[str, str]]:
        """The conversation as ask history: user and assistant messages in order."""
        out: list[dict[str, str]] = []
        for t in self.turns(conversation):
            out += [{"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer}]
        return out

    def add(self, conversation: int, answer: Answer) -> int:
        """Log one answered question; returns the turn's id."""
        with self._db:
            cur = self._db.execute("INSERT INTO turns(conversation, at, question, answer, answerable, answer_json) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation, _now(), answer.question, answer.text, int(answer.answerable),
                              json.dumps(answer.to_dict(), ensure_ascii=False)))
        return int(cur.lastrowid)

    def recent(self, limit: int = 20) -> list[Turn]:
        """The last `limit` turns over all conversations, oldest first."""
        rows = self._db.execute(f"SELECT {_TURN_COLUMNS} ORDER BY t.id DESC LIMIT ?", (max(1, limit),)).fetchall()
        return [_turn(r) for r in reversed(rows)]

    def flag(self, turn_id: int, kind: str, reason: str, wrong: tuple[str, ...] = ()) -> int:
        """Mark a logged turn wrong; returns the flag's id. A turn may be flagged again (the latest flag
        is the user's last word; export takes it)."""
        if self.turn(turn_id) is None:
            raise StoreError(f"no logged answer {turn_id} to mark wrong in {self.path}")
        with self._db:
            cur = self._db.execute("INSERT INTO flags(turn, at, kind, reason, wrong_json) VALUES (?, ?, ?, ?, ?)",
                                   (turn_id, _now(), kind, reason, json.dumps(list(wrong), ensure_ascii=False)))
        return int(cur.lastrowid)

    def flags(self) -> list[Flag]:
        """Every flag, oldest first, each with its turn."""
        rows = self._db.execute("SELECT id, turn, at, kind, reason, wrong_json FROM flags ORDER BY id").fetchall()
        out: list[Flag] = []
        for fid, turn_id, at, kind, reason, wrong in rows:
            turn = self.turn(turn_id)
            if turn is not None:
                out.append(Flag(fid, at, kind, reason, tuple(json.loads(wrong)), turn))
        return out


def _add_source_column(db: sqlite3.Connection) -> None:
    try:
        with db:
            db.execute("ALTER TABLE conversations ADD COLUMN source TEXT NOT NULL DEFAULT 'cli'")
    except sqlite3.OperationalError as exc:
        # Another process opening the same old log at the same moment added it first.
        if "duplicate column" not in str(exc):
            raise


def _turn(row: Sequence[Any]) -> Turn:
    return Turn(conversation=row[1], at=row[2], question=row[3], answer=row[4], answerable=bool(row[5]),
                answer_json=row[6], id=row[0], source=row[7])


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
