"""Keeping secrets out of what we show: URLs without credentials, texts with API keys and passwords masked.

One rule each, shared by the model client (models/llm.py), the chat page (app/render.py) and the CLI's
debug traceback (app/cli.py). Standard library only, so any module can import it without a cycle.
"""

from __future__ import annotations

from typing import Iterable
from urllib.parse import urlsplit

MASK = "***"
MIN_SECRET_CHARS = 4  # a shorter "secret" would mask ordinary words all over the text


def url_without_credentials(url: str) -> str:
    """`scheme://host[:port]/path` of a URL: never its user:password@, query or fragment, any of which
    may carry a key. "" when the URL has no host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret of 4+ characters replaced by ***, longest first (so a secret that contains
    another is masked whole)."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
