"""`briefing serve` under load and hostile bodies: the figures behind issue 28, items 1 and 2.

    python -m evals.bench_serve [--clients 100] [--out bench]        (`make bench-serve`)

Load: the real command in a child process (tests/support/serve_child.py) over a fake model that writes
a 14-word answer at 0.05 s a word (0.7 s of "model time", like a small model on a busy CPU), 4 answers at
once and 8 waiting; `--clients` requests at once on 127.0.0.1, every third streamed, each with a 60 s
timeout, /v1/models probed every 0.2 s meanwhile; then SIGTERM while six streams are in flight.
Recorded: p50/p99 latency of the answered requests, the 429 count and how fast they came, /v1/models
worst latency, the child's RSS at start and its peak (VmHWM), seconds from SIGTERM to exit, load average.

Hostile bodies: a second child with the chat page, sent 100 MB POSTs without a key (chunked, so no
Content-Length tells the server in advance) to /v1/chat/completions and to the page's queue endpoint;
recorded: the status and the child's peak RSS before and after. Before the gate, a 200 MB POST took the
server from 70 MB to 480 MB.

Traffic goes to 127.0.0.1 only and is bounded in count and time. The model is a fake: these figures say
how the server holds up, not how fast answers are (that is `make bench`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tests.support.live_app import free_port
from tests.support.serve_load import ServeChild, flood, rss_mb, run

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def hostile_bodies(data_dir: Path, size_mb: int = 100) -> list[dict]:
    """Unauthenticated big bodies against a child with the page: status and peak RSS per target."""
    rows = []
    with ServeChild(data_dir, free_port(), page=True) as server:
        server.wait_ready()
        for path in ("/v1/chat/completions", "/gradio_api/queue/join"):
            before = rss_mb(server.proc.pid, "VmHWM")
            start = time.monotonic()
            status = flood(server.base, path, size_mb * MB, chunked=True)
            rows.append({"path": path, "sent_mb": size_mb, "status": status,
                         "seconds": round(time.monotonic() - start, 2),
                         "peak_rss_before_mb": round(before, 1),
                         "peak_rss_after_mb": round(rss_mb(server.proc.pid, "VmHWM"), 1)})
    return rows


def markdown(load: dict, bodies: list[dict]) -> str:
    lines = [
        "# `briefing serve` under load and hostile bodies",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, `make bench-serve` (evals/bench_serve.py). A fake model "
        f"({load['delay_per_word_s']} s a word, 14 words), concurrency {load['concurrency']}, "
        f"queue {load['queue_size']}; load average {load['loadavg_1m']} on {load['cpus']} CPUs "
        "(shared machine).",
        "",
        "## Load",
        "",
        "| clients | streamed | answered | 429 | failed | p50 s | p99 s | 429 slowest s | /v1/models worst s "
        "| RSS start MB | RSS peak MB | SIGTERM to exit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {load['clients']} | {load['streaming']} | {load['answered']} | {load['rejected_429']} | {load['failed']} "
        f"| {load['p50_s']} | {load['p99_s']} | {load['rejected_max_s']} | {load['models_max_s']} "
        f"| {load['rss_start_mb']} | {load['rss_peak_mb']} | {load['stop_s']} |",
        "",
        "## 100 MB without a key (chunked: no Content-Length)",
        "",
        "| path | status | seconds | peak RSS before MB | peak RSS after MB |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{b['path']}` | {b['status']} | {b['seconds']} | {b['peak_rss_before_mb']} | {b['peak_rss_after_mb']} |"
              for b in bodies]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--out", default=str(ROOT / "bench"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp) / "load", free_port(), clients=args.clients, timeout_s=60)
        bodies = hostile_bodies(Path(tmp) / "page")
    load = result.summary()
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "load": load, "hostile_bodies": bodies,
              "failed_examples": [o.problem or o.status for o in result.failed][:5]}
    out = Path(args.out)
    (out / "serve_load.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "serve_load.md").write_text(markdown(load, bodies))
    print(markdown(load, bodies))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
