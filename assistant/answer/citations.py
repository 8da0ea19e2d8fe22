"""Citations: parse the model's [n] markers, score how well a sentence is supported by the evidence
it cites, and cite an evidence sentence verbatim at its offsets in the article body.

Every key the model may cite names one evidence sentence, whose span in the article body is known,
so a valid citation always points at an exact, verbatim sentence of a briefing. Checking an answer
with these pieces (repair what is clear, drop the rest) is verify.py's job; this module imports
nothing else of answer/, so the checks can all build on it without an import circle.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np

from ..sentences import sentence_spans, words
from ..types import REFUSAL, Citation, EvidenceSentence

# [3], [1, 2], [1][2], [1-3], [S2] and the full-width 【2】 some models emit.
MARKER = re.compile(r"[\[\u3010]\s*(?:S|s|source\s*|passage\s*)?(\d+(?:\s*(?:,|;|-|\u2013|and)\s*(?:S|s)?\d+)*)\s*[\]\u3011]")
_MARKER_AFTER_STOP = re.compile(r"([.!?])((?:\s*[\[\u3010][^\]\u3011]{1,20}[\]\u3011])+)")
_QUOTED = re.compile(r"[\"\u201c]([^\"\u201d]{12,})[\"\u201d]")
_STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that these "
    "those he she they them his her their we you i not no yes do does did has have had will would can could may might "
    "than then there here what which who whom whose when where why how about into over after before also so such very "
    "just only more most some any all each other said says say according".split()
)


def normalise(text: str) -> str:
    """Casefolded, quote- and whitespace-normalised text for sentinel comparisons."""
    t = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").casefold()
    return " ".join(t.split())


_REFUSAL_N = normalise(REFUSAL).rstrip(".")
_REFUSAL_LIKE = re.compile(r"\bbriefings? (do not|don't|does not|doesn't) (say|mention|answer|cover|contain)")


def is_refusal(sentence: str) -> bool:
    """True when a sentence is the refusal sentinel (or an obvious paraphrase of it)."""
    n = normalise(MARKER.sub("", sentence))
    return _REFUSAL_N in n or bool(_REFUSAL_LIKE.search(n))


def is_pure_refusal(sentence: str) -> bool:
    """The refusal and nothing else ("The briefings don't say."); "..., but Putin agreed" is a claim."""
    if not is_refusal(sentence):
        return False
    rest = re.sub(r"(?i)\bthe briefings?\b.*?\b(say|mention|answer|cover|contain)\b", "", MARKER.sub("", sentence))
    return not content_stems(rest)


def parse_keys(marker_body: str) -> list[int]:
    """Keys in one marker body: "1, 3" -> [1, 3]; "2-4" -> [2, 3, 4] (ranges capped at 10)."""
    keys: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", marker_body):
        part = part.strip().lstrip("Ss")
        m = re.fullmatch(r"(\d+)\s*[-\u2013]\s*[Ss]?(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a <= b <= a + 10:
                keys.extend(range(a, b + 1))
        elif part.isdigit():
            keys.append(int(part))
    return keys


def split_answer(raw: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with markers removed, each with the keys it cited (as written)."""
    # "stalling. [3]" belongs to the sentence before the marker, not the one after it.
    text = _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", raw.strip())
    out: list[tuple[str, list[int]]] = []
    for a, b in sentence_spans(text):
        piece = text[a:b]
        keys: list[int] = []
        for m in MARKER.finditer(piece):
            keys.extend(k for k in parse_keys(m.group(1)) if k not in keys)
        clean = MARKER.sub("", piece)
        clean = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", clean)).strip()
        if clean and re.search(r"\w", clean):
            out.append((clean, keys))
    return out


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_stems(text: str) -> set[str]:
    """Stemmed content words (stopwords and one-letter tokens removed)."""
    return set(stem_counts(text))


def stem_counts(text: str) -> Counter[str]:
    """How often each stemmed content word occurs ("HBO Max ... called Max" has "max" twice)."""
    toks = [w for w in words(text) if w not in _STOP and len(w) > 1]
    return Counter(_stemmer().stemWords(toks))


def lexical_support(claim: str, evidence: Sequence[str]) -> float:
    """Share of the claim's content words found in the evidence (0..1)."""
    stems = content_stems(claim)
    if not stems:
        return 0.0
    have: set[str] = set()
    for e in evidence:
        have |= content_stems(e)
    return len(stems & have) / len(stems)


def support(claim: str, claim_vec: np.ndarray, evidence: Sequence[str], evidence_vecs: Sequence[np.ndarray]) -> float:
    """Support of a claim by evidence sentences: mean of lexical coverage and best cosine (0..1)."""
    if not evidence:
        return 0.0
    cos = max(float(np.dot(claim_vec, v)) for v in evidence_vecs)
    return round(0.5 * lexical_support(claim, evidence) + 0.5 * max(0.0, cos), 4)


def cite(ev: EvidenceSentence, sentence: str, bodies: dict[str, str], score: float, idx: int,
         repaired: bool, verified_by: str = "checked") -> Citation | None:
    """A citation of evidence sentence `ev`, verbatim at its offsets in the article body, or None.

    A quotation in the answer sentence that appears verbatim in the cited sentence narrows the span to it,
    unless the sentence quotes it too: then the whole sentence, with its speaker, is the citation.
    """
    body = bodies.get(ev.article_id, "")
    start, end = ev.start, ev.end
    if body[start:end] != ev.text:  # the evidence must be verbatim at its offsets, or it is not cited
        found = body.find(ev.text)
        if found < 0:
            return None
        start, end = found, found + len(ev.text)
    for m in _QUOTED.finditer(sentence):
        pos = body.find(m.group(1), start, end)
        # A quotation the briefing itself quotes belongs to the speaker the sentence names outside it
        # ("China's foreign minister said ... “friends forever”"): narrowed to it, the source lost who said it.
        if pos >= 0 and body[pos - 1:pos] not in ('"', "\u201c"):
            start, end = pos, pos + len(m.group(1))
            break
    return Citation(key=ev.key, article_id=ev.article_id, chunk_id=ev.chunk_id, quote=body[start:end],
                    start=start, end=end, support=score, sentence_index=idx, repaired=repaired,
                    verified_by=verified_by)


_LINE_LEADING = re.compile(r"^[ \t]*((?:\[\d+\][ \t]*)+)[:.)\-\u2013\u2014]?[ \t]*(\S.*?)[ \t]*$", re.M)


def leading_markers_last(text: str) -> str:
    """Lines written as "[3] Dmitriev is expected to meet ..." (the model's list style for overviews) with their
    markers moved to the end of the line, where split_answer reads a sentence's markers: left at the start, each
    line's marker was read as the previous line's."""
    return _LINE_LEADING.sub(lambda m: f"{m.group(2)} {' '.join(m.group(1).split())}", text)


def with_markers(sentence: str, keys: Sequence[int]) -> str:
    """The sentence with its [k] markers before the final stop."""
    if not keys:
        return sentence
    marks = "".join(f"[{k}]" for k in keys)
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    if sentence.endswith(("”", '"')) and len(sentence) > 1 and sentence[-2] in ".!?,":
        return f"{sentence} {marks}"
    return f"{sentence} {marks}"
