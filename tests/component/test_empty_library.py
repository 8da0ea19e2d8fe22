"""One library by default (issue 29 item 2): asking an empty library says so and how to fill it, and
`doctor` names the library in use and what it holds. Real embedded Chroma, fake embedder, scripted model."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import assistant.app.cli as cli
from assistant.app import doctor
from assistant.config import Settings, default_data_dir
from assistant.errors import EmptyLibraryError, StoreError


@pytest.fixture
def main(fake_assistant):
    return functools.partial(cli.main, factory=lambda **overrides: fake_assistant)


def test_asking_an_empty_library_names_it_and_the_command_that_fills_it(fake_assistant, chat):
    with pytest.raises(EmptyLibraryError) as caught:
        fake_assistant.ask("Is Russia stalling?")
    line = caught.value.one_line()
    assert str(fake_assistant.settings.data_dir) in line and "briefing ingest PATH" in line
    assert isinstance(caught.value, StoreError)  # serve answers it as 503 with this line, MCP and the page as one line
    assert chat.history == []  # refused before any model call
    with pytest.raises(EmptyLibraryError):
        fake_assistant.timeline("What changed?")


def test_the_cli_prints_one_line_and_exits_1(main, capsys):
    assert main(["ask", "Is Russia stalling?"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("briefing: the library at ") and "`briefing ingest PATH`" in err[0]


def test_once_filled_the_question_is_answered_not_refused_for_emptiness(fake_assistant, chat, seed_dir, main, capsys):
    assert fake_assistant.ingest([seed_dir]).added
    chat.enqueue("The briefings don't say.")
    assert main(["ask", "Is Russia stalling?", "--json"]) == 0
    assert "has no articles" not in capsys.readouterr().err
    assert len(chat.history) == 1


def test_a_filter_that_matches_nothing_is_not_an_empty_library(fake_assistant, chat, seed_dir):
    fake_assistant.ingest([seed_dir])
    chat.enqueue("The briefings don't say.")
    answer = fake_assistant.ask("Is Russia stalling?", since="2099-01-01")
    assert not answer.answerable


def test_doctor_names_the_library_why_it_is_used_and_its_articles(tmp_path, monkeypatch):
    monkeypatch.delenv("BRIEFING_DATA_DIR", raising=False)
    s = Settings(data_dir=tmp_path / "lib")
    assert doctor.library_origin(str(tmp_path / "lib"), None, s) == "--data-dir"
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "lib"))
    assert doctor.library_origin(None, None, s) == "BRIEFING_DATA_DIR"
    monkeypatch.delenv("BRIEFING_DATA_DIR")
    assert doctor.library_origin(None, None, Settings(data_dir=default_data_dir())) == "the default"
    assert doctor.library_origin(None, "http://127.0.0.1:8001", s) == "--chroma-url"

    full = doctor._library_check(s, "--data-dir", 3, 7)
    assert full.ok and str(tmp_path / "lib") in full.detail and "3 articles, 7 chunks" in full.detail
    empty = doctor._library_check(s, "the default", 0)
    assert "no articles yet" in empty.detail and "briefing ingest PATH" in empty.detail
    remote = doctor._library_check(Settings(data_dir=tmp_path, chroma_url="http://u:secret@host:8001"), "x", 1, 1)
    assert "host:8001" in remote.detail and "secret" not in remote.detail


def test_doctor_reports_the_library_it_opened(tmp_path, seed_dir, monkeypatch, capsys):
    # The store checks end to end on a filled library, with the fake embedder standing in for the packaged one.
    from tests.support.fakes import FakeEmbedder

    from assistant.assistant import Assistant
    from assistant.search.store import Store

    s = Settings(data_dir=tmp_path / "lib")
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, FakeEmbedder()), FakeEmbedder())
    a.ingest([seed_dir])
    monkeypatch.setattr("assistant.models.embed.make_embedder", lambda name, settings=None: FakeEmbedder())
    checks = {c.name: c for c in doctor._store_checks(s, "--data-dir")}
    assert checks["library"].detail == f"{Path(s.data_dir)} (--data-dir): 1 article, {a.store.count()} chunks"
