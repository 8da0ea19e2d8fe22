"""A real OpenAI-compatible HTTP server for tests, answering from a scripted queue of behaviours.

    with FaultServer() as srv:
        srv.script(["429:1", "ok:Hello [1]."])
        chat = OpenAIChat(srv.base_url, "sk-test", "fault-model", max_retries=2)
        ...
        assert len(srv.requests) == 2

Each POST to /v1/chat/completions or /v1/embeddings takes the next step from the queue:

    ok:TEXT        a normal reply (JSON, or SSE when the request asks for stream=true;
                   for /v1/embeddings, one deterministic vector per input)
    CODE[:SECS[:MESSAGE]]  an HTTP error with that status (429, 500, 401 ...) and an OpenAI-style
                   error body carrying MESSAGE; SECS, if not empty, is sent as Retry-After
    delay:SECS[:TEXT]  sleep SECS before replying normally (to trip a client timeout)
    malformed      200 with a body that does not parse: not-JSON for a plain request, an SSE
                   event whose data is not JSON for a stream
    badshape       200 with valid JSON that is not a chat completion
    cut:TEXT       stream part of TEXT, then drop the connection mid-body (no [DONE])
    nofinish:TEXT  stream TEXT and end the body cleanly, but with no finish_reason and no [DONE]
    drop           close the connection without sending any response (a crashed or restarting server)
    echo           a deterministic reply computed from the request (see `echo_reply`): the answer
                   prompt gets evidence line [1] plus the session tokens (sess...) of its question,
                   cited [1]; the follow-up rewrite prompt gets the question plus the tokens of its
                   conversation. Lets many concurrent sessions run fast and prove they never mix.

When the queue is empty the server replies `default` (a step string) if one was given, else
500 with `x-should-retry: false`, so a test that under-scripts fails fast instead of retrying.
`route(marker, steps)` gives requests whose body contains `marker` their own queue, so one
session can hit a fault while every other session is served normally.
GET /v1/models always answers. Every request is recorded in `requests`.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable

__all__ = ["FaultServer", "RecordedRequest", "echo_reply", "SESSION_TOKEN"]

# Lower-case letters only: a token is not a name, number or date, so the claim checks (guards.py) let an
# echoed answer through on its merits and the token still shows any mixing of sessions.
SESSION_TOKEN = re.compile(r"\bsess[a-z]+\b")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, with its arrival time (time.monotonic())."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any
    at: float
    step: str = ""

    @property
    def stream(self) -> bool:
        """True when the client asked for an SSE stream."""
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


@dataclass
class _State:
    steps: deque[str] = field(default_factory=deque)
    routes: dict[str, deque[str]] = field(default_factory=dict)  # body marker -> its own queue
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def _words(text: str) -> list[str]:
    # Split into pieces that concatenate back to the text, like real token deltas.
    pieces, cur = [], ""
    for ch in text:
        cur += ch
        if ch == " ":
            pieces.append(cur)
            cur = ""
    if cur:
        pieces.append(cur)
    return pieces or [""]


def echo_reply(body: dict[str, Any]) -> str:
    """The `echo` step's text: computed only from this request, so a reply can carry nothing from
    another session. Answer prompts (with <evidence>) get evidence line [1] and the question's
    session tokens, cited [1]; anything else (the follow-up rewrite) gets the question back with
    the conversation's tokens appended, which is how a follow-up inherits its own session's context."""
    msgs = body.get("messages") or []
    user = str(msgs[-1].get("content", "")) if msgs else ""
    if "Standalone question:" in user:  # the follow-up rewrite, with or without the evidence block in front
        return _rewrite(user)
    if "<evidence>" in user and "Answer yes or no" in user:
        return "yes"  # the claim judge (entailment.py): the guards still check every echoed claim
    if "<evidence>" in user and "Which evidence sentences" in user:
        return "1"
    if "<evidence>" in user:
        question = user.rpartition("Question:")[2]
        first = re.search(r"^\[1\] (.+)$", user, re.M)
        if not first:
            return "The briefings don't say."
        tokens = " ".join(dict.fromkeys(SESSION_TOKEN.findall(question)))
        claim = first.group(1).rstrip(" .!?\u201d\"")
        return f"{claim}, for {tokens} [1]." if tokens else f"{claim} [1]."
    return _rewrite(user)


def _rewrite(user: str) -> str:
    """The follow-up rewrite: the last follow-up (a prompt's example has one too) with the conversation's tokens."""
    conversation, _, follow = user.rpartition("Conversation:")[2].rpartition("Follow-up:")
    question = follow.partition("\n")[0].strip() or user.strip().splitlines()[-1]
    tokens = [t for t in dict.fromkeys(SESSION_TOKEN.findall(conversation)) if t not in question]
    return " ".join([question, *tokens]).strip()


def _vector(text: str, dim: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dim)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, as real servers do
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep pytest output clean

    # -- plumbing -------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self._send_raw(status, body, "application/json", extra)

    def _send_raw(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _sse(self, payload: Any) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self._chunk(f"data: {data}\n\n".encode())

    def _record(self, body: Any, step: str) -> None:
        st = self.server.state
        with st.lock:
            headers = {k.lower(): v for k, v in self.headers.items()}
            st.requests.append(RecordedRequest(self.command, self.path, headers,
                                               body, time.monotonic(), step))

    def _next_step(self, raw: bytes) -> str:
        st = self.server.state
        text = raw.decode("utf-8", "replace")
        with st.lock:
            for marker, queue in st.routes.items():
                if marker in text and queue:
                    return queue.popleft()
            if st.steps:
                return st.steps.popleft()
        return self.server.default or "__exhausted__"

    # -- endpoints ------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._record(None, "")
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [
                {"id": self.server.model, "object": "model", "owned_by": "tests"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = raw.decode("utf-8", "replace")
        step = self._next_step(raw)
        self._record(body, step)
        try:
            self._play(step, body if isinstance(body, dict) else {})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (timeouts): that is the point of the test

    def _play(self, step: str, body: dict[str, Any]) -> None:
        kind, _, arg = step.partition(":")
        if kind == "__exhausted__":
            self._send_json(500, {"error": {"message": "fault server: script exhausted", "type": "test"}},
                            {"x-should-retry": "false"})
        elif kind.isdigit():
            secs, _, message = arg.partition(":")
            extra = {"Retry-After": secs} if secs else {}
            self._send_json(int(kind), {"error": {"message": message or f"scripted {kind}", "type": "scripted",
                                                  "code": kind}}, extra)
        elif kind == "delay":
            secs, _, text = arg.partition(":")
            self.server.state.stopping.wait(float(secs))
            self._reply(text or "late reply", body)
        elif kind == "malformed" and body.get("stream"):
            # What a broken proxy sends: a well-formed SSE frame around data that is not JSON.
            self._send_raw(200, b'data: {"id": "x", "choices": [ {not json\n\n', "text/event-stream")
        elif kind == "malformed":
            self._send_raw(200, b'{"id": "x", "choices": [ {not json', "application/json")
        elif kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "echo":
            self._reply(echo_reply(body), body)
        elif kind == "badshape":
            self._send_json(200, {"unexpected": True})
        elif kind in ("ok", "cut", "nofinish"):
            self._reply(arg, body, mode=kind)
        else:
            raise ValueError(f"unknown fault-server step {step!r}")

    def _reply(self, text: str, body: dict[str, Any], mode: str = "ok") -> None:
        if self.path.rstrip("/").endswith("/embeddings"):
            inputs = body.get("input") or []
            inputs = [inputs] if isinstance(inputs, str) else inputs
            data = [{"object": "embedding", "index": i, "embedding": _vector(str(t), self.server.embed_dim)}
                    for i, t in enumerate(inputs)]
            self._send_json(200, {"object": "list", "data": data, "model": body.get("model", ""),
                                  "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
            return
        model = body.get("model") or self.server.model
        pieces = _words(text)
        usage = {"prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in body.get("messages", [])),
                 "completion_tokens": len(pieces)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            if mode != "ok":  # non-stream "cut": promise a body, deliver half of it
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"id": "cut", "choices": [')
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send_json(200, {
                "id": "chatcmpl-fault", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}
        self._sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "finish_reason": None}]})
        if mode == "cut":
            pieces = pieces[: max(1, len(pieces) // 2)]
        for piece in pieces:
            self._sse({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        if mode == "cut":
            # Drop the connection inside the chunked body: no terminating chunk, no [DONE].
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "ok":
            self._sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                self._sse({**base, "choices": [], "usage": usage})
            self._sse("[DONE]")
        self._chunk(b"")  # a clean end of the chunked body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client closing its keep-alive connection (or giving up on a timeout) is normal here.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def __init__(self, state: _State, model: str, default: str | None, embed_dim: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state, self.model, self.default, self.embed_dim = state, model, default, embed_dim


class FaultServer:
    """A scripted OpenAI-compatible server on 127.0.0.1 (a free port), run in a background thread."""

    def __init__(self, model: str = "fault-model", default: str | None = None, embed_dim: int = 8) -> None:
        self._state = _State()
        self._server = _Server(self._state, model, default, embed_dim)
        self._thread: threading.Thread | None = None
        self.model = model

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL to hand a client, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def posts(self) -> list[RecordedRequest]:
        """Only the POST requests (chat and embeddings), oldest first."""
        return [r for r in self.requests if r.method == "POST"]

    def script(self, steps: Iterable[str]) -> "FaultServer":
        """Append behaviours to the queue; each POST consumes one."""
        with self._state.lock:
            self._state.steps.extend(steps)
        return self

    def route(self, marker: str, steps: Iterable[str]) -> "FaultServer":
        """Requests whose body contains `marker` take their steps from this queue first (then the
        shared queue, then the default), so faults can target one session."""
        with self._state.lock:
            self._state.routes.setdefault(marker, deque()).extend(steps)
        return self

    def pending(self) -> list[str]:
        """Steps not consumed yet."""
        with self._state.lock:
            return list(self._state.steps)

    def start(self) -> "FaultServer":
        """Serve in a daemon thread until stop()."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="fault-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; sleeping `delay` handlers wake up at once."""
        self._state.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
