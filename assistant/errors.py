"""Typed errors. The library raises these; the CLI and UI turn them into one line each."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every expected failure. `hint` says how to fix it."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def one_line(self) -> str:
        """The message a user sees: what went wrong, then how to fix it."""
        msg = str(self).strip().splitlines()[0] if str(self).strip() else type(self).__name__
        return f"{msg} ({self.hint})" if self.hint else msg


class ConfigError(AssistantError):
    """Settings are missing or contradictory."""

    hint = "check your BRIEFING_* settings or .env file"


class IngestError(AssistantError):
    """A file, line or URL could not be read as an article."""

    hint = "check that the file is UTF-8 text, HTML, JSON or JSONL"


class StoreError(AssistantError):
    """The vector store could not be opened, read or written."""

    hint = "check BRIEFING_DATA_DIR or BRIEFING_CHROMA_URL"


class EmptyLibraryError(StoreError):
    """A question was asked of a library that holds no articles: most often a different data dir from
    the one that was filled (the message names the library in use)."""

    hint = "add articles with `briefing ingest PATH` (files, folders or URLs), or point --data-dir / BRIEFING_DATA_DIR at the library you filled"


class LLMError(AssistantError):
    """The language model endpoint failed after retries."""

    hint = "check OPENAI_BASE_URL / BRIEFING_LLM__BASE_URL, the API key and that the server is up"


class RequestError(AssistantError):
    """A request is malformed (the HTTP API, MCP, the Gradio API, a pack) or outside the limits in
    BRIEFING_LIMITS__* (k, question or history length); malformed ones carry their own hint."""

    hint = "make the request smaller, or raise the BRIEFING_LIMITS__* setting named in the message"


class PromptError(AssistantError):
    """A prompt template is missing or was rendered with wrong variables."""

    hint = "check the files under prompts/"
