"""Evidence for an answer: the sentences of the retrieved passages that best match the question,
within a token budget, and the keyed block the prompts show them in."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .citations import content_stems
from .context import opens_on_pronoun
from .injection import defang, looks_like_instruction
from ..models.embed import Embedder
from ..sentences import sentence_spans
from ..types import EvidenceSentence, Passage

MAX_EVIDENCE = 8
# Below this cosine and with no shared content word, nothing retrieved is about the question:
# refuse at once instead of making the user wait for the model to say so.
_IRRELEVANT_COS = 0.12


def select_evidence(embedder: Embedder, question: str, qvec: np.ndarray, passages: Sequence[Passage],
                    budget_tokens: int, layout: str = "sentences") -> list[EvidenceSentence]:
    """The evidence the model reads, within a token budget, each sentence scored by cosine to the
    question plus lexical overlap plus a small prior for its passage's rank.

    layout "sentences": the best-scoring sentences of all passages, presented best first; "sections":
    the same sentences with each article section's together, sections in the order of their best.
    layout "passages": whole passages in rank order while they fit, presented in reading order
    (articles by their best passage's rank, then by position), so a sentence keeps its neighbours.
    """
    cands: list[tuple[Passage, int, int, str, int, str]] = []
    for rank, p in enumerate(passages):
        section, last_heading = p.section, False
        for s, e in sentence_spans(p.text, offset=p.start):
            text = p.text[s - p.start:e - p.start]
            if looks_like_instruction(text):  # orders to the model hidden in an article are not evidence
                continue
            if _is_heading(text, p):  # a headline or section title is not evidence for a claim
                if layout == "articles" and text.strip() != p.title.strip():
                    # ... but in a whole article it says where the next sentences stand ("SIGNALS › …")
                    section = f"{section} \u203a {text.strip()}" if last_heading and section else text.strip()
                    last_heading = True
                continue
            last_heading = False
            cands.append((p, s, e, text, rank, section))
    if not cands:
        return []
    vecs = embedder.embed([c[3] for c in cands])
    q_stems = content_stems(question)
    scored = []
    for (p, s, e, text, rank, section), v in zip(cands, vecs):
        lex = len(q_stems & content_stems(text)) / len(q_stems) if q_stems else 0.0
        scored.append((float(np.dot(qvec, v)) + 0.3 * lex + 0.05 / (1 + rank), p, s, e, text, section))
    count = embedder.count_tokens
    if layout in ("passages", "articles"):
        whole = _whole_passages(scored, passages, budget_tokens, count, canonical=layout == "articles")
        if whole:
            return _keyed(whole)
    scored.sort(key=lambda x: -x[0])
    chosen, used = [], 0
    for score, p, s, e, text, section in scored:
        cost = _cost(text, count)
        # At most MAX_EVIDENCE sentences per 360 tokens of budget: a bigger budget may show more of them.
        if chosen and (used + cost > budget_tokens or len(chosen) >= max(MAX_EVIDENCE, MAX_EVIDENCE * budget_tokens // 360)):
            continue
        chosen.append((score, p, s, e, text, section))
        used += cost
    chosen = _with_referents(chosen, scored)
    # Best first: small models cite [1] far more often than they should, so [1] had better be
    # the strongest sentence; the section headers still say where each sentence comes from.
    if layout == "sections":
        # Still best first, but a section's sentences together under one header: the headers were a
        # quarter of the evidence tokens on the seed questions (10 per question), read for nothing.
        groups: dict[tuple[str, str], list] = {}
        for item in chosen:
            groups.setdefault((item[1].article_id, item[5]), []).append(item)
        chosen = [item for group in groups.values() for item in group]
    return _keyed(chosen)


def _with_referents(chosen: list, scored: list) -> list:
    """Each chosen sentence that opens on a pronoun ("He still insisted ...") preceded by the sentence before it
    in its passage, so who "he" is comes with it (issue 26: isolated sentences made the model refuse)."""
    have = {(item[1].article_id, item[2]) for item in chosen}
    out = []
    for item in chosen:
        p, s = item[1], item[2]
        if opens_on_pronoun(item[4]):
            before = [x for x in scored if x[1].article_id == p.article_id and x[3] <= s and x[2] < s]
            if before:
                prev = max(before, key=lambda x: x[3])
                if (p.article_id, prev[2]) not in have and s - prev[3] <= 3:  # the sentence right before it
                    have.add((p.article_id, prev[2]))
                    out.append((item[0],) + tuple(prev[1:]))  # placed (and ranked) with the sentence it explains
        out.append(item)
    return out


def _whole_passages(scored: list, passages: Sequence[Passage], budget_tokens: int, count,
                    canonical: bool = False) -> list:
    """Every sentence of the passages that fit the budget (taken in rank order), in reading order.

    `canonical`: articles in a fixed order (date, title, id) instead of by their best passage's rank, so
    the same articles always make the same evidence block whatever the question (a prompt prefix the model
    server has read before), and a cheaper key per sentence (no per-sentence header to pay for)."""
    by_passage: dict[int, list] = {}
    for item in scored:
        by_passage.setdefault(id(item[1]), []).append(item)
    taken: list[tuple[int, Passage]] = []
    used = 0
    for rank, p in enumerate(passages):
        items = by_passage.get(id(p), [])
        cost = sum(_cost(item[4], count, canonical) for item in items)
        if items and used + cost <= budget_tokens:
            taken.append((rank, p))
            used += cost
    first_rank: dict[str, int] = {}
    for rank, p in taken:
        first_rank.setdefault(p.article_id, rank)
    seen: set[tuple[str, int]] = set()
    out = []
    # Reading order keeps a sentence next to the ones its pronouns point to, and the same passages
    # give the same prompt prefix, which llama.cpp's prompt cache then reuses for the next question.
    def place(rp: tuple[int, Passage]) -> tuple:
        p = rp[1]
        if canonical:
            when = p.published_at.isoformat() if p.published_at else ""
            return (when, p.title, p.article_id, p.start)
        return (first_rank[p.article_id], "", "", p.start)

    for _, p in sorted(taken, key=place):
        for item in sorted(by_passage[id(p)], key=lambda x: x[2]):
            if (p.article_id, item[2]) not in seen:
                seen.add((p.article_id, item[2]))
                out.append(item)
    return out


def _cost(text: str, count, keyed_only: bool = False) -> int:
    # The key, and once the header each sentence had in the best-first layout; kept at 12 since the headers
    # there name only the article, so that the same sentences are chosen as before. In reading order a
    # sentence pays for its key and line break only (~4 tokens).
    return count(text) + (4 if keyed_only else 12)


def best_first(evidence: Sequence[EvidenceSentence]) -> list[EvidenceSentence]:
    """The evidence from the best-scoring sentence down, whatever order it is presented in."""
    return sorted(evidence, key=lambda e: (-e.score, e.key))


def _keyed(chosen: list) -> list[EvidenceSentence]:
    return [EvidenceSentence(key=i, article_id=p.article_id, chunk_id=p.chunk_id, text=text, start=s, end=e,
                             score=round(score, 4), title=p.title, section=section, published_at=p.published_at)
            for i, (score, p, s, e, text, section) in enumerate(chosen, 1)]


def format_evidence(evidence: Sequence[EvidenceSentence], layout: str = "sentences") -> str:
    """Evidence as keyed data lines under a header per article (title and date).

    Where a section's sentences stand together (layouts "sections" and "passages") the header names
    the section too. Best first ("sentences") the section changes almost every line: its headers were
    ~190 of ~740 evidence tokens on the seed questions, ~2 s of reading for the model on 2 cores, and
    the seed answers were no worse without them (README: evidence layout).
    """
    if layout == "articles":
        return _format_articles(evidence)
    lines: list[str] = []
    last = None
    with_sections = layout != "sentences"
    for e in evidence:
        header = (e.title, e.section if with_sections else "", e.published_at)
        if header != last:
            date = e.published_at.date().isoformat() if e.published_at else "undated"
            label = f"{e.title} | {date}" + (f" | {e.section}" if header[1] else "")
            lines.append(f"## {_defang(label)}")
            last = header
        lines.append(f"[{e.key}] {_defang(e.text)}")
    return "\n".join(lines)


def _format_articles(evidence: Sequence[EvidenceSentence]) -> str:
    # One header per article and one short line per section: whole articles change section a few times,
    # and the title repeated on every section line would be read for nothing.
    lines: list[str] = []
    last_article, last_section = None, None
    for e in evidence:
        if e.article_id != last_article:
            date = e.published_at.date().isoformat() if e.published_at else "undated"
            lines.append(f"## {_defang(e.title)} | {date}")
            last_article, last_section = e.article_id, None
        if e.section and e.section != last_section:
            lines.append(f"### {_defang(e.section)}")
        last_section = e.section
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
