"""Conversations kept in the data dir (SQLite, standard library): `briefing ask -c` continues the last
one, `briefing log` lists past questions and answers.

Each `briefing ask` adds a turn: to a new conversation, or with `-c` to the latest one, whose earlier
turns become the question's history. The answer is stored whole (Answer.to_dict JSON), so `log --json`
gives the citations too.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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
"""


@dataclass(frozen=True)
class Turn:
    """One question and its answer, as logged."""

    conversation: int
    at: str
    question: str
    answer: str
    answerable: bool
    answer_json: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the full answer (citations included) under "answer_full"."""
        return {"conversation": self.conversation, "at": self.at, "question": self.question,
                "answer": self.answer, "answerable": self.answerable,
                "answer_full": json.loads(self.answer_json) if self.answer_json else None}


class Conversations:
    """The conversation log of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the conversation log {self.path}: {exc}") from None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> "Conversations":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def latest(self) -> int | None:
        """The id of the most recent conversation, or None."""
        row = self._db.execute("SELECT max(id) FROM conversations").fetchone()
        return row[0] if row and row[0] is not None else None

    def start(self) -> int:
        """A new, empty conversation; returns its id."""
        with self._db:
            cur = self._db.execute("INSERT INTO conversations(started) VALUES (?)", (_now(),))
        return int(cur.lastrowid)

    def turns(self, conversation: int) -> list[Turn]:
        """The turns of one conversation, oldest first."""
        rows = self._db.execute("SELECT conversation, at, question, answer, answerable, answer_json FROM turns "
                                "WHERE conversation = ? ORDER BY id", (conversation,)).fetchall()
        return [Turn(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    def history(self, conversation: int) -> list[dict[str, str]]:
        """The conversation as ask history: user and assistant messages in order."""
        out: list[dict[str, str]] = []
        for t in self.turns(conversation):
            out += [{"role": "user", "content": t.question}, {"role": "assistant", "content": t.answer}]
        return out

    def add(self, conversation: int, answer: Answer) -> None:
        """Log one answered question."""
        with self._db:
            self._db.execute("INSERT INTO turns(conversation, at, question, answer, answerable, answer_json) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation, _now(), answer.question, answer.text, int(answer.answerable),
                              json.dumps(answer.to_dict(), ensure_ascii=False)))

    def recent(self, limit: int = 20) -> list[Turn]:
        """The last `limit` turns over all conversations, oldest first."""
        rows = self._db.execute("SELECT conversation, at, question, answer, answerable, answer_json FROM turns "
                                "ORDER BY id DESC LIMIT ?", (max(1, limit),)).fetchall()
        return [Turn(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in reversed(rows)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
