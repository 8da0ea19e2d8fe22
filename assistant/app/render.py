"""HTML for the chat page, built from plain values (no gradio here).

Article text, model output, questions and file names are untrusted: every one goes through
`esc()` before any markup of ours is put around it. Nothing here returns unescaped input.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Iterable, Sequence

from ..config import Settings
from ..redact import url_without_credentials
from ..types import Answer, Article, Citation, EvidenceEvent, IngestReport, Passage

# [3] or [1, 2] or [2-4] in model text; matched on already-escaped text (escaping keeps them intact).
_MARKERS = re.compile(r"\[(\d+(?:\s*(?:,|-|\u2013)\s*\d+)*)\]")
_MAX_WINDOW = 1200  # longest passage shown around a cited span, in characters
_CONTEXT = 420  # context kept either side of the cited spans when the passage is longer
DOT = " \u00b7 "
_REPAIRED = " \u00b7 <em>marker corrected by the checker</em>"


def esc(value: object) -> str:
    """HTML-escaped text (quotes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt_date(dt: datetime | None) -> str:
    """"2 Apr 2025", or "undated"."""
    return f"{dt.day} {dt:%b %Y}" if dt is not None else "undated"


def support_words(score: float) -> str:
    """How well the cited sentence backs the claim, in words: strong, moderate or weak support."""
    if score >= 0.75:
        return "strong support"
    if score >= 0.55:
        return "moderate support"
    return "weak support"


def plural(n: int, word: str) -> str:
    """"1 briefing", "2 briefings"."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def with_markers(escaped: str) -> str:
    """Escaped text with its [n] citation markers styled (the text must already be escaped)."""
    return _MARKERS.sub(lambda m: f'<sup class="ba-cite">[{m.group(1)}]</sup>', escaped)


def describe_model(settings: Settings) -> str:
    """Which model answers, for people: never the API key, never credentials in the URL."""
    llm = settings.llm
    if llm.uses_local:
        name = settings.local.model_path.name if settings.local.model_path else "Qwen2.5-Coder-1.5B-Instruct"
        return f"bundled local model ({name}, runs on this computer)"
    where = "api.openai.com"
    if llm.base_url:
        where = url_without_credentials(llm.base_url) or "(invalid URL)"
    return f"{llm.model or 'the endpoint default model'} at {where}"


# --- chat messages -----------------------------------------------------------------------------

def question_html(question: str) -> str:
    """The user's message, shown as text."""
    return f'<div class="ba-question">{esc(question)}</div>'


def status_html(message: str) -> str:
    """A progress line ("Searching the briefings…")."""
    return f'<div class="ba-status" role="status"><span class="ba-dot"></span>{esc(message)}</div>'


def reading_message(event: EvidenceEvent) -> str:
    """"Reading 7 sentences from 2 briefings…"."""
    articles = {e.article_id for e in event.evidence}
    if not event.evidence:
        return "Nothing in the library matches; checking…"
    return f"Reading {plural(len(event.evidence), 'sentence')} from {plural(len(articles), 'briefing')}\u2026"


def checked_html(status: str, checked: str) -> str:
    """The sentences that have passed the checks so far, under the progress line (never the draft)."""
    body = f'<p class="ba-text ba-checked">{with_markers(esc(checked))}</p>' if checked else ""
    return status_html(status) + body


def error_html(message: str) -> str:
    """An error line in the chat (the page keeps working)."""
    return f'<div class="ba-error" role="alert"><strong>Could not answer.</strong> {esc(message)}</div>'


def answer_html(answer: Answer) -> str:
    """The validated answer: text with [n] markers, the numbered sources, and what the checker did."""
    if not answer.answerable:
        return refusal_html(answer)
    by_chunk = {p.chunk_id: p for p in answer.passages}
    by_article: dict[str, tuple[Passage, list[int]]] = {}  # one line per briefing, with all its keys
    for c in sorted(answer.citations, key=lambda c: c.key):
        p = by_chunk.get(c.chunk_id)
        if p is None:
            continue
        keys = by_article.setdefault(p.article_id, (p, []))[1]
        if c.key not in keys:
            keys.append(c.key)
    refs = []
    for p, keys in by_article.values():
        meta = _byline(p, section=False)
        meta_html = f'<span class="ba-ref-meta"> &middot; {esc(meta)}</span>' if meta else ""
        marks = "".join(f"[{k}]" for k in keys)
        refs.append(f'<li><span class="ba-ref-key">{marks}</span> {esc(p.title)}{meta_html}</li>')
    return (f'<div class="ba-answer"><p class="ba-text">{with_markers(esc(answer.text))}</p>'
            f'<ol class="ba-refs">{"".join(refs)}</ol>{_meta_html(answer)}</div>')


def refusal_html(answer: Answer) -> str:
    """The refusal: a neutral note, not an error."""
    read = {e.article_id for e in answer.evidence}
    if answer.evidence:
        why = (f"Read {plural(len(answer.evidence), 'sentence')} from {plural(len(read), 'briefing')}; "
               "none of them answers this.")
    else:
        why = "Nothing in the library (within the date range) is about this."
    withheld = [s for s in answer.sentences if not s.kept]
    if withheld:
        why += " The model's draft was not backed by the briefings, so it is not shown."
    return (f'<div class="ba-refusal"><span class="ba-refusal-icon" aria-hidden="true">\u2205</span>'
            f'<div><div class="ba-refusal-text">{esc(answer.text)}</div>'
            f'<div class="ba-meta">{esc(why)} Try rephrasing, or widen the date range.</div>'
            f'{notes_html(answer)}</div></div>')


def _meta_html(answer: Answer) -> str:
    bits = []
    dropped = [s for s in answer.sentences if not s.kept]
    repaired = {c.key for c in answer.citations if c.repaired}
    if dropped:
        bits.append(f"{plural(len(dropped), 'unsupported sentence')} removed")
    if repaired:
        bits.append(f"{plural(len(repaired), 'citation')} corrected by the checker")
    if answer.as_of:
        bits.append(f"as of {answer.as_of}")
    if answer.model:
        bits.append(f"answered by {answer.model} in {answer.latency_s:.1f} s")
    html = f'<div class="ba-meta">{esc(DOT.join(bits))}</div>' if bits else ""
    return html + notes_html(answer)


def notes_html(answer: Answer) -> str:
    """What the user should know about how the answer was made (e.g. a follow-up answered without context)."""
    return "".join(f'<div class="ba-note" role="note">{esc(n)}</div>' for n in answer.notes)


# --- sources panel -----------------------------------------------------------------------------

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
            f'<div class="ba-byline">{esc(_byline(p))}</div>{also_html(p)}</div></div>')
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


def _byline(p: Passage | None, section: bool = True) -> str:
    # Cards say what is missing ("undated"); the short list under an answer leaves it out.
    if p is None:
        return ""
    if not section:
        return DOT.join(x for x in (p.source, fmt_date(p.published_at) if p.published_at else "") if x)
    parts = [p.source or "source not given", fmt_date(p.published_at)]
    if p.section:
        parts.append(p.section)
    return DOT.join(parts)


def _checks_html(answer: Answer) -> str:
    dropped = [s for s in answer.sentences if not s.kept]
    fixed = sorted({c.sentence_index for c in answer.citations if c.repaired})
    repaired = [answer.sentences[i] for i in fixed if i < len(answer.sentences)]
    if not dropped and not repaired:
        return ""
    # What was removed is described, never shown: the page shows checked sentences only.
    rows = [f'<li>A sentence of the draft was removed <span class="ba-why">({esc(s.note or "no citation")})</span></li>'
            for s in dropped]
    rows += [f'<li>Citation corrected: \u201c{esc(s.text)}\u201d <span class="ba-why">({esc(s.note)})</span></li>'
             for s in repaired]
    summary = DOT.join(x for x in (
        f"{plural(len(dropped), 'sentence')} removed" if dropped else "",
        f"{plural(len(repaired), 'citation')} corrected" if repaired else "") if x)
    return f'<details class="ba-checks"><summary>Checker: {esc(summary)}</summary><ul>{"".join(rows)}</ul></details>'


# --- library -----------------------------------------------------------------------------------

def library_html(articles: Sequence[Article]) -> str:
    """The library as a table: title, published, source, chunks."""
    if not articles:
        return '<div class="ba-library ba-empty"><p>The library is empty. Upload briefings above.</p></div>'
    rows = "".join(
        f'<tr><td class="ba-lib-title">{esc(a.title)}</td><td>{esc(fmt_date(a.published_at))}</td>'
        f'<td>{esc(a.source) or "&mdash;"}</td><td class="ba-num">{a.chunk_count}</td>'
        f'<td class="ba-id">{esc(a.id)}</td></tr>' for a in articles)
    count = plural(len(articles), "briefing")
    return (f'<div class="ba-library"><div class="ba-sources-head">{count} in the library</div>'
            '<table><thead><tr><th>Title</th><th>Published</th><th>Source</th><th>Chunks</th><th>Id</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')


def report_html(report: IngestReport | None, rejected: Iterable[str], titles: dict[str, str]) -> str:
    """What an upload did: counts, the titles added, and every file that was rejected or failed, with why."""
    problems = [esc(r) for r in rejected]
    lines = []
    if report is not None:
        problems += [f"{esc(_short(f.where))}: {esc(f.reason)}" for f in report.failed]
        lines.append(f"Added {len(report.added)} \u00b7 updated {len(report.updated)} \u00b7 "
                     f"unchanged {len(report.unchanged)} \u00b7 {plural(report.chunks_written, 'chunk')} indexed "
                     f"in {report.seconds:.1f} s")
        for aid in report.added + report.updated:
            lines.append(f"\u2713 {esc(titles.get(aid, aid))}")
    items = "".join(f"<li>{x}</li>" for x in lines[1:])
    bad = "".join(f'<li class="ba-bad">\u2717 {p}</li>' for p in problems)
    head = f"<strong>{lines[0]}</strong>" if lines else "<strong>Nothing was added.</strong>"
    kind = "ba-warn" if problems else "ba-ok"
    return f'<div class="ba-report {kind}">{head}<ul>{items}{bad}</ul></div>'


def notice_html(message: str, ok: bool = True) -> str:
    """A one-line notice (e.g. after a delete)."""
    return f'<div class="ba-report {"ba-ok" if ok else "ba-warn"}">{esc(message)}</div>'


def _short(where: str) -> str:
    # Failures name absolute paths under the upload folder; the file name (and #line) is what matters.
    return re.split(r"[\\/]", where)[-1]


def header_html(model: str) -> str:
    """The page header: name, promise, and which model answers."""
    return ('<header class="ba-header"><div><div class="ba-brand">Briefing Assistant</div>'
            '<div class="ba-tagline">Short answers from your briefings. '
            'Every claim cites the sentence it rests on.</div></div>'
            f'<div class="ba-model" title="Which model writes the answers">Answers by {esc(model)}</div></header>')


def settings_html(settings: Settings) -> str:
    """What answers and where the library lives (never a key)."""
    return (f'<div class="ba-settings"><div><span>Model</span> {esc(describe_model(settings))}</div>'
            f'<div><span>Library folder</span> {esc(settings.data_dir)}</div></div>')


CSS = """
.gradio-container { max-width: 1320px !important; }
.ba-header { display:flex; justify-content:space-between; align-items:flex-end; gap:16px; padding:4px 2px 10px;
  border-bottom:1px solid var(--border-color-primary); margin-bottom:4px; }
.ba-brand { font-size:1.45rem; font-weight:700; letter-spacing:-0.01em; }
.ba-tagline { color:var(--body-text-color-subdued); font-size:0.95rem; }
.ba-model { font-size:0.82rem; color:var(--body-text-color-subdued); border:1px solid var(--border-color-primary);
  border-radius:999px; padding:3px 10px; white-space:nowrap; }
.ba-settings { font-size:0.85rem; color:var(--body-text-color-subdued); display:grid; gap:2px; }
.ba-settings span { display:inline-block; min-width:7.5em; font-weight:700; color:var(--body-text-color); }
.ba-cite { font-size:0.72em; font-weight:700; color:#1d4ed8; margin-left:1px; }
.dark .ba-cite { color:#93c5fd; }
.ba-text { margin:0 0 6px; line-height:1.55; }
.ba-refs { margin:6px 0 0; padding:6px 0 0 0; list-style:none; border-top:1px solid var(--border-color-primary);
  font-size:0.84rem; }
.ba-refs li { margin:1px 0; }
.ba-ref-key { font-weight:700; color:#1d4ed8; margin-right:2px; }
.dark .ba-ref-key { color:#93c5fd; }
.ba-ref-meta, .ba-meta, .ba-byline, .ba-why { color:var(--body-text-color-subdued); }
.ba-meta { font-size:0.78rem; margin-top:6px; }
.ba-status { display:flex; align-items:center; gap:8px; color:var(--body-text-color-subdued); font-size:0.9rem; }
.ba-dot { width:8px; height:8px; border-radius:50%; background:#3b82f6; animation: ba-pulse 1.2s ease-in-out infinite; }
@keyframes ba-pulse { 0%,100% { opacity:0.25; } 50% { opacity:1; } }
.ba-note { margin-top:4px; font-size:0.85em; color:var(--body-text-color-subdued); }
.ba-error { border-left:3px solid #dc2626; padding:4px 10px; color:var(--body-text-color); }
.ba-refusal { display:flex; gap:10px; align-items:flex-start; }
.ba-refusal-icon { font-size:1.1rem; color:var(--body-text-color-subdued); line-height:1.3; }
.ba-refusal-text { font-weight:700; }
.ba-sources { display:flex; flex-direction:column; gap:12px; max-height:720px; overflow-y:auto; padding-right:4px; }
.ba-sources-head { font-size:0.85rem; font-weight:700; color:var(--body-text-color-subdued); }
.ba-empty { color:var(--body-text-color-subdued); font-size:0.92rem; border:1px dashed var(--border-color-primary);
  border-radius:10px; padding:14px 16px; }
.ba-empty p { margin:0 0 6px; }
.ba-card { border:1px solid var(--border-color-primary); border-radius:10px; padding:12px 14px;
  background:var(--block-background-fill); }
.ba-card-head { display:flex; gap:10px; align-items:flex-start; margin-bottom:8px; }
.ba-title { font-weight:700; line-height:1.3; }
.ba-byline { font-size:0.8rem; margin-top:2px; }
.ba-link { font-size:0.78rem; font-weight:400; margin-left:6px; }
.ba-also { font-size:0.78rem; color:var(--body-text-color-subdued); margin-top:2px; }
.ba-key { display:inline-flex; justify-content:center; align-items:center; min-width:1.45em; height:1.45em;
  padding:0 4px; border-radius:6px; background:#1d4ed8; color:#fff; font-size:0.75rem; font-weight:700;
  margin-right:3px; }
.ba-passage { margin:0; padding:8px 12px; border-left:3px solid var(--border-color-primary); white-space:pre-wrap;
  font-family:Georgia, 'Times New Roman', serif; font-size:0.93rem; line-height:1.6; color:var(--body-text-color); }
.ba-passage mark { background:#fde68a; color:#1f2937; padding:1px 2px; border-radius:3px; }
.ba-mark-key { font-family:var(--font); font-size:0.68em; font-weight:700; color:#fff; background:#1d4ed8;
  border-radius:4px; padding:0 4px; margin-right:4px; vertical-align:0.15em; }
.ba-supports { list-style:none; margin:8px 0 0; padding:0; font-size:0.8rem; }
.ba-support { font-weight:700; }
.ba-strong { color:#15803d; } .ba-moderate { color:#a16207; } .ba-weak { color:#b45309; }
.dark .ba-strong { color:#4ade80; } .dark .ba-moderate { color:#facc15; } .dark .ba-weak { color:#fb923c; }
.ba-evidence { margin:6px 0 0; padding:0; list-style:none; font-size:0.86rem; line-height:1.45; }
.ba-evidence li { margin:4px 0; }
.ba-checks { font-size:0.8rem; color:var(--body-text-color-subdued); }
.ba-checks summary { cursor:pointer; }
.ba-checks ul { margin:4px 0 0 16px; padding:0; }
#ba-library .ba-library table { width:100%; border-collapse:collapse; font-size:0.88rem; margin-top:6px; border:none; }
#ba-library .ba-library tr, #ba-library .ba-library th, #ba-library .ba-library td { border:none; }
#ba-library .ba-library th { text-align:left; font-size:0.75rem; text-transform:uppercase; letter-spacing:0.05em;
  color:var(--body-text-color-subdued); border-bottom:1px solid var(--border-color-primary); padding:6px 8px; }
#ba-library .ba-library td { border-bottom:1px solid var(--border-color-primary); padding:7px 8px; vertical-align:top; }
.ba-lib-title { font-weight:700; }
.ba-num { text-align:right; }
.ba-id { font-family:var(--font-mono); font-size:0.78rem; color:var(--body-text-color-subdued); }
.ba-report { border-radius:8px; padding:10px 14px; font-size:0.9rem; border:1px solid var(--border-color-primary); }
.ba-report ul { margin:6px 0 0; padding-left:4px; list-style:none; }
.ba-ok { border-left:4px solid #16a34a; } .ba-warn { border-left:4px solid #d97706; }
#ba-delete { align-self:flex-end; }
.ba-bad { color:#b91c1c; } .dark #ba-delete { align-self:flex-end; }
.ba-bad { color:#fca5a5; }
"""
