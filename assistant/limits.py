"""Request limits (BRIEFING_LIMITS__*): one rule and one message for every entry point (Python, CLI,
the page, the Gradio and HTTP APIs), so a request refused in one place is refused in all."""

from __future__ import annotations

from typing import Any, Sequence

from .config import LimitSettings
from .errors import RequestError


def check_request(lim: LimitSettings, question: Any, history: Sequence[Any] | None = None, k: int | None = None,
                  max_dates: int | None = None) -> None:
    """Raise RequestError when a request is outside the limits; the hint names the setting to raise."""
    if not isinstance(question, str):
        raise RequestError(f"the question must be text, not {type(question).__name__}", hint="pass a string")
    if len(question) > lim.max_question_chars:
        raise RequestError(f"the question has {len(question):,} characters, over the limit of "
                           f"{lim.max_question_chars:,}",
                           hint="shorten it, or raise BRIEFING_LIMITS__MAX_QUESTION_CHARS")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= lim.max_k):
        raise RequestError(f"k must be a whole number from 1 to {lim.max_k}, got {k!r}",
                           hint="ask for fewer passages, or raise BRIEFING_LIMITS__MAX_K")
    if max_dates is not None and (not isinstance(max_dates, int) or not 1 <= max_dates <= lim.max_timeline_dates):
        raise RequestError(f"max_dates must be from 1 to {lim.max_timeline_dates}, got {max_dates!r}",
                           hint="ask for fewer dates, or raise BRIEFING_LIMITS__MAX_TIMELINE_DATES")
    if history:
        if len(history) > lim.max_history_messages:
            raise RequestError(f"the history has {len(history)} messages, over the limit of "
                               f"{lim.max_history_messages}",
                               hint="send only the last turns, or raise BRIEFING_LIMITS__MAX_HISTORY_MESSAGES")
        size = sum(len(str(m.get("content", "")) if isinstance(m, dict) else str(m)) for m in history)
        if size > lim.max_history_chars:
            raise RequestError(f"the history has {size:,} characters, over the limit of {lim.max_history_chars:,}",
                               hint="send only the last turns, or raise BRIEFING_LIMITS__MAX_HISTORY_CHARS")
