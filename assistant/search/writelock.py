"""One writer at a time per data dir, across processes: an fcntl lock on <data_dir>/write.lock.

A threading lock only orders the threads of one process. Every ingest starts by deleting chunks
whose article is not committed yet, and a second process (a cron `briefing ingest` while the page
takes an upload) has exactly such chunks in flight: its articles were committed with no chunks and
never healed. Ingest, delete and cleanup hold this lock for their whole run.

Re-entrant within a process (an ingest deletes replaced articles while holding it), and shared by
every Store opened on the same folder: flock on a second descriptor of the same file would wait
for the first one forever.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from ..errors import StoreError

WAIT_S = 600.0  # an ingest of a large folder can take minutes; a writer waits that long before giving up
_POLL_S = 0.05


class WriteLock:
    """`with lock:` holds the data dir for writing; nested use in one process is free."""

    def __init__(self, path: Path | None, wait_s: float = WAIT_S) -> None:
        self.path = path  # None: no folder to share (a Chroma server without a data dir), threads only
        self.wait_s = wait_s
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> "WriteLock":
        self._threads.acquire()
        try:
            if self._depth == 0 and self.path is not None:
                self._fd = self._acquire_file()
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._threads.release()

    def _acquire_file(self) -> int:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                    os.close(fd)
                    raise StoreError(f"another process (pid {holder}) has been writing to this library for over "
                                     f"{self.wait_s:g} s", hint="try again when that ingest has finished") from None
                time.sleep(_POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)  # named in the message a waiting writer may see
        return fd


_shared: dict[str, WriteLock] = {}
_shared_guard = threading.Lock()


def lock_for(data_dir: Path | None) -> WriteLock:
    """The process's one WriteLock for this data dir (a thread-only lock when there is none)."""
    if data_dir is None:
        return WriteLock(None)
    path = (Path(data_dir).expanduser().resolve() / "write.lock")
    with _shared_guard:
        return _shared.setdefault(str(path), WriteLock(path))
