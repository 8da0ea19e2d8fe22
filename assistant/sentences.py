"""Sentence boundaries with character offsets, shared by chunking, evidence selection and citations."""

from __future__ import annotations

import re

# A boundary is whitespace after terminal punctuation (optionally closed by a quote or bracket)
# and before something that starts a sentence. Initials ("U.S.") and common honorifics are not
# boundaries. Python lookbehinds must be fixed-width, hence the alternatives.
SENTENCE_BOUNDARY = (
    r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"\u201d\u2019')\]]))"
    r"(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bvs\.)(?<!\bNo\.)"
    r"\s+(?=[\"\u201c\u2018'(\[]?[A-Z0-9\u00c0-\u024f])"
)
_BOUNDARY = re.compile(SENTENCE_BOUNDARY + r"|\s*\n\s*")
_WORD = re.compile(r"\w+", re.UNICODE)


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of `text`, shifted by `offset`, whitespace trimmed.

    Line breaks always end a sentence, so headlines stay on their own.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        _add(text, pos, m.start(), offset, spans)
        pos = m.end()
    _add(text, pos, len(text), offset, spans)
    return spans


def _add(text: str, a: int, b: int, offset: int, out: list[tuple[int, int]]) -> None:
    piece = text[a:b]
    stripped = piece.strip()
    if not stripped or not _WORD.search(stripped):
        return
    lead = len(piece) - len(piece.lstrip())
    out.append((offset + a + lead, offset + a + lead + len(stripped)))


def words(text: str) -> list[str]:
    """Lower-cased word tokens, for lexical overlap."""
    return [w.lower() for w in _WORD.findall(text)]
