"""HTML for the Library tab: the article table, what an upload did, and one-line notices.

No gradio here. Titles, sources and file names are untrusted: all of it goes through render.esc().
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..types import Article, IngestReport
from .render import esc, fmt_date, plural

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
