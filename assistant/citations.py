"""Citations: parse the model's [n] markers, validate them against the evidence it was shown,
score how well each answer sentence is supported, repair what is clear, and drop the rest.

Every key the model may cite names one evidence sentence, whose span in the article body is known,
so a valid citation always points at an exact, verbatim sentence of a briefing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .embed import Embedder
from .sentences import sentence_spans, words
from .types import REFUSAL, AnswerSentence, Citation, EvidenceSentence

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


@dataclass(frozen=True)
class Validated:
    """The outcome of checking a raw model answer against its evidence."""

    text: str
    answerable: bool
    sentences: list[AnswerSentence]
    citations: list[Citation]


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
    toks = [w for w in words(text) if w not in _STOP and len(w) > 1]
    return set(_stemmer().stemWords(toks))


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


def validate(raw: str, evidence: Sequence[EvidenceSentence], bodies: dict[str, str], embedder: Embedder,
             min_support: float, repair_support: float) -> Validated:
    """Check a raw answer: drop unknown keys, verify quotes verbatim, score support, repair or drop.

    A sentence is kept when its (possibly repaired) citations support it with at least
    `min_support`; an uncited sentence gets the best evidence attached when that reaches
    `repair_support`. Short connective sentences ("Yes.") share the next sentence's citations.
    When nothing survives, the result is the refusal.
    """
    by_key = {e.key: e for e in evidence}
    parts = split_answer(raw)
    if not parts or all(is_refusal(s) for s, _ in parts):
        return _refusal()
    claims = [s for s, _ in parts]
    vecs = embedder.embed(claims + [e.text for e in evidence]) if evidence else np.zeros((len(claims), 1))
    claim_vecs, ev_vecs = vecs[: len(claims)], {e.key: vecs[len(claims) + i] for i, e in enumerate(evidence)}
    results: list[tuple[str, tuple[int, ...], float, bool, str, set[int]]] = []
    for (sentence, written), cvec in zip(parts, claim_vecs):
        if is_refusal(sentence):
            results.append((sentence, (), 0.0, True, "partial refusal", set()))
            continue
        valid = [k for k in written if k in by_key]
        dropped = [k for k in written if k not in by_key]
        note = f"dropped unknown key(s) {dropped}" if dropped else ""
        score = support(sentence, cvec, [by_key[k].text for k in valid], [ev_vecs[k] for k in valid]) if valid else 0.0
        repaired: set[int] = set()
        if score < min_support and evidence:
            best = max(evidence, key=lambda e: support(sentence, cvec, [e.text], [ev_vecs[e.key]]))
            best_score = support(sentence, cvec, [best.text], [ev_vecs[best.key]])
            if best_score >= repair_support and best_score > score:
                what = "attached" if not valid else f"replaced {valid} with"
                note = "; ".join(x for x in (note, f"{what} [{best.key}] (support {best_score:.2f})") if x)
                valid, score, repaired = [best.key], best_score, {best.key}
        if len(content_stems(sentence)) <= 2 and score < min_support:
            results.append((sentence, (), score, True, "connective", set()))
            continue
        kept = bool(valid) and score >= min_support
        if not kept:
            note = "; ".join(x for x in (note, f"unsupported (support {score:.2f})") if x)
        results.append((sentence, tuple(valid), score, kept, note, repaired))
    # Connectives ("Yes.") stand on the next supported claim; alone they say nothing checkable.
    for i, (s, keys, score, kept, note, rep) in enumerate(results):
        if note == "connective":
            nxt = next((r for r in results[i + 1:] if r[3] and r[1]), None)
            results[i] = (s, nxt[1] if nxt else (), nxt[2] if nxt else score, nxt is not None, note, set())
    if not any(kept and keys for _, keys, _, kept, _, _ in results):
        sentences = [AnswerSentence(s, k, sc, False, n or "unsupported") for s, k, sc, _, n, _ in results]
        return Validated(REFUSAL, False, sentences, [])
    sentences, citations, text_parts = [], [], []
    for idx, (s, keys, score, kept, note, repaired) in enumerate(results):
        sentences.append(AnswerSentence(s, keys, score, kept, note))
        if not kept:
            continue
        own = [k for k in keys if note != "connective"]
        text_parts.append(_with_markers(s, own))
        for k in own:
            cite = _cite(by_key[k], s, bodies, score, idx, k in repaired)
            if cite is not None:
                citations.append(cite)
    return Validated(" ".join(text_parts), True, sentences, citations)


def _cite(ev: EvidenceSentence, sentence: str, bodies: dict[str, str], score: float, idx: int,
          repaired: bool) -> Citation | None:
    body = bodies.get(ev.article_id, "")
    start, end = ev.start, ev.end
    if body[start:end] != ev.text:  # the evidence must be verbatim at its offsets, or it is not cited
        found = body.find(ev.text)
        if found < 0:
            return None
        start, end = found, found + len(ev.text)
    # A quotation in the answer that appears verbatim in the cited sentence narrows the span to it.
    for m in _QUOTED.finditer(sentence):
        pos = body.find(m.group(1), start, end)
        if pos >= 0:
            start, end = pos, pos + len(m.group(1))
            break
    return Citation(key=ev.key, article_id=ev.article_id, chunk_id=ev.chunk_id, quote=body[start:end],
                    start=start, end=end, support=score, sentence_index=idx, repaired=repaired)


def _with_markers(sentence: str, keys: Sequence[int]) -> str:
    if not keys:
        return sentence
    marks = "".join(f"[{k}]" for k in keys)
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} {marks}{sentence[-1]}"
    return f"{sentence} {marks}"


def _refusal() -> Validated:
    return Validated(REFUSAL, False, [], [])
