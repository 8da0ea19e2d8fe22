"""Eval datasets: one JSON object per line, validated at the trust boundary with pydantic.

A line holds `id`, `question`, `answerable`, and optionally `answer` (the reference, also accepted
as `reference`), `evidence` (verbatim quotes of the source), `gold_article_ids` (article ids, file
names or titles), `must_mention` (regexes the answer must all match), `must_not_mention` (regexes
none of which may match: a wrong claim a user flagged), `history` (earlier turns for a follow-up),
`as_of` (answer as of this date; `question_date` is the same), `choices` with `answer_index` (a quiz
row), `type` (question type, for breakdowns) and `note` (free text for people). Unknown fields are ignored,
so a CLAPnq line (with `all_answers`, `provenance` ...) loads as it is. See docs/evals.md.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..dates import parse_date
from ..errors import AssistantError
from ..types import Article


class DatasetError(AssistantError):
    """An eval dataset, corpus or thresholds file cannot be used."""

    hint = "see docs/evals.md for the dataset format"


class Turn(BaseModel):
    """One earlier turn of a conversation, for follow-up questions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str


class EvalItem(BaseModel):
    """One question of an eval dataset."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answerable: bool
    answer: str | None = Field(default=None, validation_alias=AliasChoices("answer", "reference"))
    evidence: tuple[str, ...] = ()
    gold_article_ids: tuple[str, ...] = ()
    must_mention: tuple[str, ...] = ()
    must_not_mention: tuple[str, ...] = ()
    history: tuple[Turn, ...] = ()
    as_of: str | None = Field(default=None, validation_alias=AliasChoices("as_of", "question_date"))
    choices: tuple[str, ...] = ()
    answer_index: int | None = Field(default=None, ge=0)
    qtype: str = Field(default="", validation_alias=AliasChoices("type", "question_type", "qtype"))
    note: str = ""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("must_mention", "must_not_mention")
    @classmethod
    def _regexes_compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regex: {exc}") from exc
        return v

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of_is_date(cls, v: Any) -> str | None:
        if v in (None, ""):
            return None
        when = parse_date(str(v))
        if when is None:
            raise ValueError(f"as_of {v!r} is not a date (use YYYY-MM-DD)")
        # A question_date may carry a time or another format; as_of filters by the day.
        return str(v) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(v)) else when.date().isoformat()

    @model_validator(mode="after")
    def _choice_in_range(self) -> "EvalItem":
        if self.answer_index is not None and self.answer_index >= len(self.choices):
            raise ValueError(f"answer_index {self.answer_index} is not an index of choices ({len(self.choices)})")
        return self

    @property
    def reference(self) -> str | None:
        """The reference answer, None when absent or when it is only a placeholder for 'no answer'."""
        if not self.answerable:
            return None
        if self.answer:
            return self.answer
        if self.answer_index is not None:
            return self.choices[self.answer_index]
        return None

    def history_turns(self) -> list[dict[str, str]]:
        """History in the shape Assistant.ask takes."""
        return [{"role": t.role, "content": t.content} for t in self.history]


def load_dataset(path: str | Path) -> list[EvalItem]:
    """Every item of a JSONL dataset; DatasetError names the line at fault."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"no dataset file at {p}")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            item = EvalItem.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{p}:{lineno}: malformed JSON ({exc.msg})") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "line"
            raise DatasetError(f"{p}:{lineno}: {where}: {first['msg']}") from exc
        if item.id in seen:
            raise DatasetError(f"{p}:{lineno}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{p} holds no questions")
    return items


def file_hash(path: str | Path) -> str:
    """First 16 hex digits of the sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def corpus_hash(articles: Sequence[Article]) -> str:
    """First 16 hex digits of a sha256 over the sorted (id, content hash) pairs of a library."""
    blob = "\n".join(sorted(f"{a.id}\t{a.content_hash}" for a in articles))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def select(items: Sequence[EvalItem], limit: int | None = None, stratified: bool = False,
           seed: int = 0) -> list[EvalItem]:
    """The items to run, in file order.

    Without `stratified`: the first `limit` items. With it: a seeded random sample with answerable
    and unanswerable items as equal as the data allows (half of `limit` each, the rest from the
    larger group). The same seed always picks the same items.
    """
    items = list(items)
    if limit is None or limit >= len(items):
        return items
    if limit <= 0:
        return []
    if not stratified:
        return items[:limit]
    rng = random.Random(seed)
    pos = [i for i, it in enumerate(items) if it.answerable]
    neg = [i for i, it in enumerate(items) if not it.answerable]
    n_pos = min(len(pos), max(limit - len(neg), limit // 2 + limit % 2))
    n_neg = min(len(neg), limit - n_pos)
    chosen = set(rng.sample(pos, n_pos)) | set(rng.sample(neg, n_neg))
    return [items[i] for i in sorted(chosen)]


def resolve_gold(gold: Sequence[str], articles: Sequence[Article]) -> tuple[set[str], list[str]]:
    """Gold references resolved to article ids, and the references that matched nothing.

    A reference may be an article id, a file name with or without its suffix (matched against the
    article's origin), or a title (case-insensitive). A title or file shared by several articles
    resolves to all of them.
    """
    by_id = {a.id for a in articles}
    resolved: set[str] = set()
    unresolved: list[str] = []
    for ref in gold:
        ref = ref.strip()
        if ref in by_id:
            resolved.add(ref)
            continue
        key = ref.casefold()
        hits = {a.id for a in articles if key in _origin_names(a.origin) or a.title.strip().casefold() == key}
        if hits:
            resolved |= hits
        else:
            unresolved.append(ref)
    return resolved, unresolved


def _origin_names(origin: str) -> set[str]:
    if not origin or origin.startswith(("http://", "https://")):
        return set()
    path = re.sub(r"(:\d+|#\d+)$", "", origin)  # JSONL line / JSON item suffixes
    p = Path(path)
    return {p.name.casefold(), p.stem.casefold()}
