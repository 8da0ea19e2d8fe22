"""How `briefing serve` holds answers under load: a bounded queue in front of a pool of model threads.

Every answer needs model time, which does not grow with the number of clients: `workers` answers are
worked on at once (BRIEFING_UI__CONCURRENCY), up to `waiting` more wait their turn in order, and one
more is told at once to come back (Busy: 429 with Retry-After) instead of holding a connection for
minutes. Model work runs on the queue's own threads, never on the server's event loop or on the
thread pool the server keeps for everything else, so `/v1/models`, the page and shutdown stay quick
however many answers are in progress. The threads are daemons: stopping the server never waits for a
model call in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import queue
import threading
import time
from typing import Any, Callable, Iterator, TypeVar

from ..config import Settings
from ..errors import AssistantError

T = TypeVar("T")


class Busy(AssistantError):
    """Every place in the answer queue is taken; `retry_after` seconds is a fair guess at a free one."""

    hint = "retry after the number of seconds in Retry-After, or raise BRIEFING_UI__QUEUE_SIZE"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def workers(settings: Settings) -> int:
    """Answers worked on at once: BRIEFING_UI__CONCURRENCY, else 1 for the bundled model, 4 for an endpoint."""
    if settings.ui.concurrency is not None:
        return settings.ui.concurrency
    return 1 if settings.llm.uses_local else 4


def waiting(settings: Settings) -> int:
    """Answers that may wait for a place: BRIEFING_UI__QUEUE_SIZE, else 8 per answer worked on at once."""
    return settings.ui.queue_size if settings.ui.queue_size is not None else 8 * workers(settings)


def page_queue_size(settings: Settings) -> int:
    """Events the chat page's Gradio queue holds before it answers "queue is full": the answer line
    (workers + waiting) twice over, because the page's light events (the library listing on every page
    load, deletes) wait in the same queue as its answers and uploads."""
    return 2 * (workers(settings) + waiting(settings))


class DaemonPool:
    """`size` daemon threads running submitted calls in order (a ThreadPoolExecutor's threads are joined
    at interpreter exit, so one slow model call would hold up a SIGTERM)."""

    def __init__(self, size: int, name: str = "answer") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(size)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run `fn(*args)` on a pool thread."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._jobs.put((future, fn, args))
        return future

    def shutdown(self) -> None:
        """Let the threads end after the calls already queued (the server is stopping)."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
                future.set_exception(exc)


class Steps:
    """One answer's steps, advanced and closed only on pool threads and one call at a time: a generator
    cannot be closed while another thread is inside its next(), and closing it is what stops the model
    call of a client that went away."""

    def __init__(self, start: Callable[[], Iterator[T]]) -> None:
        self._start, self._it, self._lock = start, None, threading.Lock()

    def next(self) -> Any:
        """The next step, or None at the end (the first call starts the answer)."""
        with self._lock:
            if self._it is None:
                self._it = self._start()
            return next(self._it, None)

    def close(self) -> None:
        """Stop the answer (waits for a next() in progress on another thread)."""
        with self._lock:
            if self._it is not None:
                self._it.close()  # type: ignore[attr-defined]


class Place:
    """One admitted answer's place; `leave` gives it back once, whichever path ends the request."""

    def __init__(self, owner: "AnswerQueue") -> None:
        self._owner, self._started, self._left = owner, time.monotonic(), False

    def leave(self) -> None:
        """Free the place (event-loop thread only; a second call does nothing)."""
        if not self._left:
            self._left = True
            self._owner._leave(time.monotonic() - self._started)


class AnswerQueue:
    """`workers` answers at once on a DaemonPool of that size, `waiting` more in line, Busy beyond that.
    Admission is bookkept on the event loop (no lock): enter/leave run there, model work on the pool."""

    def __init__(self, workers: int, waiting: int, wait_s: float = 300.0) -> None:
        self.workers, self.waiting, self.wait_s = workers, waiting, wait_s
        self.pool = DaemonPool(workers)
        self._slots = asyncio.Semaphore(workers)
        self._admitted = 0
        self._mean_s = 5.0  # a guess until answers have been timed
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "AnswerQueue":
        """Sized by BRIEFING_UI__CONCURRENCY, BRIEFING_UI__QUEUE_SIZE and BRIEFING_UI__QUEUE_WAIT_S."""
        return cls(workers(settings), waiting(settings), settings.ui.queue_wait_s)

    @property
    def admitted(self) -> int:
        """Answers being worked on or waiting."""
        return self._admitted

    async def enter(self) -> Place:
        """A place among the workers, after waiting in line if need be. Raises Busy at once when the line
        is full, or when no place came free within `wait_s`."""
        self._loop = asyncio.get_running_loop()
        if self._admitted >= self.workers + self.waiting:
            raise Busy("too many answers in progress and waiting; try again shortly", self.retry_after())
        self._admitted += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except asyncio.TimeoutError:
            self._admitted -= 1
            raise Busy(f"no place for this answer came free within {self.wait_s:g} s", self.retry_after()) from None
        except BaseException:
            self._admitted -= 1
            raise
        return Place(self)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a pool thread, awaited without holding the event loop."""
        return await asyncio.wrap_future(self.pool.submit(fn, *args))

    def finish(self, steps: Steps, place: Place) -> None:
        """Close `steps` on a pool thread, then free `place`. Never awaits, so it is safe where a
        cancelled request unwinds; the place stays taken until the model call has really stopped."""
        loop = self._loop or asyncio.get_running_loop()
        future = self.pool.submit(steps.close)

        def done(_: Any) -> None:
            try:
                loop.call_soon_threadsafe(place.leave)
            except RuntimeError:  # the loop is closed: the server is gone, nothing to give back
                pass
        future.add_done_callback(done)

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the line ahead, at the mean answer time, over the workers."""
        ahead = max(1, self._admitted - self.workers + 1)
        return max(1, min(120, math.ceil(self._mean_s * ahead / self.workers)))

    def close(self) -> None:
        """Stop the pool's threads once idle (server shutdown)."""
        self.pool.shutdown()

    def _leave(self, seconds: float) -> None:
        self._mean_s = 0.8 * self._mean_s + 0.2 * seconds
        self._admitted -= 1
        self._slots.release()
