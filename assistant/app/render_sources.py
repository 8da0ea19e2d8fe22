"""HTML for the sources panel: the evidence being read, then one card per cited passage with each
cited span highlighted and numbered like its marker, and what the checker removed or corrected.

No gradio here. Article text and model output are untrusted: all of it goes through render.esc().
"""

from __future__ import annotations

from typing import Sequence

from ..types import Answer, Citation, EvidenceEvent, Passage, public_note
from .render import DOT, byline, esc, fmt_date, plural, reading_message

_MAX_WINDOW = 1200  # longest passage shown around a cited span, in characters
_CONTEXT = 420  # context kept either side of the cited spans when the passage is longer
_REPAIRED = " \u00b7 <em>marker corrected by the checker</em>"


def empty_sources_html() -> str:
    """What the sources panel says before the first answer."""
    return ('<div class="ba-sources ba-empty"><p>Sources appear here.</p>'
            '<p>Every claim in an answer carries a marker like <sup class="ba-cite">[1]</sup>; the sentence it '
            'rests on is highlighted in the briefing below.</p></div>')


def evidence_html(event: EvidenceEvent, head: str = "") -> str:
    """The sentences being read, shown as soon as they are retrieved (and after a refusal)."""
    if not event.evidence:
        return '<div class="ba-sources"><div class="ba-sources-head">No matching briefings</div></div>'
    groups: dict[str, list] = {}
    for e in event.evidence:
        groups.setdefault(e.article_id, []).append(e)
    cards = []
    for items in groups.values():
        first = items[0]
        rows = "".join(f'<li><span class="ba-key">{e.key}</span> {esc(e.text)}</li>' for e in items)
        cards.append(f'<section class="ba-card ba-reading"><div class="ba-title">{esc(first.title)}</div>'
                     f'<div class="ba-byline">{esc(fmt_date(first.published_at))}</div>'
                     f'<ol class="ba-evidence">{rows}</ol></section>')
    return (f'<div class="ba-sources"><div class="ba-sources-head">{esc(head or reading_message(event))}</div>'
            f'{"".join(cards)}</div>')


def sources_html(answer: Answer, bodies: dict[str, str]) -> str:
    """One card per cited passage: title, source, date, section, and the passage with each cited span
    highlighted and numbered like its marker. `bodies` maps article id to the full article body."""
    if not answer.answerable:
        if answer.evidence:
            read = EvidenceEvent(passages=answer.passages, evidence=answer.evidence)
            return evidence_html(read, head="No sources: none of the sentences read answers the question")
        return ('<div class="ba-sources ba-empty"><div class="ba-sources-head">No sources</div>'
                f'<p>{esc(answer.text)} Nothing in the library matched.</p></div>')
    by_chunk: dict[str, list[Citation]] = {}
    for c in answer.citations:
        if all(c.key != other.key for other in by_chunk.get(c.chunk_id, [])):
            by_chunk.setdefault(c.chunk_id, []).append(c)
    cards = [_card(p, by_chunk[p.chunk_id], bodies.get(p.article_id)) for p in answer.sources()]
    head = f'Sources for \u201c{esc(answer.question)}\u201d'
    return (f'<div class="ba-sources"><div class="ba-sources-head">{head}</div>{"".join(cards)}'
            f'{_checks_html(answer)}</div>')


def _card(p: Passage, cites: Sequence[Citation], body: str | None) -> str:
    by_key = sorted(cites, key=lambda c: c.key)
    keys = "".join(f'<span class="ba-key">{c.key}</span>' for c in by_key)
    support = "".join(_support_row(c) for c in by_key)
    link = ""
    if p.url.startswith(("http://", "https://")):
        link = f' <a class="ba-link" href="{esc(p.url)}" target="_blank" rel="noopener noreferrer">open \u2197</a>'
    head = (f'<div class="ba-card-head">{keys}<div><div class="ba-title">{esc(p.title)}{link}</div>'
            f'<div class="ba-byline">{esc(byline(p))}</div>{also_html(p)}</div></div>')
    return (f'<section class="ba-card" id="ba-src-{by_key[0].key}">{head}'
            f'<blockquote class="ba-passage">{highlight(p, cites, body)}</blockquote>'
            f'<ul class="ba-supports">{support}</ul></section>')


def also_html(p: Passage) -> str:
    """"Also reported by …": the other outlets that carried the same wire story (dedup.py)."""
    names = []
    for source, title, url in p.also_reported_by:
        name = esc(source or title or "another outlet")
        if url.startswith(("http://", "https://")):
            name = f'<a href="{esc(url)}" title="{esc(title)}" target="_blank" rel="noopener noreferrer">{name}</a>'
        names.append(name)
    return f'<div class="ba-also">Also reported by {", ".join(names)}</div>' if names else ""


def _support_row(c: Citation) -> str:
    # The label says how the claim was checked, not how similar it looks: similarity cannot see a
    # flipped negation or a changed number, the checks can.
    if c.verified_by == "exact quote":
        label, cls, tip = "Exact quote", "strong", "The answer quotes this sentence word for word"
    else:
        label, cls = "Checked", "strong"
        tip = ("Numbers, dates, negation, names and attribution match the highlighted sentence, and the model judge "
               f"found the claim stated there (similarity {c.support:.2f})")
    return (f'<li><span class="ba-key">{c.key}</span> <span class="ba-support ba-{cls}" title="{esc(tip)}">'
            f'{label}</span>{_REPAIRED if c.repaired else ""}</li>')


def highlight(p: Passage, cites: Sequence[Citation], body: str | None) -> str:
    """The passage around the cited spans (offsets into the article body), each span in a numbered <mark>."""
    spans = sorted((c.start, c.end, c.key) for c in cites if c.end > c.start)
    if body is None or any(body[c.start:c.end] != c.quote for c in cites):
        # The article is gone or changed since: show the passage as it was retrieved for this answer.
        body, shift = p.text, p.start
        spans = [(s - shift, e - shift, k) for s, e, k in spans if shift <= s and e <= shift + len(body)]
        lo, hi = 0, len(body)
    else:
        lo, hi = p.start, p.end
    if spans:
        first, last = spans[0][0], max(e for _, e, _ in spans)
        lo, hi = min(lo, first), max(hi, last)
        if hi - lo > _MAX_WINDOW:
            lo, hi = max(lo, first - _CONTEXT), min(hi, last + _CONTEXT)
    out = ["\u2026" if lo > 0 and not body[lo - 1].isspace() else ""]
    cursor = lo
    for s, e, key in spans:
        if s < cursor:  # overlapping spans: the earlier one already shows this text
            continue
        out.append(esc(body[cursor:s]))
        out.append(f'<mark data-key="{key}"><span class="ba-mark-key">{key}</span>{esc(body[s:e])}</mark>')
        cursor = e
    out.append(esc(body[cursor:hi]))
    out.append("\u2026" if hi < len(body) and not body[hi].isspace() else "")
    return "".join(out).strip()


def _checks_html(answer: Answer) -> str:
    dropped = [s for s in answer.sentences if not s.kept]
    fixed = sorted({c.sentence_index for c in answer.citations if c.repaired})
    repaired = [answer.sentences[i] for i in fixed if i < len(answer.sentences)]
    if not dropped and not repaired:
        return ""
    # What was removed is described, never shown: the page shows checked sentences only.
    # The checker's notes may quote the draft: the panel shows them described (types.public_note).
    rows = [f'<li>A sentence of the draft was removed <span class="ba-why">({esc(public_note(s.note) or "no citation")})'
            '</span></li>' for s in dropped]
    rows += [f'<li>Citation corrected: \u201c{esc(s.text)}\u201d <span class="ba-why">({esc(public_note(s.note))})</span></li>'
             for s in repaired]
    summary = DOT.join(x for x in (
        f"{plural(len(dropped), 'sentence')} removed" if dropped else "",
        f"{plural(len(repaired), 'citation')} corrected" if repaired else "") if x)
    return f'<details class="ba-checks"><summary>Checker: {esc(summary)}</summary><ul>{"".join(rows)}</ul></details>'
