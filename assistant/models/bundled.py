"""The bundled model's chat: the local llama.cpp server's client, which notices when the server died.

A server process can die under a request (a llama.cpp build that does not suit the CPU, the OOM killer).
The client then sees only a dropped connection; this says what happened and where the server's log is,
and starts a new server before the next request, so a chat window outlives one crash.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import LLMError

if TYPE_CHECKING:
    # Not .llm's types: llm.py builds this wrapper, and the import-cycle check counts typing imports.
    from .local_server import LocalServer

log = logging.getLogger(__name__)

REBUILD_HINT = ("ask again to restart it; if it dies on every question, see its log ({log}) — a llama.cpp "
                "built for another CPU crashes: run `make install` to build it for this one")


class BundledChat:
    """An OpenAIChat to the local server (`connect(base_url)` makes one); every other attribute is the
    client's own. A request that fails because the server died raises an LLMError that says so."""

    def __init__(self, server: "LocalServer", connect: Callable[[str], Any]) -> None:
        self.server = server
        self._connect = connect
        self._chat = connect(server.base_url)
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._chat, name)

    def complete(self, messages: list[dict[str, str]], **opts: Any) -> Any:
        """The client's `complete`, on a live server."""
        chat = self._live()
        try:
            return chat.complete(messages, **opts)
        except LLMError as exc:
            raise self._diagnosed(exc) from exc

    def stream(self, messages: list[dict[str, str]], **opts: Any) -> Iterator[Any]:
        """The client's `stream`, on a live server."""
        chat = self._live()
        try:
            yield from chat.stream(messages, **opts)
        except LLMError as exc:
            raise self._diagnosed(exc) from exc

    def close(self) -> None:
        """Release the client's connections (the server is stopped by its owner)."""
        self._chat.close()

    def _live(self) -> Any:
        with self._lock:
            how = self.server.died()
            if how:
                log.warning("the bundled model server %s; starting a new one (log: %s)", how, self.server.log_path)
                self._chat.close()
                self.server.stop()
                self.server.start()
                self._chat = self._connect(self.server.base_url)
            return self._chat

    def _diagnosed(self, exc: LLMError) -> LLMError:
        # The client may see the dropped connection a moment before the process has exited.
        how = self.server.died()
        for _ in range(10):
            if how:
                break
            time.sleep(0.1)
            how = self.server.died()
        if not how:
            return exc
        return LLMError(f"the bundled model server {how} while answering",
                        hint=REBUILD_HINT.format(log=self.server.log_path))
