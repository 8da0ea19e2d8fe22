"""Web pages and RSS/Atom feeds as Articles. The only importer of httpx (and httpcore) and feedparser (HTML is
read by html.py, page text made into an Article by files.py, as a saved file would be).

Every way a download can go wrong (dead host, timeout, redirect loop, 4xx/5xx, not a page, too big,
no text) becomes one IngestFailure that says what to do; nothing half-read reaches the store,
because an Article is only built once the whole page has arrived and been extracted.
Extraction runs on the HTML we downloaded: trafilatura and feedparser are never handed a URL,
so they fetch nothing themselves.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Container, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpcore
import httpx

from ..config import Settings
from ..dates import parse_date
from ..errors import IngestError
from ..types import Article, IngestFailure
from . import encodings
from .files import article_from_page, article_from_parts, decode
from .html import read_html
from .netguard import public_addresses

_URL = re.compile(r"^https?://", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/plain", "text/markdown")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
_XML_TYPES = ("application/xml", "text/xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
_ACCEPT_PAGE = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
_ACCEPT_FEED = "application/rss+xml,application/atom+xml;q=0.9,application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.1"


def is_url(value: object) -> bool:
    """True for an http(s) URL; anything else given to ingest is a path."""
    return isinstance(value, str) and bool(_URL.match(value.strip()))


def normalize_url(url: str) -> str:
    """The URL with scheme and host lower-cased, the fragment dropped and an empty path as "/",
    so that the same page always gets the same article id."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def article_id_for(url_or_guid: str) -> str:
    """Stable article id of a web page or feed item: re-reading it updates one article, never adds one."""
    key = normalize_url(url_or_guid) if is_url(url_or_guid) else url_or_guid.strip()
    return "u-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Download:
    """A complete HTTP response body and what the server said about it."""

    url: str  # after redirects
    content_type: str  # media type only, lower case ("" when the server sent none)
    charset: str | None
    data: bytes


_DEADLINE: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read, write and TLS handshake ends by the fetch's deadline: httpx times
    each read only, so a server dripping one header line a second held a 5 s fetch for 40 s (64 KB of
    headers are allowed, times each redirect)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def _left(self, timeout: float | None, error: type[Exception]) -> float | None:
        deadline = _DEADLINE.get()
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            self._inner.close()  # the server gets nothing more from us either
            raise error("fetch deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses netguard.public_addresses has checked:
    the name is resolved once, checked, and the connection made to that very address (TLS still
    verifies the host name), so a DNS answer that changes between check and connect cannot reach a
    private address. Every stream it opens ends by the fetch's deadline (_DeadlineStream); with
    `allow_private` (and for a proxy's own connection) only the deadline is kept."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        deadline = _DEADLINE.get()
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.001)
            timeout = left if timeout is None else min(timeout, left)
        if self.allow_private:
            return _DeadlineStream(super().connect_tcp(host, port, timeout, local_address, socket_options))
        error: Exception | None = None
        for address in public_addresses(host, port, self.allow_private):
            try:
                return _DeadlineStream(super().connect_tcp(address, port, timeout, local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:  # try the next address, like the OS would
                error = exc
        assert error is not None  # public_addresses returns at least one address or raises
        raise error


def make_client(settings: Settings) -> httpx.Client:
    """An httpx client with the fetch settings: timeouts, redirect limit, User-Agent, and the address
    guard (netguard.py) on every request and redirect unless BRIEFING_FETCH__ALLOW_PRIVATE is set."""
    f = settings.fetch

    def check(request: httpx.Request) -> None:
        # Every hop, redirects included, and also when a proxy (HTTP(S)_PROXY) makes the connection
        # and the backend below only sees the proxy's address.
        if not f.allow_private:
            public_addresses(request.url.host, request.url.port, allow_private=False)

    client = httpx.Client(follow_redirects=True, max_redirects=f.max_redirects, timeout=httpx.Timeout(f.timeout_s),
                          headers={"User-Agent": f.user_agent}, event_hooks={"request": [check]})
    # httpx has no public hook for its network backend, so the direct transport's is replaced; env
    # proxies keep their own transports and address, with the deadline only. tests/test_fetch.py fails
    # if this stops refusing.
    client._transport._pool._network_backend = GuardedBackend(f.allow_private)  # noqa: SLF001
    for mount in client._mounts.values():  # noqa: SLF001
        if mount is not None and hasattr(mount, "_pool"):
            mount._pool._network_backend = GuardedBackend(allow_private=True)  # noqa: SLF001
    return client


def download(client: httpx.Client, url: str, settings: Settings, accept: str = _ACCEPT_PAGE) -> Download:
    """The whole body of `url`, within the size and time limits. Raises IngestError naming the fix."""
    f = settings.fetch
    max_bytes = int((f.max_mb if f.max_mb is not None else settings.max_file_mb) * 1e6)
    # One wall-clock deadline for the whole fetch: connecting, headers, every redirect and the body
    # (_DeadlineStream enforces it on the socket, the loop below between reads).
    deadline = time.monotonic() + f.timeout_s
    token = _DEADLINE.set(deadline)
    try:
        with client.stream("GET", url, headers={"Accept": accept, "Accept-Encoding": encodings.accept_encoding()}) as r:
            if r.status_code >= 400:
                raise IngestError(_status_message(r.status_code, r.reason_phrase))
            declared = r.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise IngestError(_too_big(int(declared), max_bytes))
            chunks, size = [], 0
            # Raw bytes: httpx would decode each read whole, however far it expands (encodings.py).
            for chunk in r.iter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise IngestError(_too_big(size, max_bytes, more=True))
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("download deadline")
                chunks.append(chunk)
            data = encodings.decode(b"".join(chunks), r.headers.get("content-encoding", ""), max_bytes,
                                    lambda: _too_big(0, max_bytes, more=True))
            media, _, params = r.headers.get("content-type", "").partition(";")
            charset = re.search(r"charset=[\"']?([\w-]+)", params, re.I)
            return Download(url=str(r.url), content_type=media.strip().lower(),
                            charset=charset.group(1) if charset else None, data=data)
    except httpx.TooManyRedirects as exc:
        raise IngestError(f"more than {f.max_redirects} redirects (a redirect loop?); open the URL in a browser "
                          "and give the address it ends on (BRIEFING_FETCH__MAX_REDIRECTS raises the limit)") from exc
    except httpx.TimeoutException as exc:
        raise IngestError(f"no complete answer within {f.timeout_s:g} s; try again later or raise "
                          "BRIEFING_FETCH__TIMEOUT_S") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise IngestError(f"not a valid http(s) URL ({exc})") from exc
    except httpx.ConnectError as exc:
        raise IngestError(f"cannot connect ({_reason(exc)}); check the address and your network") from exc
    except httpx.HTTPError as exc:
        raise IngestError(f"download failed ({_reason(exc)}); try again later") from exc
    finally:
        _DEADLINE.reset(token)


def fetch_url(url: str, settings: Settings, client: httpx.Client | None = None) -> Article:
    """One web page as an Article: text, title, author, published date (trafilatura), `url` and `source`.

    Accepts HTML and plain text; anything else (images, PDFs, JSON, feeds) raises IngestError saying
    what to do instead, as do HTTP errors, timeouts and redirect loops.
    """
    if client is None:
        with make_client(settings) as own:
            return fetch_url(url, settings, own)
    got = download(client, url, settings)
    kind = _page_kind(got)
    if kind == "text":
        art = article_from_page(decode(got.data), {"url": got.url, "source": _host(got.url)}, origin=url, html=False)
    else:
        art = extract_article(_html_text(got), got.url, origin=url)
    return replace(art, id=article_id_for(url))


def extract_article(html: str, url: str, origin: str) -> Article:
    """Article text and metadata from downloaded HTML (`read_html`), with the URL and its host as
    the defaults for `url` and `source`."""
    body, meta, headings = read_html(html, url)
    merged = {"url": url, "source": _host(url), **{k: v for k, v in meta.items() if v}}
    merged["source"] = source_label(str(merged["source"]), url)
    try:
        art = article_from_parts(body, merged, headings, origin=origin)
    except IngestError as exc:
        raise IngestError("no article text found on the page; if it needs JavaScript or a login, open it in "
                          "a browser, save it as HTML and ingest that file (it is read the same way)") from exc
    return replace(art, author=str(merged.get("author", "")))


def read_feed(url: str, settings: Settings, known: Container[str] = frozenset(),
              client: httpx.Client | None = None) -> Iterator[Article | IngestFailure]:
    """The new items of an RSS/Atom feed as Articles, newest first as the feed lists them.

    Items whose link, id or article id is in `known` are skipped, so reading a feed twice adds
    nothing the second time. Each item's page is fetched for the full text; when that fails, the
    feed's own content or summary stands in, and only an item with neither becomes a failure.
    """
    if client is None:
        with make_client(settings) as own:
            yield from read_feed(url, settings, known, own)
        return
    try:
        got = download(client, url, settings, accept=_ACCEPT_FEED)
    except IngestError as exc:
        yield IngestFailure(url, f"feed: {exc}")
        return
    import feedparser  # ~0.2 s to import, and only a feed needs it

    # A file object, never a string: feedparser.parse() fetches a string that looks like a URL.
    parsed = feedparser.parse(io.BytesIO(got.data), response_headers={
        "content-type": got.content_type or "application/xml", "content-location": got.url})
    if not parsed.entries and (parsed.bozo or not parsed.version):
        why = f" ({parsed.get('bozo_exception')})" if parsed.get("bozo_exception") else ""
        yield IngestFailure(url, f"not an RSS or Atom feed{why}; give the feed's own address (often /feed, /rss "
                                 "or /atom.xml), or ingest a page with `briefing ingest URL`")
        return
    channel = str(parsed.feed.get("title", "") or "").strip()
    seen: set[str] = set()
    for n, entry in enumerate(parsed.entries[: settings.fetch.max_feed_items], 1):
        link = str(entry.get("link", "") or "").strip()
        key = link or str(entry.get("id", "") or "").strip()
        if not key:
            yield IngestFailure(f"{url} item {n}", "feed item has neither a link nor an id")
            continue
        ids = {key, article_id_for(key), str(entry.get("id", "") or "")} - {""}
        if key in seen or any(i in known for i in ids):
            continue
        seen.add(key)
        yield _feed_item(client, entry, link, key, channel, settings)


def _feed_item(client: httpx.Client, entry: Any, link: str, key: str, channel: str,
               settings: Settings) -> Article | IngestFailure:
    published = parse_date(entry.get("published") or entry.get("updated"))
    if published is None:
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")  # UTC struct_time from feedparser
        published = parse_date(calendar.timegm(stamp)) if stamp else None
    title = str(entry.get("title", "") or "").strip()
    page_error = "the item has no link"
    art: Article | None = None
    if link:
        try:
            art = fetch_url(link, settings, client)
        except IngestError as exc:
            page_error = str(exc)
    if art is None:
        contents = entry.get("content") or []
        summary = (contents[0].get("value") if contents else None) or entry.get("summary") or ""
        try:
            art = article_from_page(f"<html><body><article>{summary}</article></body></html>",
                                    {"title": title, "url": link, "source": source_label(channel, link)},
                                    origin=key, html=True)
        except IngestError:
            return IngestFailure(link or key, f"{page_error}; the feed item has no summary to fall back on")
    # The feed's title and date are structured data; the page's are guesses from its HTML.
    return replace(art, id=article_id_for(key), origin=key, url=link or art.url, title=title or art.title,
                   published_at=published or art.published_at,
                   source=source_label(channel, link) if channel and art.source in ("", _host(art.url)) else art.source,
                   author=art.author or str(entry.get("author", "") or ""))


def source_label(name: str, url: str) -> str:
    """The source a page names itself (og:site_name, a feed's title) with the host it came from beside
    it, unless the name is the host's own: any site can call itself "Reuters"; "Reuters (evil.example)"
    says who really served it."""
    host = _host(url)
    if not host or not name.strip():
        return name.strip() or host
    squeeze = re.sub(r"[\W_]+", "", name.casefold())
    if squeeze and squeeze in re.sub(r"[\W_]+", "", host.casefold()):
        return name.strip()
    return f"{name.strip()} ({host})"


def _page_kind(got: Download) -> str:
    t = got.content_type
    if t in _HTML_TYPES:
        return "html"
    if t in _TEXT_TYPES:
        return "text"
    if t in _FEED_TYPES or (t in _XML_TYPES and re.search(rb"<(rss|feed|rdf:RDF)[\s>]", got.data[:2048])):
        raise IngestError("this is an RSS/Atom feed, not a page; use `briefing ingest --feed URL`")
    if not t and got.data.lstrip()[:1] == b"<":
        return "html"  # no content type: markup is read as a page
    what = t or "unknown content"
    raise IngestError(f"not a web page ({what}); give the URL of an HTML article, or download the file "
                      "and ingest it (txt, md, html, json, jsonl)")


def _html_text(got: Download) -> str:
    charset = got.charset
    if charset is None:
        m = _META_CHARSET.search(got.data[:4096])
        charset = m.group(1).decode("ascii", "replace") if m else None
    if charset:
        try:
            return got.data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(got.data)  # UTF-8, else Windows-1252; rejects binary content


def _status_message(code: int, reason: str) -> str:
    head = f"HTTP {code} {reason}".strip()
    if code in (404, 410):
        return f"{head}: the page is not there; check the URL"
    if code in (401, 403):
        return (f"{head}: the site refuses the download (it may need a login); open the page in a browser, "
                "save it as HTML and ingest that file: it is read with the same extraction as a URL")
    if code == 429:
        return f"{head}: the site is rate limiting; try again later"
    if code >= 500:
        return f"{head}: the site has a server error; try again later"
    return f"{head}: the site refused the request; check the URL"


def _too_big(size: int, max_bytes: int, more: bool = False) -> str:
    amount = f"more than {max_bytes / 1e6:g} MB" if more else f"{size / 1e6:.1f} MB"
    return f"page is {amount}, over the {max_bytes / 1e6:g} MB limit (BRIEFING_FETCH__MAX_MB)"


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:160]
