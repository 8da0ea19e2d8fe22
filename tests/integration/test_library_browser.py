"""The Library tab's "Add from the web" box and an empty library's message, in a real browser (Debian's
chromium driven by Playwright). Pages and a feed come from a local HTTP server; the embedder is the
test one and the model scripted (no answer is asked of it). Screenshots go to test-artifacts/."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings
from assistant.search.store import Store
from assistant.app.ui import build_app, launch_options

from ..conftest import ARTIFACTS
from ..support.browser import chromium
from ..support.fakes import FakeEmbedder, ScriptedChat
from ..support.http_fixture import serving
from ..support.live_app import free_port

pytestmark = pytest.mark.integration


def _page(title: str, text: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1><p>{text}</p><p>{text} Officials confirmed the schedule on Friday.</p>"
            "</article></body></html>").encode()


SITE = {
    "/harbour.html": ("text/html", _page("Harbour dredging resumes", "Dredging of the harbour resumes next week.")),
    "/wire/grain.html": ("text/html", _page("Grain corridor reopens", "Ships carrying grain left Odesa on Wednesday.")),
    "/wire.rss": ("application/rss+xml", b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Test Wire</title>
<item><title>Grain corridor reopens</title><link>http://HOST/wire/grain.html</link>
<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"""),
}


class _Site(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        ctype, body = SITE.get(self.path, ("text/plain", b""))
        body = body.replace(b"HOST", self.headers["Host"].encode())
        self.send_response(200 if self.path in SITE else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def site():
    with serving(_Site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, tmp_path):
    """An empty library served on a free port, open in a browser tab."""
    settings = Settings(data_dir=tmp_path / "library", fetch={"allow_private": True})  # the site is on 127.0.0.1
    embedder = FakeEmbedder()
    assistant = Assistant(settings, Store.open(settings.data_dir, None, settings.collection, embedder), embedder,
                          llm=ScriptedChat())
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(**launch_options(settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    pg = ctx.new_page()
    pg.goto(url)
    pg.wait_for_selector("#ba-question textarea", timeout=60_000)
    try:
        yield pg
    finally:
        ctx.close()
        app.close()


def test_an_empty_library_says_so_and_how_to_fill_it(page):
    page.fill("#ba-question textarea", "Is Russia stalling?")
    page.click("#ba-ask")
    page.wait_for_selector("#ba-chat :text('has no articles yet')", timeout=60_000)
    assert "briefing ingest PATH" in page.locator("#ba-chat").inner_text()


def test_pages_and_a_feed_added_from_the_web_box(page, site):
    page.get_by_role("tab", name="Library").click()
    page.get_by_text("Add from the web").click()
    page.fill("#ba-urls textarea", f"{site}/harbour.html")
    page.fill("#ba-feed textarea, #ba-feed input", f"{site}/wire.rss")
    page.click("#ba-fetch")
    page.wait_for_selector("#ba-report :text('Added 2')", timeout=120_000)
    report = page.locator("#ba-report").inner_text()
    assert "Harbour dredging resumes" in report and "Grain corridor reopens" in report
    page.wait_for_selector("#ba-library :text('Grain corridor reopens')", timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-library-web.png"), full_page=True)

    page.fill("#ba-urls textarea", "/etc/passwd")
    page.fill("#ba-feed textarea, #ba-feed input", "")
    page.click("#ba-fetch")
    page.wait_for_selector("#ba-report :text('Not an http(s) URL')", timeout=30_000)
