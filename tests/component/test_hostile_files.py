"""Files built to hurt the reader (issue 28, items 4 and 13): text whose parsing time grows faster
than its size, and folders whose symlinks lead out of the tree being ingested."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from assistant.ingest.files import iter_articles, read_file
from assistant.types import Article, IngestFailure

SIZE_RATIO = 20  # the large file is this many times the small one
SLACK = 3.0  # linear parsing stays near SIZE_RATIO; the quadratic one was ~SIZE_RATIO ** 2


def _short_lines(path: Path, size: int) -> Path:
    # Short lines of growing length (each a heading candidate) with a markdown heading now and then.
    lines, total, i = [], 0, 0
    while total < size:
        line = f"## part {i}" if i % 10 == 0 else f"ln {i}"
        lines.append(line)
        total += len(line) + 1
        i += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _parse(paths: list[str], conn) -> None:
    times = []
    for path in paths:
        started = time.perf_counter()
        got = list(read_file(Path(path), 30_000_000))
        times.append(time.perf_counter() - started)
        assert len(got) == 1
    conn.send(times)


def _parse_seconds(paths: list[Path], budget: float | None) -> list[float] | None:
    """Time to read each of `paths` in a forked child, or None when they ran past `budget` (the child
    is killed: a quadratic parse of the large file would run for hours)."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_parse, args=([str(p) for p in paths], send))
    child.start()
    try:
        return recv.recv() if recv.poll(budget) else None
    finally:
        child.kill()
        child.join()


def test_a_10_mb_file_of_short_lines_parses_in_linear_time(tmp_path):
    small = _short_lines(tmp_path / "small.md", 10_000_000 // SIZE_RATIO)
    large = _short_lines(tmp_path / "large.md", 10_000_000)
    t_small = min(_parse_seconds([small, small], None))
    budget = t_small * SIZE_RATIO * SLACK
    t_large = _parse_seconds([large], budget)
    t_large = t_large and t_large[0]
    print(f"parse: {small.stat().st_size / 1e6:.1f} MB in {t_small:.3f} s, {large.stat().st_size / 1e6:.1f} MB in "
          f"{t_large if t_large is None else round(t_large, 3)} s (budget {budget:.2f} s)")
    assert t_large is not None, (f"{SIZE_RATIO}x the text took over {SIZE_RATIO * SLACK:g}x the time "
                                 f"(small file {t_small:.3f} s): parsing is not linear")


def test_a_markdown_heading_with_a_long_run_of_spaces_parses_in_linear_time(tmp_path):
    # "(.*?)\s*#*\s*$" backtracked cubically on such a line: 2,000 spaces took 10 s, 20,000 would take hours.
    files = []
    for n in (1_000, 10_000):
        files.append(tmp_path / f"spaces-{n}.md")
        files[-1].write_text(f"# Port {' ' * n}reopens ##\n\nThe port reopened on Tuesday after a closure.\n")
    times = _parse_seconds(files * 3, 60)  # a guard against hanging; the check is the ratio below
    assert times is not None, "a heading line of 10,000 spaces did not parse within a minute"
    small, large = min(times[0::2]), min(times[1::2])
    assert large < small * 10 * SLACK, f"10x the spaces took {large / small:.0f}x the time"
    (art,) = list(read_file(files[1], 1_000_000))
    assert art.title.startswith("Port ") and art.title.endswith("reopens")
    start, end, level = art.headings[0]
    assert art.body[start:end] == art.title and level == 1


def test_markdown_heading_spans_keep_their_meaning(tmp_path):
    p = tmp_path / "h.md"
    p.write_text("#   Grain deal   ##\n\nShips left Odesa on Wednesday.\n\n## C#\n\nMore text here.\n")
    (art,) = list(read_file(p, 1_000_000))
    assert [(art.body[s:e], lvl) for s, e, lvl in art.headings] == [("Grain deal", 1), ("C", 2)]


def test_folder_ingest_does_not_follow_symlinks_out_of_the_tree(tmp_path):
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_text("Private notes that must stay out of the library, about the budget.")
    (outside / "deep" / "other.txt").write_text("Another private file reached through a linked folder.")
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    (lib / "a.txt").write_text("The port of Kestrel reopened on Tuesday after a two-week closure.")
    (lib / "sub" / "b.txt").write_text("Dock workers expect a hundred ships this month, officials said.")
    os.symlink(outside / "secret.txt", lib / "leak.txt")
    os.symlink(outside / "deep", lib / "linked")
    os.symlink(lib / "sub", lib / "sub-alias")  # inside the tree: still read (once)
    os.symlink(lib / "a.txt", lib / "sub" / "a-alias.txt")

    got = list(iter_articles([lib], 1_000_000))
    read = sorted(Path(a.origin).name for a in got if isinstance(a, Article))
    failed = {Path(f.where).name: f.reason for f in got if isinstance(f, IngestFailure)}
    assert read == ["a.txt", "b.txt"]
    assert set(failed) == {"leak.txt", "linked"}
    assert all("outside the folder" in why for why in failed.values())
    # Named on its own, a file is read wherever it is: the user chose it.
    assert [Path(a.origin).name for a in iter_articles([lib / "leak.txt"], 1_000_000)] == ["secret.txt"]
