"""URL and RSS/Atom ingest against a real HTTP server on 127.0.0.1 serving fixture pages and feeds."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler

import pytest

from assistant.app import cli
from assistant.ingest.web import article_id_for, extract_article, fetch_url, is_url, read_feed
from ..support.http_fixture import serving

PARA = ("The Russian envoy arrived in Washington on Thursday for talks that many Western experts suspect "
        "are a way of stalling for time. Officials said the meetings would continue into next week, with "
        "sanctions relief and prisoner exchanges on the agenda. ")


def page(title: str, paragraphs: list[str], meta: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title} | Example Wire</title>{meta}</head>"
            f"<body><nav><a href='/'>Home</a> | <a href='/world'>World</a></nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>Copyright Example Wire</footer></body></html>").encode()


ARTICLE = page("Envoy visits Washington", [
    PARA,
    "Kirill Dmitriev met members of the administration and said the sides had made progress on a framework.",
    "European diplomats were not invited, and several said privately that they feared a deal over their heads.",
], meta=("<meta property='og:site_name' content='Example Wire'><meta name='author' content='Jane Doe'>"
         "<meta property='article:published_time' content='2026-11-27T09:30:00Z'>"))
NEWS_1 = page("Talks resume in Geneva", [
    "Negotiators from both delegations returned to Geneva on Friday for a second round of technical talks.",
    "The chief negotiator said a ceasefire along the front line remained the first item on the agenda.",
], meta="<meta property='article:published_time' content='2026-11-26T08:00:00Z'>")
ATOM_PAGE = page("Grain corridor reopens", [
    "Ships carrying grain left Odesa on Wednesday after the corridor reopened under a new inspection regime.",
    "Insurers said premiums would fall if the corridor stayed open for a month without incidents.",
])

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Example Wire World</title><link>http://HOST/</link>
<description>World news</description>
<item><title>Talks resume in Geneva</title><link>http://HOST/news/1.html</link>
  <guid>http://HOST/news/1.html</guid><pubDate>Thu, 26 Nov 2026 08:00:00 GMT</pubDate>
  <description>Short teaser only.</description></item>
<item><title>Envoy leaves without a deal</title><link>http://HOST/news/removed.html</link>
  <pubDate>Fri, 27 Nov 2026 18:15:00 +0100</pubDate>
  <description>&lt;p&gt;The envoy left Washington on Friday evening without a signed framework, officials said.&lt;/p&gt;</description></item>
<item><title>Nothing to read</title><link>http://HOST/news/gone.html</link>
  <pubDate>Sat, 28 Nov 2026 06:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour Monitor</title><id>urn:uuid:feed-1</id>
<updated>2026-11-25T10:00:00Z</updated>
<entry><title>Grain corridor reopens</title><id>urn:uuid:entry-1</id>
  <link href="http://HOST/atom/grain.html"/><published>2026-11-25T10:00:00Z</published><updated>2026-11-25T10:00:00Z</updated>
  <author><name>Ana Petrova</name></author><summary>Ships left Odesa.</summary></entry>
<entry><title>Port fees rise</title><id>urn:uuid:entry-2</id>
  <updated>2026-11-24T07:00:00Z</updated>
  <content type="html">&lt;p&gt;Port fees at Constanta rose by a tenth on Tuesday, the port authority said in a statement.&lt;/p&gt;</content></entry>
</feed>"""


class Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    routes: dict = {}

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Handler.hits[self.path] += 1
        host = f"{self.server.server_address[0]}:{self.server.server_address[1]}".encode()
        route = Handler.routes.get(self.path)
        if route is None:
            return self._send(404, "text/html", b"<h1>Not found</h1>")
        if callable(route):
            return route(self, host)
        status, ctype, body = route
        self._send(status, ctype, body.replace(b"HOST", host))

    def _send(self, status: int, ctype: str, body: bytes, length: bool = True, headers: dict | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _redirect(to: str):
    def go(h: Handler, host: bytes) -> None:
        h._send(302, "text/html", b"", headers={"Location": to})
    return go


def _slow(h: Handler, host: bytes) -> None:
    time.sleep(2.0)
    h._send(200, "text/html", ARTICLE)


def _drip(h: Handler, host: bytes) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.end_headers()
    for _ in range(30):  # every read is quick, the whole download is not
        try:
            h.wfile.write(b"<p>drip</p>")
            h.wfile.flush()
        except OSError:
            return
        time.sleep(0.1)


def _huge_unannounced(h: Handler, host: bytes) -> None:
    h.protocol_version = "HTTP/1.0"  # no Content-Length: the body ends when the connection closes
    h._send(200, "text/html", b"<html><body>" + b"<p>" + b"x" * 200_000 + b"</p></body></html>", length=False)
    h.close_connection = True


Handler.routes = {
    "/article.html": (200, "text/html; charset=utf-8", ARTICLE),
    "/news/1.html": (200, "text/html", NEWS_1),
    "/atom/grain.html": (200, "text/html", ATOM_PAGE),
    "/plain.txt": (200, "text/plain; charset=utf-8", (PARA * 3).encode()),
    "/r/1": _redirect("/r/2"), "/r/2": _redirect("/r/3"), "/r/3": _redirect("/article.html"),
    "/loop/a": _redirect("/loop/b"), "/loop/b": _redirect("/loop/a"),
    "/error": (500, "text/html", b"<h1>Internal Server Error</h1>"),
    "/forbidden": (403, "text/html", b"<h1>Forbidden</h1>"),
    "/slow": _slow,
    "/drip": _drip,
    "/image.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000),
    "/data.json": (200, "application/json", b'{"body": "x"}'),
    "/huge": (200, "text/html", b"<p>" + b"y" * 200_000 + b"</p>"),
    "/huge-unannounced": _huge_unannounced,
    "/empty.html": (200, "text/html", b"<html><head><title>Nothing</title></head><body></body></html>"),
    "/feed.rss": (200, "application/rss+xml", RSS),
    "/feed.atom": (200, "application/atom+xml", ATOM),
    "/as-page.xml": (200, "application/rss+xml", RSS),
}


@pytest.fixture(scope="module")
def server():
    with serving(Handler) as url:
        yield url


@pytest.fixture
def fast(fake_assistant):
    """The fake assistant with short fetch limits, so timeout and size cases take a second, not minutes."""
    f = fake_assistant.settings.fetch
    f.timeout_s, f.max_mb, f.max_redirects = 0.8, 0.05, 5
    f.allow_private = True  # the fixture server is on 127.0.0.1; tests/component/test_fetch.py::test_ssrf* turn it off
    Handler.hits.clear()
    return fake_assistant


def test_is_url_and_stable_ids():
    assert is_url("https://example.com/a") and is_url("HTTP://x") and not is_url("briefings/a.html")
    assert not is_url("file:///etc/passwd")
    assert article_id_for("HTTPS://Example.com/a#top") == article_id_for("https://example.com/a")
    assert article_id_for("https://example.com") == article_id_for("https://example.com/")


def test_fetch_article_text_and_metadata(server, fast):
    art = fetch_url(f"{server}/article.html", fast.settings)
    assert art.title == "Envoy visits Washington"
    assert art.author == "Jane Doe"
    assert art.source == "Example Wire (127.0.0.1)"  # the site's own name, and the host that served it
    assert art.published_at == datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    assert art.url == f"{server}/article.html" and art.origin == art.url
    assert art.id == article_id_for(art.url)
    assert "stalling for time" in art.body and "European diplomats" in art.body
    assert "Copyright" not in art.body and "Home" not in art.body  # boilerplate left out


def test_ingest_url_then_again_is_unchanged(server, fast):
    url = f"{server}/article.html"
    first = fast.ingest([url])
    assert first.failed == [] and first.added == [article_id_for(url)] and first.chunks_written >= 1
    stored = fast.article(article_id_for(url))
    assert stored is not None and stored.url == url and stored.source == "Example Wire (127.0.0.1)"
    assert stored.published_at == datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    again = fast.ingest([url])
    assert again.added == [] and again.unchanged == [article_id_for(url)]
    hits = fast.search("envoy Washington stalling", k=3)
    assert hits and hits[0].url == url and hits[0].published_at is not None


def test_urls_mixed_with_files(server, fast, seed_dir):
    report = fast.ingest([seed_dir, f"{server}/plain.txt", f"{server}/missing"])
    assert len(report.added) == 2
    assert [f.where for f in report.failed] == [f"{server}/missing"]
    plain = fast.article(article_id_for(f"{server}/plain.txt"))
    assert plain is not None and plain.source == "127.0.0.1" and "stalling for time" in plain.body


def test_redirect_chain_is_followed(server, fast):
    art = fetch_url(f"{server}/r/1", fast.settings)
    assert art.url == f"{server}/article.html"  # where the page really is
    assert art.id == article_id_for(f"{server}/r/1")  # the address the user gave names the article
    assert Handler.hits["/r/1"] == Handler.hits["/r/3"] == 1


@pytest.mark.parametrize("path, words", [
    ("/nowhere", ["HTTP 404", "check the URL"]),
    ("/error", ["HTTP 500", "server error", "try again later"]),
    ("/forbidden", ["HTTP 403", "save it as HTML", "same extraction"]),
    ("/loop/a", ["more than 5 redirects", "redirect loop", "BRIEFING_FETCH__MAX_REDIRECTS"]),
    ("/slow", ["within 0.8 s", "BRIEFING_FETCH__TIMEOUT_S"]),
    ("/drip", ["within 0.8 s"]),
    ("/image.png", ["not a web page (image/png)", "download the file"]),
    ("/data.json", ["not a web page (application/json)"]),
    ("/huge", ["0.2 MB", "over the 0.05 MB limit", "BRIEFING_FETCH__MAX_MB"]),
    ("/huge-unannounced", ["more than 0.05 MB", "BRIEFING_FETCH__MAX_MB"]),
    ("/empty.html", ["no article text found"]),
    ("/as-page.xml", ["RSS/Atom feed", "--feed"]),
])
def test_each_bad_url_is_one_clear_failure_and_stores_nothing(server, fast, path, words):
    fast.ingest([f"{server}/article.html"])
    before = fast.store.article_records()
    chunks = fast.store.count()
    started = time.monotonic()
    report = fast.ingest([f"{server}{path}"])
    assert time.monotonic() - started < 5
    assert report.added == report.updated == report.unchanged == []
    assert len(report.failed) == 1 and report.failed[0].where == f"{server}{path}"
    for w in words:
        assert w in report.failed[0].reason, report.failed[0].reason
    assert fast.store.article_records() == before and fast.store.count() == chunks


def test_dead_host_is_a_failure_not_a_crash(fast):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    report = fast.ingest([f"http://127.0.0.1:{port}/x"])
    assert len(report.failed) == 1 and "cannot connect" in report.failed[0].reason


def test_rss_feed_new_items_only(server, fast):
    url = f"{server}/feed.rss"
    first = fast.ingest_feed(url)
    ids = {article_id_for(f"{server}/news/1.html"), article_id_for(f"{server}/news/removed.html")}
    assert set(first.added) == ids
    # The item whose page is gone and that has no summary is the one failure, and says both.
    assert [f.where for f in first.failed] == [f"{server}/news/gone.html"]
    assert "HTTP 404" in first.failed[0].reason and "no summary" in first.failed[0].reason
    full = fast.article(article_id_for(f"{server}/news/1.html"))
    assert full.title == "Talks resume in Geneva" and "ceasefire along the front line" in full.body  # the page, not the teaser
    assert full.published_at == datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
    assert full.source == "Example Wire World (127.0.0.1)"  # no site name on the page: the feed's title, and the host
    teaser = fast.article(article_id_for(f"{server}/news/removed.html"))  # page 404: the feed's description stands in
    assert "without a signed framework" in teaser.body and teaser.source == "Example Wire World (127.0.0.1)"
    assert teaser.published_at == datetime(2026, 11, 27, 17, 15, tzinfo=timezone.utc)  # RFC 822 +0100 -> UTC
    pages = Handler.hits["/news/1.html"]

    second = fast.ingest_feed(url)
    assert second.added == [] and second.updated == []
    assert Handler.hits["/news/1.html"] == pages  # known items are not fetched again
    assert [f.where for f in second.failed] == [f"{server}/news/gone.html"]  # never stored, so tried again


def test_atom_feed_with_guid_only_item(server, fast):
    report = fast.ingest([], feed=f"{server}/feed.atom")
    assert report.failed == [] and len(report.added) == 2
    grain = fast.article(article_id_for(f"{server}/atom/grain.html"))
    assert grain.title == "Grain corridor reopens" and "inspection regime" in grain.body
    assert grain.published_at == datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)
    fees = fast.article(article_id_for("urn:uuid:entry-2"))  # no link: the id names it, the content is the text
    assert "Port fees at Constanta" in fees.body and fees.source == "Harbour Monitor"
    assert fees.published_at == datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc)
    assert fast.ingest_feed(f"{server}/feed.atom").added == []


def test_feed_url_that_is_not_a_feed(server, fast):
    report = fast.ingest_feed(f"{server}/article.html")
    assert len(report.failed) == 1 and "not an RSS or Atom feed" in report.failed[0].reason
    missing = fast.ingest_feed(f"{server}/nofeed.xml")
    assert "feed: HTTP 404" in missing.failed[0].reason


def test_read_feed_skips_known_without_a_store(server, fast):
    items = list(read_feed(f"{server}/feed.atom", fast.settings, known={f"{server}/atom/grain.html"}))
    assert [i.id for i in items] == [article_id_for("urn:uuid:entry-2")]


def test_feed_parser_and_extractor_never_fetch(monkeypatch):
    """trafilatura and feedparser only get bytes we downloaded: with sockets refused they still work."""
    import socket

    def refuse(*a, **k):
        raise AssertionError("network access during extraction")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    art = extract_article(ARTICLE.decode(), "https://wire.example/a", origin="https://wire.example/a")
    assert art.title == "Envoy visits Washington" and art.author == "Jane Doe"
    import io

    import feedparser

    parsed = feedparser.parse(io.BytesIO(ATOM))
    assert len(parsed.entries) == 2


def test_cli_ingest_url_and_feed_json(server, fast, capsys):
    factory = lambda **overrides: fast  # noqa: E731 - the CLI builds its assistant with this
    assert cli.main(["ingest", f"{server}/article.html", "--json"], factory=factory) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["added"] == [article_id_for(f"{server}/article.html")] and out["failed"] == []
    assert cli.main(["ingest", "--feed", f"{server}/feed.atom", "--json"], factory=factory) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["added"]) == 2 and set(out) >= {"added", "unchanged", "updated", "failed"}
    assert cli.main(["ingest", f"{server}/error"], factory=factory) == cli.EXIT_INPUT_FAILED  # 3: an input failed
    assert "HTTP 500" in capsys.readouterr().out
    assert cli.main(["ingest"], factory=factory) == 2


# --- server-side request forgery: only public addresses unless BRIEFING_FETCH__ALLOW_PRIVATE ---------

@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("fc00::1", "private"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("100.64.0.1", "non-public"), ("240.0.0.1", "private"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"), ("64:ff9b::a00:1", "private"), ("::127.0.0.1", "loopback"),
])
def test_ssrf_addresses_that_are_not_public_are_named(address, kind):
    from assistant.ingest.netguard import blocked_kind

    assert blocked_kind(address) == kind
    for public in ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert blocked_kind(public) == ""


@pytest.fixture
def second_server():
    """Another fixture server, on 127.0.0.2: a private service a redirect or a rebinding name might aim at."""
    with serving(Handler, host="127.0.0.2") as url:
        yield url


def _only_127_0_0_1_is_public(monkeypatch) -> None:
    """The fixture server on 127.0.0.1 stands in for a public site; every other address keeps its real kind."""
    try:
        from assistant.ingest import netguard
    except ImportError:  # the code before the guard existed: nothing to adjust
        return
    real = netguard.blocked_kind
    monkeypatch.setattr(netguard, "blocked_kind", lambda a: "" if a == "127.0.0.1" else real(a))


def test_ssrf_loopback_urls_names_and_literals_are_refused(server, fast):
    fast.settings.fetch.allow_private = False
    port = server.rsplit(":", 1)[1]
    urls = [f"{server}/article.html", f"http://localhost:{port}/article.html", f"http://[::1]:{port}/article.html",
            f"http://[::ffff:127.0.0.1]:{port}/article.html", f"http://2130706433:{port}/article.html"]
    report = fast.ingest(urls)
    assert len(report.failed) == len(urls) and not report.added
    for failure in report.failed:
        assert "ALLOW_PRIVATE" in failure.reason and ("refused" in failure.reason or "not found" in failure.reason)
    assert sum(Handler.hits.values()) == 0  # not one request reached the server
    feed = fast.ingest_feed(f"{server}/feed.rss")
    assert len(feed.failed) == 1 and "loopback" in feed.failed[0].reason and sum(Handler.hits.values()) == 0
    fast.settings.fetch.allow_private = True  # and the setting lets the same page in
    assert fast.ingest([f"{server}/article.html"]).added


def test_ssrf_redirect_from_a_public_page_to_a_private_one_is_refused(server, second_server, fast, monkeypatch):
    fast.settings.fetch.allow_private = False
    _only_127_0_0_1_is_public(monkeypatch)
    Handler.routes["/to-private"] = _redirect(f"{second_server}/article.html")
    try:
        assert fast.ingest([f"{server}/article.html"]).added  # the "public" site itself is fine
        report = fast.ingest([f"{server}/to-private"])
    finally:
        del Handler.routes["/to-private"]
    assert len(report.failed) == 1 and "127.0.0.2" in report.failed[0].reason
    assert "loopback" in report.failed[0].reason and "ALLOW_PRIVATE" in report.failed[0].reason
    assert Handler.hits["/to-private"] == 1 and Handler.hits["/article.html"] == 1  # 127.0.0.2 was never asked


def test_ssrf_connects_to_the_address_it_checked(server, second_server, fast, monkeypatch):
    """DNS rebinding: a name that answers with a public address for the check and a private one
    afterwards. The connection goes to the checked address; asking the resolver again would have
    reached the second server."""
    import socket

    fast.settings.fetch.allow_private = False
    _only_127_0_0_1_is_public(monkeypatch)
    port = int(server.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = {"n": 0}

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        answers["n"] += 1
        ip = "127.0.0.1" if answers["n"] <= 2 else "127.0.0.2"  # the hook and the backend each resolve once
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, kwargs.get("port") or (args[0] if args else port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    report = fast.ingest([f"http://rebind.example:{port}/article.html"])
    assert report.added and not report.failed
    assert Handler.hits["/article.html"] == 1 and answers["n"] == 2
