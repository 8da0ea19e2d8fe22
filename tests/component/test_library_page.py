"""The Library tab's web box and the named API's library endpoints (issue 29 item 6), driven in Python over
a real embedded Chroma with the fake embedder; pages and feeds come from test_fetch's local HTTP server."""

from __future__ import annotations

import warnings

from assistant.app.ui import Handlers, build_app
from assistant.ingest.web import article_id_for

from .test_fetch import Handler, fast, server  # noqa: F401 - fixtures: the local site and fast fetch limits


def quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gr.Warning outside a request becomes a UserWarning
        return fn(*args)


def test_pages_and_a_feed_from_the_web_box_land_in_the_library(server, fast):
    h = Handlers(fast)
    report, listing, _ = quiet(h.fetch, f"{server}/article.html\n\n  {server}/plain.txt  \n", f"{server}/feed.atom")
    assert "Added 4" in report and "Envoy visits Washington" in report and "Grain corridor reopens" in report
    ids = {a.id for a in fast.articles()}
    assert {article_id_for(f"{server}/article.html"), article_id_for(f"{server}/plain.txt")} <= ids
    assert "Envoy visits Washington" in listing
    again, _, _ = quiet(h.fetch, "", f"{server}/feed.atom")  # only items not in the library yet
    assert "Added 0" in again and Handler.hits["/atom/grain.html"] == 1


def test_a_page_that_fails_is_reported_and_the_rest_is_added(server, fast):
    report, _, _ = quiet(Handlers(fast).fetch, f"{server}/forbidden\n{server}/news/1.html", "")
    assert "Added 1" in report and "forbidden" in report and "403" in report


def test_the_web_box_refuses_what_is_not_a_web_address(fast):
    h = Handlers(fast)
    empty, _, _ = quiet(h.fetch, "  \n", "")
    assert "first" in empty and fast.articles() == []
    local, _, _ = quiet(h.fetch, "/etc/passwd", "")
    assert "Not an http(s) URL: /etc/passwd" in local and fast.articles() == []
    feed, _, _ = quiet(h.fetch, "", "file:///etc/passwd")
    assert "Not an http(s) URL" in feed


def test_the_page_has_the_box_and_the_api_lists_sources_and_deletes(fake_assistant, seed_dir):
    fake_assistant.ingest([seed_dir])
    app = build_app(fake_assistant)
    named = app.get_api_info()["named_endpoints"]
    assert {"/sources", "/delete_article"} <= set(named)
    assert [p["parameter_name"] for p in named["/delete_article"]["parameters"]] == ["article_id"]
    ids = {c.get("props", {}).get("elem_id") for c in app.config["components"]}
    assert {"ba-urls", "ba-feed", "ba-fetch"} <= ids
