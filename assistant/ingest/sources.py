"""What each input of an ingest is, and who reads it: files and folders go to files.py, http(s) URLs
and feeds to web.py. The one place that knows both kinds of source; neither reader knows the other's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Container, Iterable, Iterator

from ..config import Settings
from ..errors import IngestError
from ..types import Article, IngestFailure
from .files import iter_articles
from .web import fetch_url, is_url, make_client, read_feed


def iter_sources(paths: Iterable[str | Path], settings: Settings, known: Container[str] = frozenset(),
                 feed: str | None = None) -> Iterator[Article | IngestFailure]:
    """Files, folders and URLs in the order given, then a feed's new items (those whose link, id or
    article id is not in `known`): what Ingestor.ingest reads. Every problem is an IngestFailure."""
    paths = list(paths)
    urls = sum(1 for p in paths if is_url(p))
    if urls > settings.fetch.max_urls:
        # Each URL may hold the write lock for timeout_s: refuse before anything is fetched.
        raise IngestError(f"{urls} URLs in one ingest, over the limit of {settings.fetch.max_urls}",
                          hint="split the list into several ingests, or raise BRIEFING_FETCH__MAX_URLS")
    max_bytes = int(settings.max_file_mb * 1e6)
    files: list[str | Path] = []
    client = None  # web.make_client's, made on the first URL: a files-only ingest opens no TLS context
    try:
        for p in paths:
            if not is_url(p):
                files.append(p)  # consecutive files are read together, so a folder named twice is read once
                continue
            if files:
                yield from iter_articles(files, max_bytes)
                files = []
            client = client or make_client(settings)
            url = str(p).strip()
            try:
                yield fetch_url(url, settings, client)
            except IngestError as exc:
                yield IngestFailure(url, str(exc))
        if files:
            yield from iter_articles(files, max_bytes)
        if feed:
            client = client or make_client(settings)
            yield from read_feed(feed.strip(), settings, known, client)
    finally:
        if client is not None:
            client.close()
