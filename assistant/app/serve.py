"""`briefing serve`: an OpenAI-compatible HTTP API over the assistant, with the chat page on the same app.

    POST /v1/chat/completions   the last user message is the question, earlier user/assistant turns the
                                history; `stream: true` sends Server-Sent Events. Filters go in an extra
                                body field: {"briefing": {"as_of", "since", "until", "source", "k"}}.
    GET  /v1/models             one model, "briefing-assistant".
    /                           the chat page (unless --no-page).

Citations (records.py shape) travel in a top-level `citations` field the OpenAI clients keep as an extra
attribute: on each streamed chunk, the citations of the verified sentence in that chunk; on the final chunk
(finish_reason "stop") and on a non-streamed response, every citation of the answer. A top-level `briefing`
field carries the evidence (first chunk) and answerable/as_of/standalone_question (final chunk).
Errors use OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
Auth: the chat page's credential (BRIEFING_AUTH=user:password) as `Authorization: Bearer <password>`
(or `Bearer user:password`); loopback by default, and a non-loopback host needs that login.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from typing import Any, Iterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from ..assistant import Assistant
from ..config import Settings
from ..errors import AssistantError, ConfigError, LLMError, RequestError, StoreError
from ..records import StreamStep, answer_record, answer_steps, parse_messages

MODEL_ID = "briefing-assistant"


class BriefingOptions(BaseModel):
    """The extra body field `briefing` (validated here: it comes from any client)."""

    model_config = ConfigDict(extra="forbid")
    as_of: str | None = None
    since: str | None = None
    until: str | None = None
    source: str | list[str] | None = None
    k: int | None = Field(default=None, ge=1)  # the upper bound is BRIEFING_LIMITS__MAX_K (Assistant.check_request)

    def filters(self) -> dict[str, Any]:
        """As Assistant.ask keyword filters."""
        out = {n: getattr(self, n) for n in ("as_of", "since", "until") if getattr(self, n)}
        if self.source:
            out["sources"] = [self.source] if isinstance(self.source, str) else list(self.source)
        return out


class ChatRequest(BaseModel):
    """The part of an OpenAI chat request we use; other OpenAI fields (temperature...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[Any]
    stream: bool = False
    briefing: BriefingOptions = Field(default_factory=BriefingOptions)


class Slot:
    """One answer's place among the `concurrency` allowed; released once, whichever path ends the request
    (the stream's end, an error before it, or a client that left before the stream began)."""

    def __init__(self, slots: threading.BoundedSemaphore) -> None:
        self._slots, self._lock, self._held = slots, threading.Lock(), False

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a free place."""
        self._held = self._slots.acquire(timeout=timeout)
        return self._held

    def release(self) -> None:
        """Give the place back (a second call does nothing)."""
        with self._lock:
            if self._held:
                self._held = False
                self._slots.release()


class APIFailure(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code

    def body(self) -> dict[str, Any]:
        """{"error": {...}} as OpenAI sends it."""
        return {"error": {"message": self.message, "type": self.type, "param": None, "code": self.code}}


def failure_of(exc: AssistantError) -> APIFailure:
    """The HTTP status and OpenAI error type for an expected failure of the library."""
    if isinstance(exc, (ConfigError, RequestError)):
        return APIFailure(400, exc.one_line(), "invalid_request_error", "invalid_value")
    if isinstance(exc, LLMError):
        return APIFailure(502, exc.one_line(), "upstream_error", "model_unavailable")
    if isinstance(exc, StoreError):
        return APIFailure(503, exc.one_line(), "server_error", "store_unavailable")
    return APIFailure(500, exc.one_line(), "server_error")


def concurrency(settings: Settings) -> int:
    """Answers worked on at once: BRIEFING_UI__CONCURRENCY, else 1 for the bundled model, 4 for an endpoint."""
    if settings.ui.concurrency is not None:
        return settings.ui.concurrency
    return 1 if settings.llm.uses_local else 4


def bearer_ok(settings: Settings, header: str | None) -> bool:
    """True when no login is configured, or the Authorization header carries it (password or user:password)."""
    if settings.ui.auth is None:
        return True
    secret = settings.ui.auth.get_secret_value()
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    token = token.strip().encode()
    return hmac.compare_digest(token, secret.partition(":")[2].encode()) or hmac.compare_digest(token, secret.encode())


def build_api(assistant: Assistant, page: bool = False) -> FastAPI:
    """The FastAPI app: /v1/chat/completions, /v1/models and, with `page`, the chat page at / (ui.mount_page)."""
    settings = assistant.settings
    slots = threading.BoundedSemaphore(concurrency(settings))
    app = FastAPI(title="Briefing Assistant API", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json")

    @app.exception_handler(APIFailure)
    async def _failure(_: Request, exc: APIFailure) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                             for e in exc.errors())
        return JSONResponse(APIFailure(400, problems or "invalid request", "invalid_request_error").body(), 400)

    def authorised(request: Request) -> None:
        if not bearer_ok(settings, request.headers.get("authorization")):
            raise APIFailure(401, "missing or wrong API key: send Authorization: Bearer <the BRIEFING_AUTH password>",
                             "invalid_request_error", "invalid_api_key")

    @app.get("/v1/models", dependencies=[Depends(authorised)])
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                            "owned_by": "briefing-assistant"}]}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorised)])
    def completions(body: ChatRequest) -> Any:
        try:
            question, history = parse_messages(body.messages)
        except ValueError as exc:
            raise APIFailure(400, str(exc), "invalid_request_error", "invalid_messages") from None
        filters = body.briefing.filters()
        slot = Slot(slots)
        if not slot.acquire(timeout=600):
            raise APIFailure(429, "too many answers in progress; try again shortly", "rate_limit_error")
        try:
            # A request over the limits or a bad date fails at the call; an unreachable store on the first
            # step: either way before any byte is sent.
            steps = answer_steps(assistant.ask_stream(question, history=history or None, k=body.briefing.k,
                                                      **filters))
            first = next(steps)
        except AssistantError as exc:
            slot.release()
            raise failure_of(exc) from None
        except BaseException:
            slot.release()
            raise
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": MODEL_ID}
        if body.stream:
            return StreamingResponse(_sse(meta, first, steps, slot), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                                     background=BackgroundTask(_finish, steps, slot))
        try:
            final = _last(first, steps)
        except AssistantError as exc:
            raise failure_of(exc) from None
        finally:
            slot.release()
        return _completion(meta, final)

    if page:
        from .ui import mount_page  # gradio is imported by ui.py only

        mount_page(app, assistant, "/")
    return app


def _last(first: StreamStep, steps: Iterator[StreamStep]) -> StreamStep:
    final = first
    for step in steps:
        final = step
    if final.kind != "answer" or final.answer is None:
        raise AssistantError("the answer stream ended without an answer")
    return final


def _usage(answer: Any) -> dict[str, int]:
    p, c = int(answer.usage.get("prompt_tokens", 0)), int(answer.usage.get("completion_tokens", 0))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _briefing(step: StreamStep) -> dict[str, Any]:
    a = step.answer
    return {"answerable": a.answerable, "as_of": a.as_of, "standalone_question": a.standalone_question,
            "replaced": step.replaced, "answer": answer_record(a)}


def _completion(meta: dict[str, Any], final: StreamStep) -> dict[str, Any]:
    a = final.answer
    return {**meta, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": a.text}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": _usage(a), "citations": list(final.citations), "briefing": _briefing(final)}


def _chunk(meta: dict[str, Any], delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {**meta, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _sse(meta: dict[str, Any], first: StreamStep, steps: Iterator[StreamStep], slot: Slot) -> Iterator[str]:
    """The answer as OpenAI chat.completion.chunk events, then [DONE]; an error mid-way is one error event."""
    try:
        role_sent = False
        for step in _chain(first, steps):
            delta: dict[str, Any] = {} if role_sent else {"role": "assistant"}
            role_sent = True
            if step.kind == "evidence":
                yield _chunk(meta, {**delta, "content": ""}, briefing={"evidence": list(step.evidence)})
            elif step.kind == "text":
                yield _chunk(meta, {**delta, "content": step.text}, citations=list(step.citations))
            elif step.kind == "answer":
                if step.extra_text:
                    delta["content"] = step.extra_text
                yield _chunk(meta, delta, "stop", citations=list(step.citations), briefing=_briefing(step),
                             usage=_usage(step.answer))
        yield "data: [DONE]\n\n"
    except AssistantError as exc:
        yield f"data: {json.dumps(failure_of(exc).body())}\n\n"
    except Exception:  # the traceback goes to the server log; the client gets a clean error event
        import logging

        logging.getLogger(__name__).exception("streaming an answer failed")
        yield f"data: {json.dumps(APIFailure(500, 'internal error; see the server log', 'server_error').body())}\n\n"
    finally:
        steps.close()  # a client that went away stops the answer (and its model call) here
        slot.release()


def _finish(steps: Iterator[StreamStep], slot: Slot) -> None:
    # Runs when the response ends, also when the client left: Starlette then stops iterating `_sse` without
    # closing it, so its `finally` never runs. Closing the steps ends the answer (and its model request).
    try:
        steps.close()  # type: ignore[attr-defined]
    except ValueError:  # still inside next() in a worker thread: it finishes on its own
        pass
    slot.release()


def _chain(first: StreamStep, rest: Iterator[StreamStep]) -> Iterator[StreamStep]:
    yield first
    yield from rest


def exposure_warning(settings: Settings, host: str, no_auth: bool) -> str:
    """The shared rule for anything served (access.check_exposure): a non-loopback host needs BRIEFING_AUTH
    unless --no-auth; returns the warning to print for an exposed, unauthenticated server."""
    try:
        from .access import check_exposure
    except ImportError:  # the shared rule lives in access.py once it is merged; same behaviour until then
        return _loopback_rule(settings, host, no_auth)
    return check_exposure(settings, host, None, no_auth)


def _loopback_rule(settings: Settings, host: str, no_auth: bool) -> str:
    import ipaddress

    name = (host or "").strip().strip("[]").lower()
    try:
        loopback = name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        loopback = False
    if loopback or settings.ui.auth is not None:
        return ""
    if not no_auth:
        raise ConfigError(f"refusing to serve on {host}, which other machines can reach, without a login",
                          hint="set BRIEFING_AUTH=user:password, or pass --no-auth if this network is private")
    return f"WARNING: serving on {host} WITHOUT A LOGIN (--no-auth): anyone who can reach it can ask."


def _warm_up(assistant: Assistant) -> None:
    try:
        assistant.llm  # noqa: B018 - the property starts the model
    except AssistantError as exc:
        import logging

        logging.getLogger(__name__).warning("the model did not start: %s", exc.one_line())


def serve(data_dir: str | None = None, chroma_url: str | None = None, host: str | None = None,
          port: int | None = None, no_auth: bool = False, page: bool = True, factory: Any = None) -> None:
    """Build the Assistant (`factory`, default from settings) and serve the API (and the chat page)."""
    import sys

    import uvicorn

    assistant = (factory or Assistant.from_settings)(data_dir=data_dir, chroma_url=chroma_url)
    try:
        host = host or assistant.settings.ui.host
        warning = exposure_warning(assistant.settings, host, no_auth)
        if warning:
            print(warning, file=sys.stderr)
        app = build_api(assistant, page=page)
        # Start the model (the bundled server takes a while) while clients connect; a failure shows again,
        # as an error response, on the first question.
        threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
        port = port or 8000
        print(f"OpenAI-compatible API on http://{host}:{port}/v1 (model {MODEL_ID!r})"
              + (f"; chat page on http://{host}:{port}/" if page else ""), file=sys.stderr, flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        assistant.close()
