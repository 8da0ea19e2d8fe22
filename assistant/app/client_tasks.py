"""The chat clients' own housekeeping prompts, answered without searching the briefings.

Open WebUI and LibreChat send the chat model prompts of their own besides the user's questions: a chat title,
tags, follow-up suggestions, search queries (Open WebUI, by default after every answer), a conversation title
(LibreChat, `titleConvo`). Taken as questions over the briefings they come back as "The briefings don't say."
(the chat is then titled that) or as a 400 for a question over BRIEFING_LIMITS__MAX_QUESTION_CHARS, since
they quote the whole chat.

Recognised by the structure each client gives every such prompt, not by its wording (Open WebUI rewords its
templates between releases; users edit them in the admin panel):

- Open WebUI: a message that starts with "### Task:" and quotes the chat between <chat_history> tags; the
  reply is the JSON object its "Output" section shows, with the same keys (open-webui/open-webui,
  backend/open_webui/config.py, DEFAULT_*_PROMPT_TEMPLATE).
- LibreChat: a message asking for a "title for the conversation" that quotes the conversation as "User: ..."
  lines (danny-avila/agents src/utils/title.ts, defaultCompletionPrompt; the older
  api/app/clients/prompts/titlePrompts.js); the reply is the bare title.

The reply is deterministic and made of the user's own words, never model text: the title is the first
question of the chat, shortened; lists (tags, follow-ups, queries) are empty, which both clients take as
"none" (an empty "queries" list tells Open WebUI no web or knowledge search is needed). No model call, so
housekeeping never waits in the answer queue or holds the model while a user waits for an answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

TITLE_WORDS = 8  # a title longer than this is cut, with an ellipsis; the clients ask for 2-5 words

_OWUI_TASK = re.compile(r"\A\s*###\s*Task:", re.IGNORECASE)
_OWUI_OUTPUT = re.compile(r"^#+\s*\**\s*Output\b", re.IGNORECASE | re.MULTILINE)
_FLAT_OBJECT = re.compile(r"\{[^{}]*\}")
_HISTORY = re.compile(r"<chat_history>(.*?)(?:</chat_history>|\Z)", re.DOTALL | re.IGNORECASE)
_TITLE_REQUEST = re.compile(r"\btitle for (?:the|this) conversation\b", re.IGNORECASE)
_USER_LINE = re.compile(r"^\W*user\s*:[ \t]*(.*)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ClientTask:
    """A client's housekeeping prompt: which client sent it, what it asks for (the JSON keys it wants, or
    "title" for a bare title) and the reply to send as the assistant message."""

    client: str  # "open-webui" or "librechat"
    kind: str  # "title", "tags", "follow_ups", "queries", ... (Open WebUI: the keys of its JSON, joined by "+")
    reply: str


def client_task(messages: Any) -> ClientTask | None:
    """The housekeeping task the last message of an OpenAI-style `messages` list is, or None for a question."""
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    text = _text(messages[-1].get("content"))
    if _OWUI_TASK.match(text) and _HISTORY.search(text):
        return _open_webui(text)
    if _TITLE_REQUEST.search(text) and _first_user_line(text):
        return ClientTask("librechat", "title", short_title(_first_user_line(text)))
    return None


def short_title(question: str, words: int = TITLE_WORDS) -> str:
    """A chat title from the user's question: one line, without surrounding quotes or the final question
    mark, at most `words` words (cut with an ellipsis)."""
    parts = question.split()
    cut = len(parts) > words
    title = " ".join(parts[:words]).strip(" \"'\u201c\u201d\u2018\u2019`*_")
    title = title.rstrip("?!.,;:")
    if not title:
        return "Briefings"
    title = title[:1].upper() + title[1:]
    return title + "\u2026" if cut else title


def _open_webui(text: str) -> ClientTask:
    history = _HISTORY.search(text)
    instructions = text[:history.start()] if history else text
    example = _output_example(instructions)
    question = _first_user_line(history.group(1) if history else "")
    reply: dict[str, Any] = {}
    for key, shown in example.items():
        if isinstance(shown, list):
            reply[key] = []
        elif key == "title":
            reply[key] = short_title(question) if question else "Briefings"
        else:  # "text" (autocomplete), "prompt" (image prompt): nothing to add
            reply[key] = "" if isinstance(shown, str) else None
    return ClientTask("open-webui", "+".join(example) or "unknown", json.dumps(reply, ensure_ascii=False))


def _output_example(instructions: str) -> dict[str, Any]:
    """The JSON object shown after the first "Output" heading (the reply's shape), else {}."""
    heading = _OWUI_OUTPUT.search(instructions)
    if heading is None:
        return {}
    for candidate in _FLAT_OBJECT.finditer(instructions, heading.end()):
        try:
            shown = json.loads(candidate.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(shown, dict) and shown:
            return shown
    return {}


def _first_user_line(text: str) -> str:
    """The first user turn quoted in a chat transcript ("USER: ...", "User: ...", or LibreChat's older
    "||>User:" with the turn on the next line)."""
    m = _USER_LINE.search(text)
    if m is None:
        return ""
    if m.group(1).strip():
        return m.group(1).strip()
    rest = text[m.end():].strip().splitlines()
    return rest[0].strip() if rest else ""


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


__all__ = ["ClientTask", "client_task", "short_title"]
