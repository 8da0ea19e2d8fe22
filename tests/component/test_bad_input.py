"""Bad input through the whole ingest path (real embedded Chroma, fake embedder): every kind of broken
file gets one clear message in the report, the store holds exactly what it held before plus the good
articles of the same run, and nothing good is lost.

The files are generated here; the `CASES` table counts what the closing note reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assistant.ingest.files import content_hash

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
GOOD_TEXT = "The envoy met officials in Washington on Tuesday. Talks on the ceasefire continued.\n"


def snapshot(assistant) -> dict:
    """Everything a reader can see: article ids with hash, title and chunk count; chunk ids by article."""
    store = assistant.store
    articles = {i: (r.content_hash, r.title, r.chunk_count) for i, r in store.article_records().items()}
    chunks = sorted((c.chunk.id, c.chunk.article_id, c.meta.get("content_hash")) for c in store.all_chunks())
    return {"articles": articles, "chunks": chunks}


def reasons(report) -> dict[str, str]:
    """Failure reason by the last part of `where` (file name, or name:line)."""
    return {Path(f.where).name: f.reason for f in report.failed}


@pytest.fixture
def library(fake_assistant, tmp_path):
    """An assistant with one article already stored, and its snapshot."""
    seed = tmp_path / "seed.txt"
    seed.write_text("Seed briefing. Moscow and Kyiv exchanged prisoners on Monday.\n", encoding="utf-8")
    assert len(fake_assistant.ingest([seed]).added) == 1
    return fake_assistant, snapshot(fake_assistant)


def assert_only_added(assistant, before: dict, added_ids: list[str]) -> None:
    """The store holds the earlier contents unchanged plus exactly `added_ids` (with their chunks)."""
    after = snapshot(assistant)
    assert {k: v for k, v in after["articles"].items() if k in before["articles"]} == before["articles"]
    assert sorted(set(after["articles"]) - set(before["articles"])) == sorted(added_ids)
    old_chunks = [c for c in after["chunks"] if c[1] in before["articles"]]
    assert old_chunks == before["chunks"]
    new_chunks = [c for c in after["chunks"] if c[1] not in before["articles"]]
    assert {c[1] for c in new_chunks} == set(added_ids)
    for aid in added_ids:  # every added article is whole: its record counts exactly its chunks
        assert after["articles"][aid][2] == sum(1 for c in new_chunks if c[1] == aid)
    assert len({c[0] for c in after["chunks"]}) == len(after["chunks"])


def test_broken_files_are_reported_and_the_good_ones_in_the_same_run_are_kept(library, tmp_path):
    assistant, before = library
    d = tmp_path / "drop"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.txt").write_text("  \n\t \n\n", encoding="utf-8")
    (d / "photo.txt").write_bytes(PNG + bytes(range(256)) * 4)
    (d / "latin1.txt").write_bytes("Caf\u00e9 talks in Z\u00fcrich r\u00e9sum\u00e9d on Friday.\n".encode("latin-1"))
    (d / "utf16.txt").write_bytes("Gr\u00fc\u00dfe aus \u041c\u043e\u0441\u043a\u0432\u0430: the summit opened.\n"
                                  .encode("utf-16"))  # with BOM
    (d / "good.md").write_text("# Good one\n\n" + GOOD_TEXT, encoding="utf-8")
    (d / "scripts.html").write_text(
        "<html><head><script>var leaked = 'HEADSCRIPT';</script><style>p{color:STYLERED}</style></head><body>"
        + "<script>document.write('BODYSCRIPT')</script><style>.x{}</style>" * 50
        + "<p>Visible paragraph about the envoy.</p><script type='module'>import 'MODULESCRIPT'</script>"
        + "<noscript>NOSCRIPTTEXT</noscript><template>TEMPLATETEXT</template></body></html>", encoding="utf-8")
    only_scripts = d / "only-scripts.html"
    only_scripts.write_text("<html><body><script>alert('x')</script><style>p{}</style></body></html>")
    missing = tmp_path / "no-such-file.txt"

    report = assistant.ingest([d, missing])

    why = reasons(report)
    assert why == {
        "empty.txt": "file is empty",
        "blank.txt": "file is empty",
        "photo.txt": "looks like a binary file, not text",
        "only-scripts.html": "no text left after extraction",
        "no-such-file.txt": "no such file or folder",
    }
    by_title = {assistant.article(i).title: assistant.article(i) for i in report.added}
    assert len(report.added) == 4
    assert "Caf\u00e9 talks in Z\u00fcrich r\u00e9sum\u00e9d on Friday." in by_title["Latin1"].body
    assert by_title["Utf16"].body.startswith("Gr\u00fc\u00dfe aus \u041c\u043e\u0441\u043a\u0432\u0430")
    html = next(a for a in by_title.values() if "Visible paragraph" in a.body)
    chunk_text = " ".join(c.chunk.text for c in assistant.store.all_chunks() if c.chunk.article_id == html.id)
    assert chunk_text == "Visible paragraph about the envoy."
    for leaked in ("HEADSCRIPT", "STYLERED", "BODYSCRIPT", "MODULESCRIPT", "NOSCRIPTTEXT", "TEMPLATETEXT"):
        assert leaked not in html.body
    assert_only_added(assistant, before, report.added)
    assert "failed: " in str(report) and "no such file or folder" in str(report)


def test_a_50_mb_file_is_refused_by_the_size_setting_and_named_in_the_message(library, tmp_path):
    assistant, before = library
    big = tmp_path / "huge.txt"
    with big.open("w", encoding="utf-8") as f:
        line = "Officials said the talks would resume next week. " * 20 + "\n"
        while f.tell() < 50 * 1024 * 1024:
            f.write(line)
    good = tmp_path / "small.txt"
    good.write_text(GOOD_TEXT, encoding="utf-8")

    report = assistant.ingest([big, good])

    [failure] = report.failed
    assert Path(failure.where).name == "huge.txt"
    assert failure.reason == "file is 52.4 MB, over the 20 MB limit (BRIEFING_MAX_FILE_MB)"
    assert_only_added(assistant, before, report.added)
    assert len(report.added) == 1
    assert "over the 20 MB limit (BRIEFING_MAX_FILE_MB)" in str(report)  # what `briefing ingest` prints


def test_jsonl_bad_lines_and_fields_are_reported_by_line_and_the_rest_ingested(library, tmp_path):
    assistant, before = library
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"id": "ok-1", "title": "One", "published_at": "2025-04-01", "body": "First good body."}),
        '{"id": "broken", "body": "unterminated',  # 2: malformed
        "not json at all",  # 3: malformed
        json.dumps({"id": "no-body", "title": "Missing body"}),  # 4
        json.dumps({"id": "num-body", "body": 12345}),  # 5
        json.dumps({"id": "bad-date", "published_at": "the day after tomorrow", "body": "Body six."}),  # 6
        json.dumps({"id": "huge-date", "published_at": 1e20, "body": "Body seven."}),  # 7
        json.dumps({"id": "list-title", "title": ["a", "list"], "body": "Body eight."}),  # 8
        json.dumps({"id": {"nested": True}, "body": "Body nine."}),  # 9
        json.dumps("just a string"),  # 10
        json.dumps({"id": "ok-11", "published_at": 1743552000, "body": "Epoch-dated body."}),  # 11
        "",  # 12: blank lines are skipped silently
        json.dumps({"id": "ok-1", "body": "First good body."}),  # 13: same id, same body: unchanged
        json.dumps({"id": "ok-1", "body": "A different body under a taken id."}),  # 14: duplicate id
        json.dumps({"id": "ok-15", "title": None, "source": None, "body": "Nulls are fine."}),  # 15
    ]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = assistant.ingest([feed])

    why = {f.where.rsplit(":", 1)[1]: f.reason for f in report.failed}
    assert sorted(why, key=int) == ["2", "3", "4", "5", "6", "7", "8", "9", "10", "14"]
    assert why["2"].startswith("malformed JSON line") and why["3"].startswith("malformed JSON line")
    assert why["4"] == why["5"] == "missing or empty 'body' (a string is required)"
    assert why["6"] == "'published_at' is not a date: 'the day after tomorrow'"
    assert why["7"] == "'published_at' is not a date: '1e+20'"
    assert why["8"] == "field 'title' must be a string, got list"
    assert why["9"] == "field 'id' must be a string, got dict"
    assert why["10"] == "expected a JSON object with at least a 'body' field"
    assert why["14"] == "duplicate id 'ok-1' in this run; kept the first"
    assert sorted(report.added) == ["ok-1", "ok-11", "ok-15"] and report.unchanged == ["ok-1"]
    assert assistant.article("ok-1").body == "First good body."
    assert assistant.article("ok-11").published_at.year == 2025
    assert_only_added(assistant, before, report.added)


def test_duplicate_ids_across_files_keep_the_first_and_do_not_overwrite_the_store(library, tmp_path):
    assistant, before = library
    a, b = tmp_path / "a.jsonl", tmp_path / "b.json"
    a.write_text(json.dumps({"id": "dup", "body": "The first version of the story."}) + "\n")
    b.write_text(json.dumps([{"id": "dup", "body": "A second, different story."}, {"id": "other", "body": "Other."}]))
    report = assistant.ingest([a, b])
    assert report.added == ["dup", "other"] and [f.reason for f in report.failed] == [
        "duplicate id 'dup' in this run; kept the first"]
    assert report.failed[0].where.endswith("b.json#1")
    assert assistant.article("dup").body == "The first version of the story."
    assert_only_added(assistant, before, report.added)


def test_symlink_loops_and_broken_links_in_a_folder(library, tmp_path):
    assistant, before = library
    d = tmp_path / "linked"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "real.txt").write_text(GOOD_TEXT, encoding="utf-8")
    os.symlink(d, d / "sub" / "up")  # a folder loop: linked folders are read once
    os.symlink("self.txt", d / "self.txt")  # a file that links to itself
    os.symlink("ping.txt", d / "pong.txt")
    os.symlink("pong.txt", d / "ping.txt")  # two links pointing at each other
    os.symlink("gone.txt", d / "dangling.txt")

    report = assistant.ingest([d, d / "self.txt"])

    why = reasons(report)
    assert set(why) == {"self.txt", "ping.txt", "pong.txt", "dangling.txt"}
    for name in ("self.txt", "ping.txt", "pong.txt"):
        assert why[name] == "symlink loop: the link points back at itself"
    assert why["dangling.txt"] == "broken symlink: its target does not exist"
    assert len(report.added) == 1 and len(report.failed) == 4  # the explicit self.txt is reported once
    assert_only_added(assistant, before, report.added)


UNREADABLE_CHILD = """
import json, os, sys
from assistant.ingest.files import iter_articles  # imported first: the interpreter's own files are root's
os.setgid(65534); os.setuid(65534)  # nobody: the permission bits now apply
out = [{"where": getattr(i, "where", ""), "reason": getattr(i, "reason", "")} for i in iter_articles([sys.argv[1]], 10**7)]
print(json.dumps(out))
"""


def test_unreadable_files_are_reported(library, tmp_path):
    """chmod 000 blocks reads for a normal user. Running as root it does not, so the reader runs in a
    child process that has dropped to `nobody`: the same OS check, not a simulated error."""
    assistant, before = library
    root = Path(tempfile.mkdtemp(prefix="unreadable-"))  # not under pytest's 0700 tmp: nobody must enter
    try:
        root.chmod(0o755)
        (root / "locked.txt").write_text(GOOD_TEXT, encoding="utf-8")
        (root / "locked.txt").chmod(0o000)
        (root / "open.txt").write_text("Readable briefing about the summit.\n", encoding="utf-8")
        (root / "open.txt").chmod(0o644)
        if os.geteuid() == 0:
            done = subprocess.run([sys.executable, "-c", UNREADABLE_CHILD, str(root)], capture_output=True,
                                  text=True, timeout=60, cwd="/")
            assert done.returncode == 0, done.stderr
            items = json.loads(done.stdout)
            failed = {Path(i["where"]).name: i["reason"] for i in items if i["reason"]}
            assert len(items) == 2  # open.txt is read
        else:
            report = assistant.ingest([root])
            failed = reasons(report)
            assert len(report.added) == 1
            assert_only_added(assistant, before, report.added)
        assert failed == {"locked.txt": "permission denied; make the file readable"}
    finally:
        (root / "locked.txt").chmod(0o644)
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_a_folder_that_cannot_be_listed_is_reported_not_skipped(library, tmp_path):
    """os.walk drops unreadable folders silently by default; a user must hear about them."""
    assistant, _ = library
    root = Path(tempfile.mkdtemp(prefix="closed-"))
    try:
        root.chmod(0o755)
        (root / "closed").mkdir()
        (root / "closed").chmod(0o000)
        (root / "ok.txt").write_text(GOOD_TEXT, encoding="utf-8")
        code = ("import json, os, sys\nfrom assistant.ingest.files import iter_articles\n"
                "os.setgid(65534); os.setuid(65534)\n"
                "print(json.dumps([[getattr(i, 'where', ''), getattr(i, 'reason', '')] for i in iter_articles([sys.argv[1]], 10**7)]))")
        if os.geteuid() != 0:
            code = code.replace("os.setgid(65534); os.setuid(65534)", "pass")
        done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60, cwd="/")
        assert done.returncode == 0, done.stderr
        items = json.loads(done.stdout)
        assert [Path(w).name for w, r in items if r] == ["closed"]
        assert [r for w, r in items if r] == ["cannot open folder: permission denied"]
        assert len(items) == 2
    finally:
        (root / "closed").chmod(0o755)
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_reingesting_the_same_bad_and_good_files_changes_nothing(library, tmp_path):
    assistant, _ = library
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (d / "bad.jsonl").write_text('{"body": "fine"}\n{oops\n', encoding="utf-8")
    first = assistant.ingest([d])
    state = snapshot(assistant)
    second = assistant.ingest([d])
    assert snapshot(assistant) == state
    assert second.added == [] and sorted(second.unchanged) == sorted(first.added)
    assert [f.reason[:19] for f in second.failed] == ["malformed JSON line"]
    assert content_hash("fine") in {r.content_hash for r in assistant.store.article_records().values()}
