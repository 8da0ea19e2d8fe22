"""Keeping secrets out of what we show: URLs without credentials, texts with API keys and passwords masked.

One rule each, shared by the model client (models/llm.py), the chat page (app/render.py), `briefing doctor`,
the settings' warnings (config.py) and the CLI's debug traceback (app/cli.py). Standard library only, so any
module can import it without a cycle.
"""

from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"
MIN_SECRET_CHARS = 4  # a shorter "secret" would mask ordinary words all over the text
# A query or fragment parameter whose value lets someone in: api-key, access_token, X-Amz-Signature,
# password, client_secret, auth, session... Masking a harmless one too ("keyword=") costs nothing.
_SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|auth|sig|credential|session", re.I)
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?([^/?#@]*)@")


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


def redact_url(url: str) -> str:
    """`url` with its user name, password and credential-like query or fragment values as ***: where it
    points stays readable (doctor, warnings), what would let someone in does not. Works on a bare
    `user:pw@host:port` too."""
    url = _USERINFO.sub(lambda m: f"{m.group(1) or ''}{MASK}:{MASK}@" if ":" in m.group(2)
                        else f"{m.group(1) or ''}{MASK}@", url, count=1)
    head, hash_, fragment = url.partition("#")
    head, q, query = head.partition("?")
    return head + q + _redact_params(query) + hash_ + _redact_params(fragment)


def _redact_params(text: str) -> str:
    pairs = []
    for pair in text.split("&"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={MASK}" if eq and _SECRET_PARAM.search(name) else pair)
    return "&".join(pairs)


def url_secrets(url: str | None) -> list[str]:
    """The credentials `url` carries (user, password, credential-like parameter values), raw and decoded:
    what `mask_secrets` should hide in a message that may quote the URL in pieces."""
    if not url:
        return []
    found: list[str] = []
    m = _USERINFO.match(url)
    if m:
        found += m.group(2).split(":", 1)
    for part in re.split(r"[?#&]", url.split("?", 1)[1] if "?" in url else url.partition("#")[2]):
        name, eq, value = part.partition("=")
        if eq and _SECRET_PARAM.search(name):
            found.append(value)
    return [s for v in found for s in {v, unquote(v)} if s]


def scrub_urls(text: str, urls: Iterable[str | None]) -> str:
    """`text` with each of `urls` shown redacted, and any credential of theirs quoted elsewhere masked."""
    for url in (u for u in urls if u):
        text = text.replace(url, redact_url(url))
        text = mask_secrets(text, url_secrets(url))
    return text
