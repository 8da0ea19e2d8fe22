"""Sentence boundaries with character offsets, shared by chunking, evidence selection and citations.

News copy is full of periods that do not end a sentence: titles ("Sen. Warren", "Lt. Col. Smith"),
months ("Nov. 28"), initials ("U.S.", "John F. Kennedy"), times ("9 a.m. Monday"), company and
number abbreviations ("Acme Inc.", "No. 1"). None of them is a boundary. The one hard case is a
sentence that really ends with such a word ("... talks with the U.S. The envoy said ..."): after
initials and times (never after a title) a boundary is made when the next word is one that starts
sentences but does not follow "U.S." inside a name ("The", "He", "But", ...). Measured on CLAPnq
dev and the seed briefing: see tests/test_sentences.py.
"""

from __future__ import annotations

import re

# Words followed by a period that never end a sentence in news copy. Each becomes its own
# fixed-width lookbehind (Python lookbehinds cannot vary in width).
ABBREVIATIONS = (
    # titles and ranks
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Sen", "Sens", "Rep", "Reps", "Gov", "Govs", "Gen", "Lt", "Col", "Sgt",
    "Maj", "Capt", "Cmdr", "Adm", "Cpl", "Pvt", "Rev", "Hon", "Pres", "Supt", "Det", "Insp", "Amb", "Atty",
    "Jr", "Sr", "St", "Mt", "Ft",
    # months as the AP abbreviates them
    "Jan", "Feb", "Mar", "Apr", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    # companies, numbers, places, misc.
    "Inc", "Co", "Corp", "Ltd", "Bros", "No", "Nos", "vs", "Vol", "Ave", "Blvd", "Dept", "Univ", "Assn",
    "approx", "est", "etc", "cf", "al", "Fig", "pp",
)
# After these a capitalised word starts a new sentence ("... with the U.S. The envoy ..."), while
# names carry on ("U.S. Army", "U.S. President Trump").
SENTENCE_STARTERS = (
    "The", "A", "An", "In", "It", "Its", "He", "She", "They", "We", "I", "You", "His", "Her", "Their", "Our",
    "But", "And", "Yet", "So", "Or", "This", "That", "These", "Those", "There", "Then", "Now", "On", "At",
    "For", "If", "When", "While", "As", "After", "Before", "Since", "Although", "However", "Meanwhile",
    "Some", "Many", "Most", "Such", "Both", "Neither", "No", "Not", "What", "Who", "Why", "How",
)

_CLOSERS = "\"\u201d\u2019')\\]"
_END = rf"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][{_CLOSERS}]))"
_NOT_ABBREV = "".join(rf"(?<!\b{re.escape(a)}\.)" for a in ABBREVIATIONS)
# One letter and a period: an initial ("F.", the "S." of "U.S.") or a time ("a.m.").
_NOT_INITIAL = r"(?<!\b[A-Za-z]\.)"
_NEXT = r"(?=[\"\u201c\u2018'(\[]?[A-Z0-9\u00c0-\u024f])"
# The hard case: "U.S." / "a.m." really ending a sentence, told by the next word.
_AFTER_INITIALS = (rf"(?<=\b[A-Za-z]\.)\s+(?=(?:{'|'.join(SENTENCE_STARTERS)})\b)")

# A boundary is whitespace after terminal punctuation (optionally closed by a quote or bracket) that
# is not an abbreviation or initial, before something that starts a sentence. Used as a regex
# separator by the chunker (ingest.py), so it must stay a plain pattern string.
SENTENCE_BOUNDARY = rf"{_END}{_NOT_ABBREV}{_NOT_INITIAL}\s+{_NEXT}|{_AFTER_INITIALS}"
_BOUNDARY = re.compile(rf"{SENTENCE_BOUNDARY}|\s*\n\s*")
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
