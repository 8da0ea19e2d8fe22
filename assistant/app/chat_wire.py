"""The OpenAI chat-completion shapes `briefing serve` sends (serve.py decides what to answer; this module says
how it goes on the wire): a whole completion, the Server-Sent Events of a streamed answer, the reply to a
chat client's housekeeping prompt (client_tasks.py), and errors in OpenAI's shape.

Every answer's message carries its citations three ways (chat_sources.py): the `[n]` markers and, unless the
request or BRIEFING_SERVE__SOURCES_FOOTER turns it off, a sources footer in the content, which is all most
chat clients show; OpenAI `annotations` (url_citation, offsets into the content) on the message, or on the
delta of the last chunk when streamed; and the structured `citations` field (records.py shape).
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator

from ..errors import AssistantError, ConfigError, LLMError, RequestError, StoreError
from ..records import StreamStep, answer_record
from .answer_queue import AnswerQueue, Place, Steps
from .chat_sources import sources_footer, url_annotations
from .client_tasks import ClientTask


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


def check_final(final: StreamStep | None) -> None:
    """Raise unless the answer stream ended with the answer."""
    if final is None or final.kind != "answer" or final.answer is None:
        raise AssistantError("the answer stream ended without an answer")


def completion(meta: dict[str, Any], final: StreamStep, footer: bool) -> dict[str, Any]:
    """The chat.completion for a whole answer; with `footer`, the sources footer ends the content."""
    a = final.answer
    tail = sources_footer(final.citations) if footer else ""
    message = {"role": "assistant", "content": a.text + tail, "annotations": url_annotations(a.text, final.citations)}
    return {**meta, "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(a.usage), "citations": list(final.citations), "briefing": _briefing(final, tail)}


async def sse(meta: dict[str, Any], first: StreamStep | None, steps: Steps, answers: AnswerQueue, place: Place,
              footer: bool) -> AsyncIterator[str]:
    """The answer as OpenAI chat.completion.chunk events, then [DONE]; an error mid-way is one error event.
    Each step is computed on the answer queue's threads: the event loop only sends. The sources footer goes
    as the last content delta; the last chunk (finish_reason "stop") carries the annotations, every citation
    and the `briefing` summary."""
    try:
        role_sent, sent = False, ""
        step = first
        while step is not None:
            delta: dict[str, Any] = {} if role_sent else {"role": "assistant"}
            role_sent = True
            if step.kind == "evidence":
                yield chunk(meta, {**delta, "content": ""}, briefing={"evidence": list(step.evidence)})
            elif step.kind == "text":
                sent += step.text
                yield chunk(meta, {**delta, "content": step.text}, citations=list(step.citations))
            elif step.kind == "answer":
                tail = sources_footer(step.citations) if footer else ""
                # The rest of the answer with the citations its markers make; the footer is no answer text.
                rest = [c for c in step.citations if f"[{c['key']}]" in step.extra_text]
                for piece, cites in ((step.extra_text, rest), (tail, [])):
                    if piece:
                        yield chunk(meta, {**delta, "content": piece}, citations=cites)
                        delta = {}
                sent += step.extra_text
                # Offsets into the content as the client joined it: the answer text sent, before the footer.
                delta["annotations"] = url_annotations(sent, step.citations)
                yield chunk(meta, delta, "stop", citations=list(step.citations), briefing=_briefing(step, tail),
                            usage=_usage(step.answer.usage))
            step = await answers.run(steps.next)
        yield "data: [DONE]\n\n"
    except AssistantError as exc:
        yield f"data: {json.dumps(failure_of(exc).body())}\n\n"
    except Exception:  # the traceback goes to the server log; the client gets a clean error event
        logging.getLogger(__name__).exception("streaming an answer failed")
        yield f"data: {json.dumps(APIFailure(500, 'internal error; see the server log', 'server_error').body())}\n\n"
    finally:
        answers.finish(steps, place)  # a client that went away stops the answer (and its model call) here


def task_completion(meta: dict[str, Any], task: ClientTask) -> dict[str, Any]:
    """The chat.completion answering a client's housekeeping prompt (no citations, no usage)."""
    message = {"role": "assistant", "content": task.reply, "annotations": []}
    return {**meta, "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": _usage({}), "citations": [], "briefing": _task_briefing(task)}


async def task_sse(meta: dict[str, Any], task: ClientTask) -> AsyncIterator[str]:
    """The same reply streamed: the content in one delta, then the finish chunk and [DONE]."""
    yield chunk(meta, {"role": "assistant", "content": task.reply})
    yield chunk(meta, {}, "stop", citations=[], briefing=_task_briefing(task), usage=_usage({}))
    yield "data: [DONE]\n\n"


def chunk(meta: dict[str, Any], delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    """One chat.completion.chunk as an SSE event."""
    body = {**meta, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _usage(usage: dict[str, int]) -> dict[str, int]:
    p, c = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _briefing(step: StreamStep, footer: str) -> dict[str, Any]:
    a = step.answer
    return {"answerable": a.answerable, "as_of": a.as_of, "standalone_question": a.question,
            "model_rewritten_question": a.model_rewrite, "replaced": step.replaced, "answer": answer_record(a),
            "sources_footer": footer}


def _task_briefing(task: ClientTask) -> dict[str, Any]:
    # Says why there is no answer record: the request was the client's own prompt, not a question.
    return {"client_task": {"client": task.client, "kind": task.kind}}
