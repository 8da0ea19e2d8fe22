"""An answer's citations in the two forms chat clients show: a sources footer in the message text, and
OpenAI-style `url_citation` annotations.

Open WebUI, LibreChat and `llm` show the message content and nothing else, so `[n]` markers stay bare unless the
sources travel in the content itself. The footer is Markdown that also reads as plain text:

    <answer with [1] markers>

    ---
    Sources:

    [1] Title — Source, 2025-04-02 — https://example.com/story
    > “The quoted sentence.”

Entries are numbered by the answer's own keys (not renumbered: "[3]" in the answer is "[3]" below), in key
order. Titles, sources and quotes come from the articles, untrusted text: the characters that would make a
link, an image or HTML in a Markdown client are escaped, and only http(s) URLs are shown. Annotations
point each `[n]` marker of the answer (character offsets into the content, Python string indices) at its
article's URL; markers whose article has no http(s) URL get none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

FOOTER_RULE = "\n\n---\nSources:\n"
_MARKER = re.compile(r"\[(\d+)\]")
_URL = re.compile(r"https?://[^\s<>\"'`\\]+", re.IGNORECASE)
# Markdown that turns untrusted text into a link ("[x](url)"), an image ("![x](url)", loaded on display)
# or HTML ("<img ...>"); escaped with a backslash, which Markdown hides and plain text shows.
_ACTIVE = re.compile(r"([\\`\[\]<>])")


@dataclass(frozen=True)
class SourceEntry:
    """One numbered source of an answer: the article behind key `key` and the sentences quoted from it."""

    key: int
    title: str
    source: str
    date: str  # ISO date of the briefing, "" when undated
    url: str  # "" unless the article has an http(s) URL
    quotes: tuple[str, ...]


def source_entries(citations: Iterable[dict[str, Any]]) -> list[SourceEntry]:
    """The cited sources, one per key in key order, from citation records (records.citation_record shape);
    a key cited by several sentences quotes each distinct sentence once."""
    first: dict[int, dict[str, Any]] = {}
    quotes: dict[int, list[str]] = {}
    for c in citations:
        key = int(c["key"])
        first.setdefault(key, c)
        quote = _one_line(c.get("quote", ""))
        if quote and quote not in quotes.setdefault(key, []):
            quotes[key].append(quote)
    return [SourceEntry(key=k, title=_one_line(c.get("title", "")), source=_one_line(c.get("source", "")),
                        date=str(c.get("date") or ""), url=safe_url(c.get("url", "")), quotes=tuple(quotes.get(k, [])))
            for k, c in sorted(first.items())]


def sources_footer(citations: Iterable[dict[str, Any]]) -> str:
    """The footer to append to the answer text ("" when nothing is cited, as for a refusal)."""
    entries = source_entries(citations)
    if not entries:
        return ""
    return FOOTER_RULE + "".join("\n" + _entry_text(e) + "\n" for e in entries).rstrip("\n")


def without_footer(text: str) -> str:
    """`text` without a sources footer at its end: an answer the client sends back as history is the answer
    again, not its sources (the quotes would fill the history limit and reach the follow-up rewrite)."""
    cut = text.rfind(FOOTER_RULE.strip("\n"))
    return text[:cut].rstrip() if cut >= 0 else text


def without_footers(messages: Any) -> Any:
    """OpenAI-style `messages` with the footer taken off every assistant message's text (other messages, and
    anything that is not a list of dicts, unchanged)."""
    if not isinstance(messages, list):
        return messages
    return [{**m, "content": without_footer(m["content"])}
            if isinstance(m, dict) and m.get("role") == "assistant" and isinstance(m.get("content"), str) else m
            for m in messages]


def url_annotations(answer_text: str, citations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI `url_citation` annotations for the `[n]` markers of `answer_text` (the content before any
    footer, so offsets hold for the content with or without it): one per marker whose key was cited and
    whose article has an http(s) URL, in text order."""
    by_key = {e.key: e for e in source_entries(citations)}
    out = []
    for m in _MARKER.finditer(answer_text):
        entry = by_key.get(int(m.group(1)))
        if entry is None or not entry.url:
            continue
        out.append({"type": "url_citation",
                    "url_citation": {"start_index": m.start(), "end_index": m.end(), "url": entry.url,
                                     "title": entry.title or entry.source or entry.url}})
    return out


def safe_url(url: Any) -> str:
    """`url` when it is a plain http(s) URL (no spaces, quotes or angle brackets), else ""."""
    text = str(url or "").strip()
    return text if _URL.fullmatch(text) else ""


def _entry_text(e: SourceEntry) -> str:
    meta = [_escape(e.title) or "Untitled", ", ".join(x for x in (_escape(e.source), e.date or "undated") if x)]
    if e.url:
        meta.append(e.url)
    lines = [f"[{e.key}] " + " \u2014 ".join(meta)]
    for i, quote in enumerate(e.quotes):
        lines += ([">"] if i else []) + [f"> \u201c{_escape(quote)}\u201d"]
    return "\n".join(lines)


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def _escape(text: str) -> str:
    return _ACTIVE.sub(r"\\\1", text)


__all__ = ["SourceEntry", "source_entries", "sources_footer", "url_annotations", "safe_url", "without_footer",
           "without_footers"]
