"""`briefing ingest --every INTERVAL` (keep a library fresh from folders and feeds) and `briefing reindex`,
as the CLI runs them: what they print, how they stop, and their exit codes.

The refresh loop runs a round (one ingest), prints its report, then waits. Ctrl-C or SIGTERM stops it
cleanly: during the wait at once, during a round once that round has finished (a second signal stops
at once; an interrupted ingest is finished by the next one, see ingest/pipeline.py). A round that
fails is logged and tried again at the next one, so a feed that is down for an hour does not end the
loop.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
import time
from datetime import datetime
from typing import Any, Callable

from ..errors import AssistantError, RequestError

log = logging.getLogger(__name__)

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.I)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """Seconds in an interval such as "30m", "1h", "1h30m", "90s" or "2d"; a bare number is minutes."""
    raw = (text or "").strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        seconds = float(raw) * 60
    elif raw and _PART.sub("", raw).strip() == "":
        seconds = sum(float(n) * _UNIT_S[u] for n, u in _PART.findall(raw))
    else:
        raise RequestError(f"--every {text!r} is not an interval", hint="use e.g. 30m, 1h, 1h30m or 90s")
    if seconds < 1:
        raise RequestError(f"--every {text!r} is shorter than a second", hint="use e.g. 30m")
    return seconds


def run_every(round_fn: Callable[[], Any], every_s: float, stop: threading.Event,
              show: Callable[[str, Any], None], rounds: int | None = None) -> int:
    """Call `round_fn` now and then every `every_s` seconds (measured from each round's start) until
    `stop` is set or `rounds` have run; `show(started_at, result)` after each. Returns the rounds run."""
    done = 0
    while not stop.is_set():
        started = time.monotonic()
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            show(stamp, round_fn())
        except AssistantError as exc:
            log.warning("round at %s failed: %s; trying again in %s", stamp, exc.one_line(), _human(every_s))
        except Exception:  # a bug or an unexpected library error must not end a loop left running for days
            log.exception("round at %s failed; trying again in %s", stamp, _human(every_s))
        done += 1
        if rounds is not None and done >= rounds:
            break
        stop.wait(max(0.0, every_s - (time.monotonic() - started)))
    return done


def stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT and SIGTERM set `stop` (a second one stops at once); returns the undo."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():  # asked twice: do not wait for the round
            raise KeyboardInterrupt
        print("briefing: stopping after this round (again to stop now)", file=sys.stderr, flush=True)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)

    def undo() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return undo


def ingest_every(a: Any, paths: list[str], feed: str | None, every: str, as_json: bool) -> int:
    """`briefing ingest PATHS --feed URL --every 30m`: ingest now and every interval until stopped; 0 when
    stopped by Ctrl-C or SIGTERM."""
    every_s = parse_every(every)
    stop = threading.Event()
    undo = stop_on_signals(stop)
    try:
        print(f"briefing: ingesting every {_human(every_s)} into {a.library_location()}; Ctrl-C or SIGTERM stops",
              file=sys.stderr, flush=True)

        def show(at: str, report: Any) -> None:
            # Inputs that could not be read are listed in the report (failed: ...); the loop goes on.
            line = json.dumps({"at": at, **report.to_dict()}, ensure_ascii=False) if as_json else f"{at} {report}"
            print(line, flush=True)

        run_every(lambda: a.ingest(paths, feed=feed), every_s, stop, show)
    finally:
        undo()
    print("briefing: stopped", file=sys.stderr, flush=True)
    return 0


def reindex(a: Any, as_json: bool) -> int:
    """`briefing reindex`: the report as text or JSON; progress as a bar on a terminal."""
    from dataclasses import asdict

    from tqdm import tqdm

    bar = tqdm(desc="reindexing", unit="chunk", disable=None, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        report = a.reindex(on_chunks=progress)
    finally:
        bar.close()
    print(json.dumps(asdict(report)) if as_json else report)
    return 0


def _human(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
