"""The gate in front of everything `briefing serve` and `briefing chat` serve: an ASGI middleware that
decides before a byte of the body is read, so a request that will be refused costs no memory.

In order: the Host header must name this server (DNS rebinding: a page on another site that points its
own name at 127.0.0.1 still sends that name); a browser's Origin must be the page itself or one listed
in BRIEFING_UI__ALLOWED_ORIGINS; on the API (/v1...) and MCP over HTTP (/mcp) an address that keeps
failing waits (429 with Retry-After), then the Bearer key is checked (401); every body but Gradio's file
upload is capped at BRIEFING_UI__MAX_REQUEST_KB (413), by Content-Length when it is sent and by counting the
bytes as they arrive (a chunked body has none). The page's login is throttled per address the same way.

A request from any other origin is refused before it reaches the app: Gradio's own CORS layer echoes any
Origin with credentials once the Host is not a loopback name (behind HTTPS, say), so a page a logged-in
user visits could ask, ingest and delete. Allowed origins get CORS headers from Starlette's
CORSMiddleware on the parent app (without credentials), which also turns Gradio's own layer off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from ..config import Settings
from .access import FailureThrottle, allowed_hosts, host_allowed, origin_allowed

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class GatePolicy:
    """What the gate lets through."""

    allowed_hosts: frozenset[str]  # besides loopback names; "*" for any (access.host_allowed)
    allowed_origins: frozenset[str] = frozenset()  # besides the page itself
    max_body: int = 512 * 1024  # bytes
    api_prefixes: tuple[str, ...] = ("/v1", "/mcp")  # paths that need the Bearer key: the API and MCP over HTTP
    login_paths: frozenset[str] = frozenset({"/login", "/login/"})  # the page's login form (Gradio)
    # Gradio's file upload: no body is read before its login check, and its own limit (max_file_size)
    # is applied per file as the bytes arrive.
    uncapped_suffixes: tuple[str, ...] = ("/upload", "/upload/")

    @classmethod
    def from_settings(cls, settings: Settings, served_on: str | None = None, share: bool = False) -> "GatePolicy":
        """BRIEFING_UI__ALLOWED_HOSTS (plus loopback names and `served_on`), BRIEFING_UI__ALLOWED_ORIGINS,
        BRIEFING_UI__MAX_REQUEST_KB. A Gradio share link arrives under the tunnel's name, so with `share`
        any Host is accepted (a share link always needs the login: access.check_exposure)."""
        return cls(allowed_hosts=frozenset({"*"}) if share else allowed_hosts(settings, served_on),
                   allowed_origins=frozenset(_origin(o) for o in settings.ui.allowed_origins),
                   max_body=settings.ui.max_request_kb * 1024)


class BodyTooLarge(Exception):
    """A request body went over the cap while it was being read."""


class Gate:
    """ASGI middleware applying a GatePolicy. `key_ok(authorization_header)` checks the API key (None: the
    API needs none); `throttle` counts failed keys and page logins per client address."""

    def __init__(self, app: Any, policy: GatePolicy, throttle: FailureThrottle,
                 key_ok: Callable[[str | None], bool] | None = None) -> None:
        self.app, self.policy, self.throttle, self.key_ok = app, policy, throttle, key_ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host, origin = headers.get("host"), headers.get("origin")
        if not host_allowed(host, self.policy.allowed_hosts):
            await _refuse(scope, send, 400, "this server does not answer to that Host name (set "
                                            "BRIEFING_UI__ALLOWED_HOSTS to add a name)", "invalid_host")
            return
        if origin is not None and not origin_allowed(origin, host, self.policy.allowed_origins):
            await _refuse(scope, send, 403, "cross-origin requests are refused (set BRIEFING_UI__ALLOWED_ORIGINS "
                                            "to allow a site)", "origin_not_allowed")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path, address = scope.get("path", ""), (scope.get("client") or ("?", 0))[0]
        api = any(path == prefix or path.startswith(prefix + "/") for prefix in self.policy.api_prefixes)
        login = scope["method"] == "POST" and path in self.policy.login_paths
        if api or login:
            wait = self.throttle.retry_after(address)
            if wait:
                await _refuse(scope, send, 429, f"too many failed logins from this address; retry in {wait} s",
                              "too_many_failures", {"retry-after": str(wait)})
                return
        if api and self.key_ok is not None:
            if not self.key_ok(headers.get("authorization")):
                self.throttle.failed(address)
                await _refuse(scope, send, 401, "missing or wrong API key: send Authorization: Bearer <the "
                                                "BRIEFING_AUTH password>", "invalid_api_key",
                              {"www-authenticate": "Bearer"})
                return
            self.throttle.succeeded(address)
        if scope["method"] in _BODY_METHODS and not path.endswith(self.policy.uncapped_suffixes):
            try:
                receive = await self._read_capped(headers, receive)
            except BodyTooLarge:
                await _refuse(scope, send, 413, f"the request body is over {self.policy.max_body // 1024} KB "
                                                "(BRIEFING_UI__MAX_REQUEST_KB)", "request_too_large")
                return
        await self.app(scope, receive, self._watch_login(send, address) if login else send)

    async def _read_capped(self, headers: dict[str, str], receive: Receive) -> Receive:
        # Buffered here rather than counted on the app's reads: the app (FastAPI, Gradio) turns an error
        # raised inside its own body read into a 400 of its own, and the cap is small enough to hold.
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.policy.max_body:
            raise BodyTooLarge
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                return _replay(b"".join(chunks), receive, message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.policy.max_body:
                raise BodyTooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        return _replay(b"".join(chunks), receive)

    def _watch_login(self, send: Send, address: str) -> Send:
        async def watched(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if message["status"] in (400, 401, 403):  # Gradio answers a wrong password with 400
                    self.throttle.failed(address)
                elif 200 <= message["status"] < 300:
                    self.throttle.succeeded(address)
            await send(message)
        return watched


def gate_middleware(settings: Settings, served_on: str | None = None, share: bool = False,
                    key_ok: Callable[[str | None], bool] | None = None, cors: bool = True) -> list[Middleware]:
    """The middleware list for a FastAPI app (outermost first): the Gate, then, with `cors`, CORS headers
    for the allowed origins only. `key_ok` checks the API key on /v1 and /mcp (None: no key needed)."""
    policy = GatePolicy.from_settings(settings, served_on, share)
    stack = [Middleware(Gate, policy=policy, throttle=FailureThrottle.from_settings(settings), key_ok=key_ok)]
    if cors:
        stack.append(Middleware(CORSMiddleware, allow_origins=sorted(policy.allowed_origins), allow_credentials=False,
                                allow_methods=["GET", "POST", "DELETE"], expose_headers=["mcp-session-id"],
                                # MCP over HTTP sends and reads its session and protocol headers
                                allow_headers=["authorization", "content-type", "mcp-session-id",
                                               "mcp-protocol-version", "last-event-id"]))
    return stack


def _origin(value: str) -> str:
    return value.strip().lower().rstrip("/")


def _replay(body: bytes, receive: Receive, last: dict[str, Any] | None = None) -> Receive:
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return last if last is not None else {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: only a disconnect can come
    return replayed


async def _refuse(scope: Scope, send: Send, status: int, message: str, code: str,
                  extra: dict[str, str] | None = None) -> None:
    """An error in OpenAI's shape ({"error": {...}}), which the page's client shows as a message too."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    kind = "rate_limit_error" if status == 429 else "invalid_request_error"
    body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
