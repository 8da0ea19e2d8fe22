"""Issue 28, item 13: evidence packs pile up and overwrite each other; the data dir is readable by others.

The chat page writes a pack for every answer under <data_dir>/packs (handlers.PageHandlers.pack_file)."""

from __future__ import annotations

import os
import stat

from assistant.answer import packs
from assistant.answer.packs import write_pack


def _pack(question: str = "Is Russia stalling?") -> dict:
    # Two packs made in the same second, as two sessions asking the same question do.
    return {"format": packs.FORMAT, "version": 1, "created": "2026-12-08T10:00:00+00:00", "question": question,
            "answer": "Yes [1].", "answerable": True, "as_of": None, "model": "m", "settings_hash": "h",
            "citations": []}


def test_two_packs_of_the_same_question_in_the_same_second_are_two_files(tmp_path):
    first = write_pack(_pack(), "html", tmp_path / "packs")
    second = write_pack(_pack(), "html", tmp_path / "packs")
    assert first != second and first.is_file() and second.is_file()


def test_packs_are_pruned_to_the_newest(tmp_path):
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a pack: never pruned")
    written = []
    for i in range(12):
        written.append(write_pack(_pack(f"question {i}"), "html", folder, keep=5))
        # One second apart: the file clock may not tell apart files written in the same few milliseconds.
        os.utime(written[-1], ns=(i * 10**9, i * 10**9))
    left = sorted(p for p in folder.iterdir() if p.name.startswith("evidence-"))
    assert len(left) == 5 and set(written[-5:]) == set(left)
    assert (folder / "notes.txt").is_file()


def test_the_default_bound_holds(tmp_path):
    folder = tmp_path / "packs"
    for i in range(packs.MAX_PACKS + 3):
        write_pack(_pack(f"q{i}"), "json", folder)
    assert len(list(folder.glob("evidence-*"))) == packs.MAX_PACKS


def test_a_new_data_dir_and_its_packs_folder_are_private(tmp_path, monkeypatch):
    """Uploads, the question log and packs live under the data dir: other users must not list or read it."""
    from assistant.assistant import Assistant
    from assistant.models import embed

    from ..support.fakes import FakeEmbedder

    monkeypatch.setattr(embed, "make_embedder", lambda name, settings: FakeEmbedder())
    monkeypatch.setattr("assistant.assistant.make_embedder", lambda name, settings: FakeEmbedder())
    old = os.umask(0o022)
    try:
        data = tmp_path / "new" / "library"
        a = Assistant.from_settings(data_dir=data)
        try:
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            path = write_pack(_pack(), "md", data / "packs")
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        finally:
            a.close()
    finally:
        os.umask(old)
