"""`briefing reindex` and `briefing ingest --every` as the CLI runs them (issue 29 item 6): interval parsing,
the refresh loop's error handling, and the reindex command on a real library (fake embedder). The loop's
Ctrl-C/SIGTERM exit is tested on a child process in tests/integration/test_ingest_every.py."""

from __future__ import annotations

import json
import logging
import threading

import pytest

import assistant.app.cli as cli
from assistant.app.library_commands import parse_every, run_every
from assistant.errors import RequestError, StoreError


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("2", 120),
                                           ("1d", 86400), (" 2H ", 7200), ("0.5m", 30)])
def test_intervals(text, seconds):
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "30x", "m30", "0s", "1h and 5m"])
def test_bad_intervals_name_the_fix(text):
    with pytest.raises(RequestError) as caught:
        parse_every(text)
    assert "30m" in caught.value.one_line()


def test_a_failed_round_is_logged_and_the_next_round_runs(caplog):
    script = [StoreError("the library is locked"), "first", ValueError("a bug"), "second"]

    def one_round():
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    shown = []
    with caplog.at_level(logging.WARNING, logger="assistant.app.library_commands"):
        ran = run_every(one_round, 0.01, threading.Event(), lambda at, result: shown.append(result), rounds=4)
    assert ran == 4 and shown == ["first", "second"] and script == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("the library is locked" in m and "trying again" in m for m in messages)
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)  # a bug keeps its traceback


def test_stop_ends_the_wait_at_once():
    stop = threading.Event()
    ran = run_every(lambda: stop.set(), 3600, stop, lambda at, result: None)
    assert ran == 1  # set during the first round: no hour-long wait


def test_cli_reindex_opens_without_the_embedder_check_and_prints_the_report(fake_assistant, seed_dir, capsys):
    fake_assistant.ingest([seed_dir])
    opened = []

    def factory(**overrides):
        opened.append(overrides)
        return fake_assistant

    assert cli.main(["reindex", "--json"], factory=factory) == 0
    assert opened[-1]["check_embedder"] is False
    report = json.loads(capsys.readouterr().out)
    assert report["articles"] == 1 and report["chunks"] == fake_assistant.store.count() and report["generation"]
    assert cli.main(["reindex"], factory=factory) == 0
    assert capsys.readouterr().out.startswith("reindexed 1 article into ")
    assert cli.main(["ingest", str(seed_dir)], factory=factory) == 0 and "check_embedder" not in opened[-1]
