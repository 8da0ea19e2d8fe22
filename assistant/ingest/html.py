"""Reading HTML, for downloaded pages, local .html files and feed summaries alike. The only importer of
trafilatura and BeautifulSoup.

`read_html` is the one reader: trafilatura finds the article's main text and headings (its XML
output, laid out by the block reader below), the page's own tags give the metadata. The block
reader (`html_parts`) alone is the fallback for pages too small for trafilatura.
"""

from __future__ import annotations

import html as _html
import re
import time
from typing import Any
from urllib.parse import urlsplit

Heading = tuple[int, int, int]  # start, end, level (1 = top section, 2 = sub-headline)

_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head", "nav", "footer", "form")
_BLOCK_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "th", "dt", "dd", "figcaption")


def read_html(html: str, url: str = "") -> tuple[str, dict[str, Any], list[tuple[int, int, int]]]:
    """The one HTML reader, for downloaded pages, local .html files and feed summaries alike:
    (body, metadata, headings). trafilatura finds the main text (dropping menus, footers, related
    links) and keeps its headings, which become sections; the page's own tags (og:title, <title>,
    article:published_time, <time datetime>, og:site_name) give the metadata, trafilatura's filling
    what they miss. Pages too short or odd for trafilatura are read block by block (html_parts).
    Offline: trafilatura is handed the HTML, never a URL."""
    import trafilatura  # ~0.5 s to import: kept lazy for start-up time, like BeautifulSoup below

    body, meta, headings = html_parts(html)
    params = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z",
              "max_date": time.strftime("%Y-%m-%d")}
    # favor_precision: without it a short page falls back to trafilatura's baseline, one paragraph of
    # everything (headings, <noscript> text) run together.
    xml = trafilatura.extract(html, url=url or None, output_format="xml", with_metadata=True,
                              favor_precision=True, include_formatting=True, include_comments=False, include_tables=True,
                              include_images=False, include_links=False, date_extraction_params=params)
    if not xml:
        return body, meta, headings
    doc = _doc_attrs(xml)
    if doc.get("title"):
        meta["title"] = doc["title"]  # trafilatura trims "| Site name" tails off <title>
    if not meta.get("date") and doc.get("date"):
        meta["date"] = doc["date"]  # the page's own tags keep the time of day; trafilatura's the day only
    site = doc.get("sitename", "")
    if site and site.lower() not in _hosts(url):  # without a site name trafilatura answers with the host
        meta["source"] = site
    if doc.get("author"):
        meta["author"] = doc["author"]
    main_body, _, main_headings = html_parts(_xml_to_html(xml))
    if main_body.strip():
        return main_body, meta, main_headings
    return body, meta, headings


def _doc_attrs(xml: str) -> dict[str, str]:
    head = re.match(r"\s*<doc\b([^>]*)>", xml)
    if not head:
        return {}
    return {k: _html.unescape(v).strip() for k, v in re.findall(r'(\w+)="([^"]*)"', head.group(1))}


_XML_TO_HTML = [(re.compile(p, re.S), r) for p, r in (
    (r"<comments\b.*?</comments>|<comments/>", ""),
    (r'<head rend="(h[1-6])">(.*?)</head>', r"<\1>\2</\1>"),
    (r"<head\b[^>]*>(.*?)</head>", r"<h2>\1</h2>"),
    (r"</?hi\b[^>]*>", ""),
    (r"<lb/>", "<br/>"),
    (r"<(/?)item\b[^>]*>", r"<\1li>"), (r"<(/?)list\b[^>]*>", r"<\1ul>"),
    (r"<(/?)quote\b[^>]*>", r"<\1blockquote>"),
    (r"<(/?)row\b[^>]*>", r"<\1tr>"), (r"<(/?)cell\b[^>]*>", r"<\1td>"),
)]


def _xml_to_html(xml: str) -> str:
    """trafilatura's XML (<head rend="h2">, <p>, <list><item>, <hi>...) as the HTML the block reader reads."""
    for pattern, repl in _XML_TO_HTML:
        xml = pattern.sub(repl, xml)
    return f"<html><body><article>{xml}</article></body></html>"


def html_parts(html: str) -> tuple[str, dict, list[Heading]]:
    """The block-by-block HTML reader (BeautifulSoup): body, page metadata tags, headings. read_html
    uses it for the page's metadata, to lay out trafilatura's main text, and for pages too small for it."""
    return _from_html(html)


def _from_html(html: str) -> tuple[str, dict, list[Heading]]:
    from bs4 import BeautifulSoup  # parsing only; kept lazy for start-up time

    soup = BeautifulSoup(html, "html.parser")
    meta: dict = {}
    title_tag = soup.find("meta", attrs={"property": "og:title"}) or None
    meta["title"] = (title_tag.get("content") if title_tag else None) or (soup.title.get_text(" ", strip=True) if soup.title else "")
    for attrs in ({"property": "article:published_time"}, {"name": "date"}, {"name": "pubdate"},
                  {"itemprop": "datePublished"}, {"name": "dc.date"}):
        tag = soup.find("meta", attrs=attrs)
        if tag and tag.get("content"):
            meta["date"] = tag["content"]
            break
    if "date" not in meta:
        t = soup.find("time", attrs={"datetime": True})
        if t:
            meta["date"] = t["datetime"]
    for attrs in ({"property": "og:site_name"}, {"name": "author"}):
        tag = soup.find("meta", attrs=attrs)
        if tag and tag.get("content"):
            meta.setdefault("source", tag["content"])
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with(" ")
    root = soup.find("article") or soup.find("main") or soup.body or soup
    parts: list[str] = []
    headings: list[Heading] = []
    pos = 0
    blocks = root.find_all(_BLOCK_TAGS) or [root]
    for block in blocks:
        if block.find(_BLOCK_TAGS):  # an outer block whose inner blocks are visited on their own
            continue
        # No separator between inline tags: "<b>Washington</b>." must read "Washington.", not "Washington ."
        text = " ".join(block.get_text().split())
        if not text:
            continue
        if block.name and block.name[0] == "h" and block.name[1:].isdigit():
            headings.append((pos, pos + len(text), 1 if block.name in ("h1", "h2") else 2))
        parts.append(text)
        pos += len(text) + 1
    body = "\n".join(parts)
    if not meta["title"] and headings:
        meta["title"] = body[headings[0][0]:headings[0][1]]
    return body, meta, headings


def _hosts(url: str) -> set[str]:
    parts = urlsplit(url)
    names = {parts.netloc.lower(), (parts.hostname or "").lower()}
    return names | {n[4:] for n in names if n.startswith("www.")}
