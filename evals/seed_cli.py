"""The seed questions as a user asks them in a terminal: `briefing ask`, follow-ups with `ask -c`, stdout verbatim.

    python -m evals.seed_cli --out evals/results/seed_cli_YYYYMMDD.md [--note "what changed"]

Each question runs the real CLI in its own process against the sample briefing (ingested into a fresh data dir),
with the bundled model kept warm between calls (BRIEFING_LOCAL__KEEP_WARM, stopped at the end), as a user at a
terminal would. Wall time includes starting the CLI; the first question also starts the model server. The
transcript is what the terminal shows on stdout (status lines and the evidence list go to stderr).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIEFING = str(Path(sys.executable).with_name("briefing"))
# (follow-up?, question): the seed questions of issue 26, its follow-ups and its overview questions.
QUESTIONS = [
    (False, "Is Russia stalling?"),
    (False, "Who is Kirill Dmitriev meeting in Washington?"),
    (True, "Has either government confirmed it?"),
    (False, "How might Trump increase pressure on Russia?"),
    (True, "Which expert said that?"),
    (False, "Why did the Kremlin confirm Dmitriev's visit?"),
    (False, "Summarize this briefing in three points."),
    (False, "What is the relationship between Russia and China?"),
    (True, "What did China's foreign minister say about it?"),
    (False, "Which German sanctions expert recommended targeting Russian gas projects?"),
    (False, "How many barrels of Russian oil does China buy each day?"),
    (False, "What did Dmitriev and Witkoff agree on at their meeting?"),
]


def run(out: Path, note: str) -> None:
    """Ask QUESTIONS through the CLI and write the transcript with wall times to `out`."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "BRIEFING_DATA_DIR": data, "BRIEFING_LOCAL__KEEP_WARM": "true"}
        subprocess.run([BRIEFING, "ingest", str(ROOT / "examples" / "briefings")], env=env, check=True,
                       capture_output=True)
        lines, walls = [], []
        try:
            for follow_up, q in QUESTIONS:
                argv = [BRIEFING, "ask"] + (["-c"] if follow_up else []) + [q]
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
                wall = time.perf_counter() - t0
                walls.append(wall)
                lines += [f"$ briefing ask {'-c ' if follow_up else ''}{q}", done.stdout.rstrip(),
                          f"(wall {wall:.2f} s, load {load:.2f}, exit {done.returncode})", ""]
        finally:
            subprocess.run([BRIEFING, "stop-model"], env=env, capture_output=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    walls_sorted = sorted(walls)
    head = [f"# The seed questions, as the CLI answers them ({stamp}, at {commit.strip()})", "",
            f"Bundled model, shipped defaults, kept warm between calls; {os.cpu_count()} cores. Median wall "
            f"{walls_sorted[len(walls) // 2]:.2f} s (CLI start included). {note}".rstrip(), "", "```text"]
    out.write_text("\n".join(head + lines + ["```", ""]), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    run(args.out, args.note)


if __name__ == "__main__":
    main()
