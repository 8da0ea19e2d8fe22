"""Evidence for an answer: the sentences of the retrieved passages that best match the question,
within a token budget, and the keyed block the prompts show them in."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .citations import content_stems
from .injection import defang, looks_like_instruction
from ..models.embed import Embedder
from ..sentences import sentence_spans
from ..types import EvidenceSentence, Passage

MAX_EVIDENCE = 8
# Below this cosine and with no shared content word, nothing retrieved is about the question:
# refuse at once instead of making the user wait for the model to say so.
_IRRELEVANT_COS = 0.12


def select_evidence(embedder: Embedder, question: str, qvec: np.ndarray, passages: Sequence[Passage],
                    budget_tokens: int) -> list[EvidenceSentence]:
    """The sentences of the passages that best match the question, within a token budget.

    Scored by cosine to the question plus lexical overlap plus a small prior for the passage's
    rank; presented best first.
    """
    cands: list[tuple[Passage, int, int, str, int]] = []
    for rank, p in enumerate(passages):
        for s, e in sentence_spans(p.text, offset=p.start):
            text = p.text[s - p.start:e - p.start]
            if looks_like_instruction(text):  # orders to the model hidden in an article are not evidence
                continue
            if _is_heading(text, p):  # a headline or section title is not evidence for a claim
                continue
            cands.append((p, s, e, text, rank))
    if not cands:
        return []
    vecs = embedder.embed([c[3] for c in cands])
    q_stems = content_stems(question)
    scored = []
    for (p, s, e, text, rank), v in zip(cands, vecs):
        lex = len(q_stems & content_stems(text)) / len(q_stems) if q_stems else 0.0
        scored.append((float(np.dot(qvec, v)) + 0.3 * lex + 0.05 / (1 + rank), p, s, e, text))
    scored.sort(key=lambda x: -x[0])
    chosen, used = [], 0
    count = embedder.count_tokens
    for score, p, s, e, text in scored:
        cost = count(text) + 12  # the key and the header around each sentence
        # At most MAX_EVIDENCE sentences per 360 tokens of budget: a bigger budget may show more of them.
        if chosen and (used + cost > budget_tokens or len(chosen) >= max(MAX_EVIDENCE, MAX_EVIDENCE * budget_tokens // 360)):
            continue
        chosen.append((score, p, s, e, text))
        used += cost
    # Best first: small models cite [1] far more often than they should, so [1] had better be
    # the strongest sentence; the section headers still say where each sentence comes from.
    return [EvidenceSentence(key=i, article_id=p.article_id, chunk_id=p.chunk_id, text=text, start=s, end=e,
                             score=round(score, 4), title=p.title, section=p.section, published_at=p.published_at)
            for i, (score, p, s, e, text) in enumerate(chosen, 1)]


def format_evidence(evidence: Sequence[EvidenceSentence]) -> str:
    """Evidence as keyed data lines, grouped under a header per article and section."""
    lines: list[str] = []
    last = None
    for e in evidence:
        header = (e.title, e.section, e.published_at)
        if header != last:
            date = e.published_at.date().isoformat() if e.published_at else "undated"
            label = f"{e.title} | {date}" + (f" | {e.section}" if e.section else "")
            lines.append(f"## {_defang(label)}")
            last = header
        lines.append(f"[{e.key}] {_defang(e.text)}")
    return "\n".join(lines)


def _defang(text: str) -> str:
    # Article text must not close the evidence block, pose as a chat role marker or carry citation-like
    # markers ([99], [S7]) the model could copy: see injection.defang.
    return defang(text)


def _is_heading(text: str, p: Passage) -> bool:
    bare = text.strip()
    if bare in (p.section.strip(), p.title.strip()) or (p.section and bare in p.section):
        return True
    return not bare.endswith((".", "!", "?", "\u201d", '"', "\u2019", "'", ")")) and len(bare) < 120


def irrelevant(question: str, evidence: Sequence[EvidenceSentence]) -> bool:
    """True when nothing in the evidence is about the question: no shared content word and a low cosine."""
    q_stems = content_stems(question)
    if any(q_stems & content_stems(e.text) for e in evidence):
        return False
    # With no shared word, an evidence score is its cosine plus at most the 0.05 rank prior.
    return max(e.score for e in evidence) < _IRRELEVANT_COS + 0.05
