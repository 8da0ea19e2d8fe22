"""`briefing ... | head`: the reader leaving early ends the CLI quietly (exit 141), with no traceback."""

from __future__ import annotations

import subprocess
import sys

# The command's output is stood in for by 1 MB of text: more than a pipe holds, so writing blocks until the
# reader has gone and then fails with EPIPE, as `briefing search --json | head` does on a big library.
_SCRIPT = """
import sys
from assistant.app import cli
cli._run = lambda args, factory: print("x" * (1 << 20)) or 0
sys.exit(cli.main(["doctor"]))
"""


def test_a_closed_pipe_ends_the_cli_without_a_traceback():
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.read(10) == b"x" * 10
    proc.stdout.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
