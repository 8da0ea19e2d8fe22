"""The JSON shapes other tools receive (briefing serve, the MCP tools, the Gradio API, evidence packs).

One place defines what a citation looks like outside Python, so an OpenAI client, an MCP client and an
evidence pack all read the same fields:

    {"key": 1, "article_id": "...", "title": "...", "source": "...", "url": "...", "date": "2025-04-02",
     "quote": "...", "start": 120, "end": 190, "support": 0.81}

`quote == article body[start:end]`; `support` is the checker's score (0..1); `date` is the
briefing's publication date (ISO, "" when undated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from .types import Answer, AnswerEvent, Citation, EvidenceEvent, Passage, TextDelta, to_jsonable

__all__ = ["citation_record", "passage_record", "article_record", "StreamStep", "answer_steps", "parse_messages"]


def _date(p: Any) -> str:
    dt = getattr(p, "published_at", None)
    return dt.date().isoformat() if dt else ""


def citation_record(c: Citation, passages: Sequence[Passage] | dict[str, Passage]) -> dict[str, Any]:
    """One citation with its article's metadata (title, source, URL, date) from the passage it cites."""
    by_chunk = passages if isinstance(passages, dict) else {p.chunk_id: p for p in passages}
    p = by_chunk.get(c.chunk_id)
    return {"key": c.key, "article_id": c.article_id, "title": p.title if p else "", "source": p.source if p else "",
            "url": p.url if p else "", "date": _date(p), "quote": c.quote, "start": c.start, "end": c.end,
            "support": round(float(c.support), 4)}


def citation_records(answer: Answer) -> list[dict[str, Any]]:
    """Every citation of the answer, in the order they were made (a key may repeat across sentences)."""
    by_chunk = {p.chunk_id: p for p in answer.passages}
    return [citation_record(c, by_chunk) for c in answer.citations]


def passage_record(p: Passage, rank: int = 0) -> dict[str, Any]:
    """A retrieved passage: where it is in its article and how well it matched."""
    return {"rank": rank, "article_id": p.article_id, "chunk_id": p.chunk_id, "title": p.title, "source": p.source,
            "url": p.url, "date": _date(p), "section": p.section, "text": p.text, "start": p.start, "end": p.end,
            "score": round(float(p.score), 6)}


def article_record(a: Any) -> dict[str, Any]:
    """A library entry (no body)."""
    return {"id": a.id, "title": a.title, "source": a.source, "url": a.url, "date": _date(a),
            "chunks": a.chunk_count, "origin": a.origin}


def answer_record(answer: Answer) -> dict[str, Any]:
    """The answer with citations in the shape above (the full Answer stays available as `Answer.to_dict`)."""
    return {"question": answer.question, "text": answer.text, "answerable": answer.answerable,
            "citations": citation_records(answer), "as_of": answer.as_of, "model": answer.model,
            "standalone_question": answer.question,  # the earlier shape's key, now the question as asked
            "model_rewritten_question": answer.model_rewrite}


@dataclass(frozen=True)
class StreamStep:
    """One step of a streamed answer, as every streaming surface sends it.

    kind "evidence": `evidence` holds the retrieved sentences; "text": `text` is verified answer text
    (whole checked sentences) with the `citations` of that text; "answer": the final `answer`, whose text
    is authoritative (`extra_text` is what must still be sent so a client that joined the text pieces
    ends with it; `replaced` is True when the already-sent text became the refusal instead)."""

    kind: str
    text: str = ""
    citations: tuple[dict[str, Any], ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    answer: Answer | None = None
    extra_text: str = ""
    replaced: bool = False


def answer_steps(events: Iterable[Any]) -> Iterator[StreamStep]:
    """Turn Assistant.ask_stream events into StreamSteps. Only verified text is passed on: a TextDelta
    that carries `citations` (the checked-sentence stream); raw model drafts (a TextDelta without that
    field, from a pipeline that streams drafts) are held back and the final answer is sent instead.
    Unknown event types are ignored."""
    passages: dict[str, Passage] = {}
    sent = ""
    for event in events:
        if isinstance(event, EvidenceEvent):
            passages = {p.chunk_id: p for p in event.passages}
            ev = tuple({"key": e.key, "article_id": e.article_id, "title": e.title, "date": _date(e),
                        "text": e.text, "start": e.start, "end": e.end} for e in event.evidence)
            yield StreamStep("evidence", evidence=ev)
        elif isinstance(event, TextDelta) and hasattr(event, "citations"):
            if event.text:
                sent += event.text
                cites = tuple(citation_record(c, passages) for c in getattr(event, "citations", ()) or ())
                yield StreamStep("text", text=event.text, citations=cites)
        elif isinstance(event, AnswerEvent):
            answer = event.answer
            final, replaced = answer.text, False
            if not sent:
                extra = final
            elif final.strip() == sent.strip():
                extra = ""
            elif final.startswith(sent.rstrip()):
                extra = final[len(sent.rstrip()):].lstrip() if sent[-1:].isspace() else final[len(sent):]
            else:  # the checked sentences were replaced by the refusal: say so and send it whole
                extra, replaced = "\n\n" + final, True
            yield StreamStep("answer", answer=answer, extra_text=extra, replaced=replaced,
                             citations=tuple(citation_records(answer)))


def parse_messages(messages: Any) -> tuple[str, list[dict[str, str]]]:
    """The question (the last user message) and the history (the turns before it) from OpenAI-style
    messages. System messages are ignored; content given as a list of parts keeps its text parts.
    Raises ValueError naming the problem."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list of {role, content}")
    turns: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise ValueError(f"messages[{i}] needs a role of system, user or assistant")
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise ValueError(f"messages[{i}].content must be a string")
        if m["role"] in ("user", "assistant"):
            turns.append({"role": m["role"], "content": content})
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise ValueError("the last message must be a user message with the question")
    return turns[-1]["content"].strip(), turns[:-1]


def jsonable(value: Any) -> Any:
    """Plain JSON for any value of this package (re-exported for the surfaces that serialise)."""
    return to_jsonable(value)
