"""Logging for the `briefing` command and the chat page: configured once, at the edge.

The library only creates loggers (`logging.getLogger(__name__)`); this module decides where their
records go. Only the `assistant` logger gets a handler, so chromadb, httpx and gradio keep their own
(quiet) defaults even at DEBUG. Status lines meant for a person (model assembly, server start) go
through `status()`, which writes to a terminal and logs otherwise.
"""

from __future__ import annotations

import logging
import sys

_HANDLER_NAME = "briefing-assistant"
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of each record, not the one at configuration
    (it may be replaced later: pytest's capture, a daemonised server)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def level_from(verbose: int = 0, log_level: str | None = None, setting: str = "WARNING", debug: bool = False) -> str:
    """The level to use: --log-level, else -v (INFO) / -vv (DEBUG), else BRIEFING_DEBUG (DEBUG), else
    BRIEFING_LOG_LEVEL."""
    if log_level:
        return log_level.upper()
    if verbose:
        return "DEBUG" if verbose > 1 else "INFO"
    return "DEBUG" if debug else setting.upper()


def configure_logging(level: str = "WARNING") -> logging.Logger:
    """Send the assistant's log records at `level` and above to stderr. Calling it again only changes
    the level: there is never a second handler (so no line is printed twice)."""
    name = level.upper()
    if name not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(_LEVELS)}")
    logger = logging.getLogger("assistant")
    handler = next((h for h in logger.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _Stderr()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False  # an application that configures the root logger would print it twice
    logger.setLevel(name)
    return logger


def status(message: str, logger: logging.Logger | None = None) -> None:
    """One line for the person waiting (model assembly, server start): on stderr when it is a terminal,
    else an INFO log record (scripts and --json output stay clean)."""
    if sys.stderr is not None and sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)
    else:
        (logger or logging.getLogger("assistant")).info(message)
