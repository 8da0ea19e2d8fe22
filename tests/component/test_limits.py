"""Request limits (BRIEFING_LIMITS__*): k, question length, history length and timeline dates are
bounded the same way on every entry point, each with a one-line error naming the setting."""

from __future__ import annotations

import gradio as gr
import pytest

from assistant.app import cli
from assistant.errors import AssistantError, RequestError
from assistant.app.handlers import history_of
from assistant.app.ui import Handlers

LONG = "Is Russia stalling? " * 200  # 4,000 characters
HISTORY = [{"role": "user", "content": "Is Russia stalling?"}, {"role": "assistant", "content": "Yes [1]."}] * 30


@pytest.fixture
def seeded(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    return fake_assistant


@pytest.mark.parametrize("call,setting", [
    (lambda a: a.search("Is Russia stalling?", k=5000), "MAX_K"),
    (lambda a: a.search("Is Russia stalling?", k=0), "MAX_K"),
    (lambda a: a.search(LONG), "MAX_QUESTION_CHARS"),
    (lambda a: a.ask("Is Russia stalling?", k=5000), "MAX_K"),
    (lambda a: a.ask(LONG), "MAX_QUESTION_CHARS"),
    (lambda a: a.ask_stream("and China?", history=HISTORY), "MAX_HISTORY_MESSAGES"),
    (lambda a: a.ask_stream("and China?", history=[{"role": "user", "content": "x" * 50_000}]), "MAX_HISTORY_CHARS"),
    (lambda a: a.timeline("Is Russia stalling?", k=5000), "MAX_K"),
    (lambda a: a.timeline("Is Russia stalling?", max_dates=500), "MAX_TIMELINE_DATES"),
])
def test_python_api_refuses_oversized_requests_before_any_work(seeded, chat, call, setting):
    searched = []
    seeded.retriever.search = lambda *a, **kw: searched.append(1) or []  # nothing may be retrieved
    with pytest.raises(RequestError) as caught:
        call(seeded)  # ask_stream and timeline_stream raise at the call, not on first iteration
    line = caught.value.one_line()
    assert f"BRIEFING_LIMITS__{setting}" in line and "\n" not in line
    assert searched == [] and chat.history == []


def test_limits_come_from_settings(seeded, monkeypatch):
    seeded.settings.limits.max_k = 3
    with pytest.raises(RequestError, match="from 1 to 3"):
        seeded.search("Is Russia stalling?", k=4)
    assert len(seeded.search("Is Russia stalling?", k=3)) <= 3
    monkeypatch.setenv("BRIEFING_LIMITS__MAX_QUESTION_CHARS", "10")
    from assistant.config import load_settings

    assert load_settings().limits.max_question_chars == 10


def test_the_named_api_uses_the_same_k_limit(seeded):
    from assistant.app import endpoints

    seeded.settings.limits.max_k = 3
    with pytest.raises(RequestError, match="k=4 is out of range") as caught:
        endpoints.search(seeded, "Is Russia stalling?", k=4)
    assert "use 1..3" in caught.value.one_line()
    assert 1 <= len(endpoints.search(seeded, "Is Russia stalling?", k=3)) <= 3
    seeded.settings.limits.max_k = 80  # a raised limit is the API's limit too
    assert endpoints.search(seeded, "Is Russia stalling?", k=60)


def test_cli_reports_the_limit_in_one_line(seeded, capsys):
    factory = lambda **overrides: seeded  # noqa: E731 - the CLI builds its assistant with this
    assert cli.main(["search", "Is Russia stalling?", "--k", "100000"], factory=factory) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("briefing: k must be a whole number from 1 to 50") and "BRIEFING_LIMITS__MAX_K" in err
    assert len(err.splitlines()) == 1
    assert cli.main(["ask", LONG], factory=factory) == 1
    assert "BRIEFING_LIMITS__MAX_QUESTION_CHARS" in capsys.readouterr().err


def test_gradio_api_and_chat_page_report_the_limit(seeded, chat):
    h = Handlers(seeded)
    with pytest.raises(gr.Error, match="BRIEFING_LIMITS__MAX_K"):
        h.api_ask("Is Russia stalling?", "", 5000)
    with pytest.raises(gr.Error, match="BRIEFING_LIMITS__MAX_QUESTION_CHARS"):
        h.api_ask(LONG)
    import json

    with pytest.raises(gr.Error, match="BRIEFING_LIMITS__MAX_HISTORY_MESSAGES"):
        h.api_ask("and China?", json.dumps(HISTORY))
    with pytest.warns(UserWarning):  # gr.Warning outside a request
        chat_msgs, _, _ = list(h.respond(LONG, []))[-1]
    assert "ba-error" in chat_msgs[-1]["content"] and "MAX_QUESTION_CHARS" in chat_msgs[-1]["content"]
    assert chat.history == []


def test_a_long_chat_sends_only_its_last_turns(seeded):
    turns = [{"question": f"q{i}", "html": "", "text": f"a{i}"} for i in range(40)]
    hist = history_of(turns)
    assert len(hist) <= seeded.settings.limits.max_history_messages and hist[-1]["content"] == "a39"
    seeded.check_request("and then?", history=hist)  # a long conversation on the page stays askable


def test_request_error_is_an_assistant_error():
    assert issubclass(RequestError, AssistantError)
