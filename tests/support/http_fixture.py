"""A local HTTP server on a free port for the duration of a fixture (fetch, security and browser tests)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", path: str = "") -> Iterator[str]:
    """Serve `handler` on `host` at a free port in a daemon thread; yields the base URL (plus `path`)."""
    srv = ThreadingHTTPServer((host, 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{srv.server_address[1]}{path}"
    finally:
        srv.shutdown()
        srv.server_close()
