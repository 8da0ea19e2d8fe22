"""HTML for the chat page, built from plain values (no gradio here): the shared escaping and
formatting helpers, the chat messages (question, progress, answer, refusal, error), the page header
and settings, and the page's CSS. The sources panel is in render_sources.py, the Library tab's
HTML in render_library.py, the timeline in render_timeline.py.

Article text, model output, questions and file names are untrusted: every one goes through
`esc()` before any markup of ours is put around it. Nothing here returns unescaped input.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from ..config import Settings
from ..redact import url_without_credentials
from ..types import Answer, EvidenceEvent, Passage

# [3] or [1, 2] or [2-4] in model text; matched on already-escaped text (escaping keeps them intact).
_MARKERS = re.compile(r"\[(\d+(?:\s*(?:,|-|\u2013)\s*\d+)*)\]")
DOT = " \u00b7 "


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


def flag_heading_html(question: str) -> str:
    """The heading of the 'Wrong answer' form: which answer is being marked."""
    return f'<p class="ba-flag-heading">Marking the answer to \u201c{esc(question)}\u201d as wrong</p>'


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
        meta = byline(p, section=False)
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


def byline(p: Passage | None, section: bool = True) -> str:
    """Source, date and section of a passage, joined by dots; `section=False` for the short form."""
    # Cards say what is missing ("undated"); the short list under an answer leaves it out.
    if p is None:
        return ""
    if not section:
        return DOT.join(x for x in (p.source, fmt_date(p.published_at) if p.published_at else "") if x)
    parts = [p.source or "source not given", fmt_date(p.published_at)]
    if p.section:
        parts.append(p.section)
    return DOT.join(parts)


# --- page chrome -------------------------------------------------------------------------------

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
