"""`briefing ingest --every` in a child process (the real CLI, embedded Chroma, the test embedder; see
tests/support/cli_child.py): each round picks up what is new, and Ctrl-C or SIGTERM ends the loop cleanly
(exit 0, "stopped"), also when the signal comes in the middle of a round."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from ..conftest import ROOT, SEED

pytestmark = pytest.mark.integration


def start(data_dir, folder, every: str, delay: float = 0.0) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env.update(CHILD_EMBED_DELAY=str(delay), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "tests.support.cli_child", "ingest", "--json", "--every", every,
           "--data-dir", str(data_dir), str(folder)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def next_report(proc: subprocess.Popen) -> dict:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_rounds_pick_up_new_files_and_a_signal_in_the_wait_stops_cleanly(tmp_path, sig):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    proc = start(tmp_path / "data", folder, "1s")
    try:
        first = next_report(proc)
        assert len(first["added"]) == 1 and "at" in first
        (folder / "second.txt").write_text("Ceasefire talks resumed in Geneva on Friday, officials said.\n")
        second = next_report(proc)
        while not second["added"]:  # the file may land just after a round began
            second = next_report(proc)
        assert len(second["added"]) == 1 and second["failed"] == []
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "briefing: stopped" in err and "Traceback" not in err


def test_a_signal_during_a_round_lets_the_round_finish(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"brief-{i}.txt").write_text(f"Story {i}. Negotiators met in Geneva on day {i}.\n")
    proc = start(tmp_path / "data", folder, "1h", delay=2.0)  # each embed call takes 2 s
    try:
        deadline = time.monotonic() + 60
        while "ingesting every" not in (line := proc.stderr.readline()):
            assert line and time.monotonic() < deadline
        time.sleep(0.5)  # inside the first round's embedding
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert len(json.loads(out.splitlines()[0])["added"]) == 3  # the round was finished, not cut short
    assert "stopping after this round" in err and "briefing: stopped" in err
