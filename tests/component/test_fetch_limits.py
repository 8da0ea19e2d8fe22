"""Hostile web servers against URL ingest (issue 28, items 3 and 5), all on 127.0.0.1: compression
bombs in each encoding, headers dripped one line at a time, slow redirect chains, and more URLs in
one request than the limit."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler

import pytest

from assistant.errors import IngestError
from assistant.ingest.web import fetch_url

from .test_fetch import ARTICLE
from ..support.http_fixture import serving

BOMB_MB = 100  # what each bomb decodes to
LIMIT_MB = 1.0  # BRIEFING_FETCH__MAX_MB in these tests


def _zeros_compressed(compress) -> bytes:
    return compress(b"<html><body><p>" + b"\0" * (BOMB_MB * 1_000_000))


def _bombs() -> dict[str, bytes]:
    import brotli

    bombs = {"gzip": _zeros_compressed(lambda b: gzip.compress(b, 6)),
             "deflate": _zeros_compressed(lambda b: zlib.compress(b, 6)),
             "br": _zeros_compressed(lambda b: brotli.compress(b, quality=4))}
    try:
        import zstandard
    except ImportError:
        pass
    else:
        bombs["zstd"] = _zeros_compressed(lambda b: zstandard.ZstdCompressor(level=3).compress(b))
    return bombs


class Hostile(BaseHTTPRequestHandler):
    bombs: dict[str, bytes] = {}
    hits: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Hostile.hits.append(self.path)
        parts = self.path.strip("/").split("/")
        try:
            if parts[0] == "bomb":
                self._send(self.bombs[parts[1]], {"Content-Encoding": parts[1]})
            elif parts[0] == "gzip-page":
                self._send(gzip.compress(ARTICLE), {"Content-Encoding": "gzip"})
            elif parts[0] == "drip-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for i in range(20):  # each line in time for a per-read timeout, the whole far too late
                    self.wfile.write(f"X-Drip-{i}: {'x' * 40}\r\n".encode())
                    self.wfile.flush()
                    time.sleep(0.3)
                self.wfile.write(b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(ARTICLE), ARTICLE))
            elif parts[0] == "slow-redirect":
                time.sleep(0.6)
                n = int(parts[1])
                if n == 0:
                    self._send(ARTICLE, {})
                else:
                    self.send_response(302)
                    self.send_header("Location", f"/slow-redirect/{n - 1}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
            else:
                self._send(ARTICLE, {})
        except OSError:  # the client hung up, as it should
            pass

    def _send(self, body: bytes, headers: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def hostile():
    Hostile.bombs = _bombs()
    with serving(Hostile) as url:
        yield url


@pytest.fixture
def limited(settings):
    f = settings.fetch
    f.timeout_s, f.max_mb, f.max_redirects, f.allow_private = 0.8, LIMIT_MB, 5, True
    Hostile.hits.clear()
    return settings


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_a_compression_bomb_stops_at_the_size_limit(hostile, limited, encoding):
    if encoding not in Hostile.bombs:
        pytest.skip("zstandard is not installed: the bomb cannot be made (nor would it be read)")
    raw = len(Hostile.bombs[encoding])
    tracemalloc.start()
    try:
        with pytest.raises(IngestError, match="MB limit"):
            fetch_url(f"{hostile}/bomb/{encoding}", limited)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"{encoding}: {raw} bytes on the wire, {BOMB_MB} MB decoded; peak traced memory {peak / 1e6:.1f} MB")
    assert peak < 8 * LIMIT_MB * 1e6, f"{encoding} bomb took {peak / 1e6:.0f} MB before the limit fired"


def test_only_encodings_with_a_bound_are_offered_and_a_compressed_page_still_reads(hostile, limited):
    from assistant.ingest import encodings

    assert set(encodings.accept_encoding().split(", ")) <= {"gzip", "deflate", "br", "zstd"}
    art = fetch_url(f"{hostile}/gzip-page", limited)
    assert art.title == "Envoy visits Washington" and "Dmitriev" in art.body


def test_an_unknown_encoding_is_refused_not_read_as_text():
    from assistant.ingest import encodings

    with pytest.raises(IngestError, match="compress-compressed content"):
        encodings.decode(b"\x1f\x9d\x90", "compress", 1000, lambda: "too big")
    with pytest.raises(IngestError, match="encoded 2 times"):
        encodings.decode(b"", "gzip, br", 1000, lambda: "too big")


def test_headers_dripped_one_line_at_a_time_end_at_the_deadline(hostile, limited):
    started = time.monotonic()
    with pytest.raises(IngestError, match="no complete answer within 0.8 s"):
        fetch_url(f"{hostile}/drip-headers", limited)
    waited = time.monotonic() - started
    print(f"dripped headers: gave up after {waited:.2f} s (deadline 0.8 s; the server takes 6 s)")
    assert waited < 2 * limited.fetch.timeout_s


def test_a_slow_redirect_chain_ends_at_one_deadline(hostile, limited):
    started = time.monotonic()
    with pytest.raises(IngestError, match="no complete answer within 0.8 s"):
        fetch_url(f"{hostile}/slow-redirect/4", limited)  # 5 hops of 0.6 s, each well within a read timeout
    waited = time.monotonic() - started
    print(f"slow redirects: gave up after {waited:.2f} s (deadline 0.8 s; the chain takes 3 s)")
    assert waited < 2 * limited.fetch.timeout_s


def test_more_urls_than_the_limit_are_refused_before_any_fetch(hostile, limited, fake_assistant):
    fake_assistant.settings.fetch.allow_private = True
    fake_assistant.settings.fetch.max_urls = 3
    urls = [f"{hostile}/page/{i}" for i in range(4)]
    with pytest.raises(IngestError, match="4 URLs in one ingest") as err:
        fake_assistant.ingest(urls)
    assert "BRIEFING_FETCH__MAX_URLS" in err.value.one_line()
    assert Hostile.hits == [] and fake_assistant.articles() == []
    assert len(fake_assistant.ingest(urls[:3]).added) == 3
