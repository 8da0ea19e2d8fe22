"""`briefing serve`: an OpenAI-compatible HTTP API over the assistant, with the chat page on the same app.

    POST /v1/chat/completions   the last user message is the question, earlier user/assistant turns the
                                history; `stream: true` sends Server-Sent Events. Filters and options go
                                in an extra body field: {"briefing": {"as_of", "since", "until", "source",
                                "k", "sources_footer"}}.
    GET  /v1/models             one model, "briefing-assistant".
    /mcp                        the MCP tools (mcp_tools.py) over streamable HTTP, same auth as /v1.
    /                           the chat page (unless --no-page).

Citations reach every client (chat_wire.py): a sources footer ends the message content (numbered like the
answer's [n] markers: title, source, date, URL, the quoted sentence; off with "sources_footer": false or
BRIEFING_SERVE__SOURCES_FOOTER=false), OpenAI `annotations` (url_citation) sit on the message (streamed: on
the last chunk's delta), and the structured citations (records.py shape) travel in a top-level `citations`
field the OpenAI clients keep as an extra attribute: on each streamed chunk, the citations of the verified
sentence in that chunk; on the final chunk (finish_reason "stop") and on a non-streamed response, every
citation of the answer. A top-level `briefing` field carries the evidence (first chunk) and
answerable/as_of/model_rewritten_question/sources_footer (final chunk; the model's unchecked rewrite of a
follow-up, null when the question was answered as asked).
Open WebUI's and LibreChat's own prompts (chat title, tags, follow-ups, search queries) are recognised and
answered at once without the briefings (client_tasks.py); their `briefing` field says {"client_task": ...}.
Errors use OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
Auth (the API and /mcp): the chat page's credential (BRIEFING_AUTH=user:password) as `Authorization: Bearer
<password>` (or `Bearer user:password`); loopback by default, and a non-loopback host needs that login.

Under load and hostile input (issue 28): the gate (gate.py) checks the Host, the Origin, the key and the
body size before a body byte is read, for the whole app including /v1/openapi.json and the page; answers
wait in a bounded queue (answer_queue.py) and a request past it gets 429 with Retry-After at once.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import threading
import time
import uuid
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from ..assistant import Assistant
from ..config import Settings
from ..errors import AssistantError
from ..records import answer_steps, parse_messages
from .access import check_exposure
from .answer_queue import AnswerQueue, Busy, Steps, workers
from .chat_sources import without_footers
from .chat_wire import APIFailure, check_final, completion, failure_of, sse, task_completion, task_sse
from .client_tasks import client_task
from .gate import gate_middleware

MODEL_ID = "briefing-assistant"
# Far above any real conversation (the history limit, BRIEFING_LIMITS__MAX_HISTORY_MESSAGES, is 40), and
# checked while the body is validated, before any message is looked at.
MAX_MESSAGES = 256
# Seconds uvicorn lets open responses finish after SIGTERM before it cancels them.
SHUTDOWN_GRACE_S = 2.0


class BriefingOptions(BaseModel):
    """The extra body field `briefing` (validated here: it comes from any client)."""

    model_config = ConfigDict(extra="forbid")
    as_of: str | None = None
    since: str | None = None
    until: str | None = None
    source: str | list[str] | None = None
    k: int | None = Field(default=None, ge=1)  # the upper bound is BRIEFING_LIMITS__MAX_K (Assistant.check_request)
    # The numbered sources appended to the message content (chat_wire.py); None: BRIEFING_SERVE__SOURCES_FOOTER.
    # Off for a client that shows the structured `citations` or `annotations` itself.
    sources_footer: bool | None = None

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
    messages: list[Any] = Field(max_length=MAX_MESSAGES)
    stream: bool = False
    briefing: BriefingOptions = Field(default_factory=BriefingOptions)


def concurrency(settings: Settings) -> int:
    """Answers worked on at once (answer_queue.workers)."""
    return workers(settings)


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


def build_api(assistant: Assistant, page: bool = False, served_on: str | None = None, mcp: bool = True) -> FastAPI:
    """The FastAPI app: /v1/chat/completions, /v1/models, with `mcp` the MCP tools over streamable HTTP at /mcp
    (mcp_tools.mount_http) and, with `page`, the chat page at / (ui.mount_page), all behind the gate.
    `served_on`: the address listened on, a Host name accepted besides loopback ones."""
    settings = assistant.settings
    answers = AnswerQueue.from_settings(settings)
    mcp_sessions: Any = None  # the MCP session manager's runner, set below when MCP is mounted

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if mcp_sessions is not None:
                await stack.enter_async_context(mcp_sessions())
            yield
        answers.close()

    key_ok = None if settings.ui.auth is None else (lambda header: bearer_ok(settings, header))
    app = FastAPI(title="Briefing Assistant API", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json",
                  lifespan=lifespan, middleware=gate_middleware(settings, served_on, key_ok=key_ok))
    app.state.answers = answers

    @app.exception_handler(APIFailure)
    async def _failure(_: Request, exc: APIFailure) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(Busy)
    async def _busy(_: Request, exc: Busy) -> JSONResponse:
        body = APIFailure(429, exc.one_line(), "rate_limit_error", "queue_full").body()
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                             for e in exc.errors())
        return JSONResponse(APIFailure(400, problems or "invalid request", "invalid_request_error").body(), 400)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                            "owned_by": "briefing-assistant"}]}

    @app.post("/v1/chat/completions")
    async def completions(body: ChatRequest) -> Any:
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": MODEL_ID}
        task = client_task(body.messages)
        if task is not None:  # the chat client's own title/tags/follow-ups prompt: no search, no model call
            if body.stream:
                return StreamingResponse(task_sse(meta, task), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
            return task_completion(meta, task)
        footer = settings.serve.sources_footer if body.briefing.sources_footer is None else body.briefing.sources_footer
        try:
            question, history = parse_messages(without_footers(body.messages))
        except ValueError as exc:
            raise APIFailure(400, str(exc), "invalid_request_error", "invalid_messages") from None
        filters = body.briefing.filters()
        place = await answers.enter()
        steps = Steps(lambda: answer_steps(assistant.ask_stream(question, history=history or None,
                                                                k=body.briefing.k, **filters)))
        try:
            # A request over the limits or a bad date fails at the call; an unreachable store on the first
            # step: either way before any byte is sent.
            first = await answers.run(steps.next)
        except AssistantError as exc:
            answers.finish(steps, place)
            raise failure_of(exc) from None
        except BaseException:
            answers.finish(steps, place)
            raise
        if body.stream:
            async def finish() -> None:  # also when the client left and the stream was never closed
                answers.finish(steps, place)

            return StreamingResponse(sse(meta, first, steps, answers, place, footer), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                                     background=BackgroundTask(finish))
        try:
            final = first
            while (step := await answers.run(steps.next)) is not None:
                final = step
            check_final(final)
        except AssistantError as exc:
            raise failure_of(exc) from None
        finally:
            answers.finish(steps, place)
        return completion(meta, final, footer)

    if mcp:  # before the page, whose mount at "/" would catch /mcp
        from .mcp_tools import mount_http  # the mcp package is imported by mcp_tools.py only

        mcp_sessions = mount_http(app, assistant, answers)
    if page:
        from .ui import mount_page  # gradio is imported by ui.py only

        mount_page(app, assistant, "/")
    return app


def exposure_warning(settings: Settings, host: str, no_auth: bool) -> str:
    """The shared rule for anything served (access.check_exposure): a non-loopback host needs BRIEFING_AUTH
    unless --no-auth; returns the warning to print for an exposed, unauthenticated server."""
    return check_exposure(settings, host, None, no_auth)


def _warm_up(assistant: Assistant) -> None:
    try:
        assistant.llm  # noqa: B018 - the property starts the model
    except AssistantError as exc:
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
        if host.strip("[]") in ("0.0.0.0", "::") and not assistant.settings.ui.allowed_hosts:
            print("NOTE: only loopback names and addresses are accepted in the Host header; set "
                  "BRIEFING_UI__ALLOWED_HOSTS=<the names clients use> to serve other machines", file=sys.stderr)
        app = build_api(assistant, page=page, served_on=host)
        # Start the model (the bundled server takes a while) while clients connect; a failure shows again,
        # as an error response, on the first question.
        threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
        port = port or 8000
        print(f"OpenAI-compatible API on http://{host}:{port}/v1 (model {MODEL_ID!r}); MCP on http://{host}:{port}/mcp"
              + (f"; chat page on http://{host}:{port}/" if page else ""), file=sys.stderr, flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    finally:
        assistant.close()
