"""HTML for a story timeline in the chat page (no gradio here; every input escaped via render.py).

`timeline_views` turns the items of `Assistant.timeline_stream` into what the page shows after
each one: the chat bubble, the sources panel and the reply's plain text (None until finished).
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

from .render import answer_html, esc, plural, status_html
from .render_sources import sources_html
from ..answer.timeline import TimelinePlan
from ..types import REFUSAL, Answer

Bodies = Callable[[Iterable[str]], dict[str, str]]


def entry_heading(entry: Answer) -> str:
    """"What changed" for the comparison, else the briefing date."""
    return "What changed" if entry.kind == "changes" else entry.as_of


def timeline_html(entries: Sequence[Answer], status: str = "") -> str:
    """The timeline in the chat: one section per date, oldest first, then what changed; a status line
    while more is coming."""
    sections = "".join(
        f'<section class="ba-tl-entry ba-tl-{esc(e.kind)}"><div class="ba-tl-date">{esc(entry_heading(e))}</div>'
        f"{answer_html(e)}</section>" for e in entries)
    if not entries and not status:
        sections = f'<div class="ba-refusal-text">{esc(REFUSAL)}</div>' \
                   '<div class="ba-meta">No briefing date has evidence for this question.</div>'
    return f'<div class="ba-timeline">{sections}{status_html(status) if status else ""}</div>'


def timeline_sources_html(entries: Sequence[Answer], bodies: dict[str, str]) -> str:
    """The sources panel for a timeline: each entry's cited sources under its date."""
    if not entries:
        return '<div class="ba-sources"><div class="ba-sources-head">No dated briefings answer this</div></div>'
    parts = [f'<div class="ba-sources-head ba-tl-date">{esc(entry_heading(e))}</div>{sources_html(e, bodies)}'
             for e in entries]
    return f'<div class="ba-sources">{"".join(parts)}</div>'


def timeline_text(entries: Sequence[Answer]) -> str:
    """The timeline as plain text for the conversation history."""
    return " ".join(f"{entry_heading(e)}: {e.text}" for e in entries) or REFUSAL


def timeline_views(items: Iterable[object], bodies: Bodies) -> Iterator[tuple[str, str, str | None]]:
    """(chat HTML, sources panel HTML, plain text or None) after each timeline item."""
    entries: list[Answer] = []
    dates: list[str] = []
    panel = timeline_sources_html([], {})
    yield timeline_html([], "Finding the dates with evidence\u2026"), panel, None
    for item in items:
        if isinstance(item, TimelinePlan):
            dates = item.dates
        elif isinstance(item, Answer):
            entries.append(item)
            panel = timeline_sources_html(entries, bodies(c.article_id for e in entries for c in e.citations))
        done = {e.as_of for e in entries if e.kind == "date"}
        left = [d for d in dates if d > max(done, default="")]
        status = (f"Answering for {left[0]} ({plural(len(left), 'date')} to go)\u2026" if left
                  else "Comparing the dates\u2026" if len(entries) >= 2 and entries[-1].kind != "changes" else "")
        yield timeline_html(entries, status), panel, None
    yield timeline_html(entries), panel, timeline_text(entries)


CSS = """
.ba-timeline { display:flex; flex-direction:column; gap:10px; }
.ba-tl-entry { border-left:3px solid #3b82f6; padding-left:10px; }
.ba-tl-changes { border-left-color:#a16207; }
.ba-tl-date { font-size:0.8rem; font-weight:700; text-transform:uppercase; letter-spacing:0.04em;
  color:var(--body-text-color-subdued); margin-bottom:2px; }
"""
