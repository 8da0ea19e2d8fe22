"""A chat model that is started on first use.

The composition root (assistant.py) builds the answer pipeline at once but must not start a model
server then: `briefing ingest` never needs one, and starting the bundled model takes seconds. So the
pipeline is handed a `LazyChat`, which behaves as the chat model and makes it the first time anything
of it is used.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .llm import ChatModel

Closer = Callable[[], None]


class LazyChat:
    """A ChatModel whose real model is made by `start()` (-> model, closer or None) on first use.

    Every attribute (`name`, `constrain`, `complete`, `stream`, ...) is the real model's, so the code
    using it cannot tell the difference. `start` runs once, under a lock; `stop()` calls the closer.
    """

    def __init__(self, start: Callable[[], tuple["ChatModel", Closer | None]], model: Any | None = None) -> None:
        self._start = start
        self._model = model
        self._lock = threading.Lock()
        self._closers: list[Closer] = []

    def get(self) -> Any:
        """The real chat model, started now if it was not yet."""
        with self._lock:
            if self._model is None:
                self._model, closer = self._start()
                if closer is not None:
                    self._closers.append(closer)
            return self._model

    def peek(self) -> Any | None:
        """The model if there is one yet (never starts it)."""
        return self._model

    def set(self, model: Any | None) -> None:
        """Use this model from now on (None: start one on the next use)."""
        with self._lock:
            self._model = model

    def stop(self) -> None:
        """Stop whatever `start` started (the local model server); the model is not forgotten."""
        while self._closers:
            self._closers.pop()()

    def __getattr__(self, name: str) -> Any:
        # Only called for names LazyChat itself lacks, i.e. the chat model's own.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)
