"""Load on a `briefing serve` child (tests/support/serve_child.py): many concurrent clients, some streaming,
a probe of /v1/models throughout, then SIGTERM. Used by tests/integration/test_serve_load.py and
evals/bench_serve.py. Traffic goes to 127.0.0.1 only, bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
KEY = "load-test-password-0123"
BODY = {"model": "briefing-assistant", "messages": [{"role": "user", "content": "Is Russia stalling?"}]}


@dataclass(frozen=True)
class Outcome:
    """One client's request: HTTP status (0: no answer in time), seconds, streamed or not, Retry-After."""

    status: int
    seconds: float
    stream: bool
    retry_after: str | None = None
    problem: str = ""


@dataclass(frozen=True)
class LoadResult:
    """What a load run measured."""

    outcomes: tuple[Outcome, ...]
    models_s: tuple[float, ...]  # /v1/models latencies during the run
    wall_s: float
    loadavg: tuple[float, float, float]
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    stop_s: float | None = None
    settings: dict = field(default_factory=dict)

    @property
    def answered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 200 and not o.problem]

    @property
    def rejected(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 429]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o not in self.answered and o.status != 429]

    def percentile(self, q: float) -> float:
        """Latency percentile of the answered requests (nearest rank)."""
        times = sorted(o.seconds for o in self.answered)
        return times[min(len(times) - 1, max(0, round(q / 100 * len(times)) - 1))] if times else float("nan")

    def summary(self) -> dict:
        """The figures as JSON-ready numbers."""
        return {"clients": len(self.outcomes), "streaming": sum(o.stream for o in self.outcomes),
                "answered": len(self.answered), "rejected_429": len(self.rejected), "failed": len(self.failed),
                "p50_s": round(self.percentile(50), 3), "p99_s": round(self.percentile(99), 3),
                "max_s": round(max((o.seconds for o in self.outcomes), default=0), 3),
                "rejected_max_s": round(max((o.seconds for o in self.rejected), default=0), 3),
                "models_probes": len(self.models_s), "models_max_s": round(max(self.models_s, default=0), 3),
                "wall_s": round(self.wall_s, 2), "rss_start_mb": round(self.rss_start_mb, 1),
                "rss_peak_mb": round(self.rss_peak_mb, 1),
                "stop_s": None if self.stop_s is None else round(self.stop_s, 2),
                "loadavg_1m": round(self.loadavg[0], 2), "cpus": os.cpu_count(), **self.settings}


async def _one(client: httpx.AsyncClient, url: str, stream: bool, timeout_s: float) -> Outcome:
    start = time.monotonic()
    try:
        return await asyncio.wait_for(_request(client, url, stream, start), timeout_s)
    except asyncio.TimeoutError:
        return Outcome(0, time.monotonic() - start, stream, problem=f"no answer within {timeout_s} s")
    except httpx.HTTPError as exc:
        return Outcome(0, time.monotonic() - start, stream, problem=f"{type(exc).__name__}: {exc}")


async def _request(client: httpx.AsyncClient, url: str, stream: bool, start: float) -> Outcome:
    headers = {"Authorization": f"Bearer {KEY}"}
    if not stream:
        r = await client.post(url, json=BODY, headers=headers)
        ok = r.status_code != 200 or r.json()["choices"][0]["finish_reason"] == "stop"
        return Outcome(r.status_code, time.monotonic() - start, False, r.headers.get("retry-after"),
                       "" if ok else "no final answer")
    async with client.stream("POST", url, json={**BODY, "stream": True}, headers=headers) as r:
        finished = done = False
        async for line in r.aiter_lines():
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: ") and r.status_code == 200:
                event = json.loads(line[6:])
                finished = finished or any(c.get("finish_reason") == "stop" for c in event.get("choices", ()))
        problem = "" if r.status_code != 200 or (done and finished) else "the stream ended without an answer"
        return Outcome(r.status_code, time.monotonic() - start, True, r.headers.get("retry-after"), problem)


async def _probe(base: str, stop: asyncio.Event, every_s: float) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(timeout=5) as client:
        while not stop.is_set():
            start = time.monotonic()
            try:
                r = await client.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
                times.append(time.monotonic() - start if r.status_code == 200 else float("inf"))
            except httpx.HTTPError:
                times.append(float("inf"))
            await asyncio.sleep(every_s)
    return times


async def drive(base: str, clients: int = 100, stream_every: int = 3, timeout_s: float = 60.0,
                probe_every_s: float = 0.2) -> tuple[list[Outcome], list[float], float]:
    """`clients` requests at once (every `stream_every`-th streamed), /v1/models probed meanwhile."""
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(base, stop, probe_every_s))
    await asyncio.sleep(probe_every_s)
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    start = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:
        outcomes = await asyncio.gather(*(_one(client, f"{base}/v1/chat/completions", i % stream_every == 0, timeout_s)
                                          for i in range(clients)))
    wall = time.monotonic() - start
    stop.set()
    return list(outcomes), await probe, wall


def _readable(sock: socket.socket) -> bool:
    # selectors (epoll here), not select.select: the full test suite holds over 1,024 descriptors, and select()
    # refuses a descriptor numbered above that ("filedescriptor out of range in select()").
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        return bool(sel.select(0))


def flood(url: str, path: str, size: int, chunked: bool, headers: dict[str, str] | None = None) -> int:
    """POST `size` bytes of JSON-ish filler to `path`, with Content-Length or chunked; stop sending as soon
    as the server answers. Returns the HTTP status (0 when the server sent nothing)."""
    host, port = url.removeprefix("http://").split(":")
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    block = b"[" + b"{}," * (256 * 1024 // 3)
    deadline = time.monotonic() + 60
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < size and time.monotonic() < deadline:
                if _readable(s):
                    break  # the server has answered: stop sending, as a real client would see it
                piece = block[: size - sent]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked and sent >= size:
                s.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed the connection while we were still sending
            pass
        try:
            line = s.recv(200).split(b"\r\n", 1)[0]
        except OSError:
            return 0
    return int(line.split()[1]) if line.startswith(b"HTTP/") else 0


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """A process's resident memory (VmRSS) or its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class ServeChild:
    """The serve_child process on `port` with `data_dir`; a context manager that stops it."""

    def __init__(self, data_dir: Path, port: int, delay: float = 0.05, concurrency: int = 4,
                 queue_size: int = 8, page: bool = False) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
        env.update({"PYTHONPATH": str(ROOT), "BRIEFING_DATA_DIR": str(data_dir), "BRIEFING_AUTH": f"load:{KEY}",
                    "BRIEFING_UI__CONCURRENCY": str(concurrency), "BRIEFING_UI__QUEUE_SIZE": str(queue_size),
                    "BRIEFING_ANSWER__STYLE": "prose", "BRIEFING_ANSWER__JUDGE": "false",
                    "SERVE_CHILD_DELAY": str(delay)})
        self.base, self.settings = f"http://127.0.0.1:{port}", {"delay_per_word_s": delay,
                                                                 "concurrency": concurrency, "queue_size": queue_size}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.support.serve_child", "serve", "--port",
                                      str(port)] + ([] if page else ["--no-page"]), cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.base}/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve_child did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
            time.sleep(0.3)

    def terminate(self, timeout_s: float = 20) -> float:
        """SIGTERM; seconds until the process was gone (inf if it had to be killed)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return float("inf")
        return time.monotonic() - start

    def __enter__(self) -> "ServeChild":
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(data_dir: Path, port: int, clients: int = 100, timeout_s: float = 60.0, **child: float) -> LoadResult:
    """Start the child, drive the load, SIGTERM it while answers are in flight; every figure measured."""
    with ServeChild(data_dir, port, **child) as server:
        server.wait_ready()
        rss_start = rss_mb(server.proc.pid)
        outcomes, models_s, wall = asyncio.run(drive(server.base, clients, timeout_s=timeout_s))
        peak = rss_mb(server.proc.pid, "VmHWM")
        stop_s = asyncio.run(_stop_while_busy(server))
        return LoadResult(tuple(outcomes), tuple(models_s), wall, os.getloadavg(), rss_start, peak, stop_s,
                          server.settings)


async def _stop_while_busy(server: ServeChild) -> float:
    # Streams in progress when SIGTERM arrives: the server must still stop within its grace period.
    async with httpx.AsyncClient(timeout=30) as client:
        pending = [asyncio.create_task(_one(client, f"{server.base}/v1/chat/completions", True, 30)) for _ in range(6)]
        await asyncio.sleep(1.0)
        stop_s = await asyncio.to_thread(server.terminate)
        await asyncio.gather(*pending)
    return stop_s
