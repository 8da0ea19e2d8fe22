"""The `ask` endpoint through gradio_client against the running app (scripted model, real Chroma)."""

from __future__ import annotations

import json
import socket

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError, AuthenticationError
from pydantic import SecretStr

from assistant.types import EvidenceEvent
from assistant.ui import build_app, launch_options

pytestmark = pytest.mark.integration

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
AUTH = ("editor", "s3cret:pass")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(fake_assistant, seed_dir):
    """The app over the seeded fake assistant, behind a login, on a free port."""
    assert fake_assistant.ingest([seed_dir]).added
    fake_assistant.settings.ui.auth = SecretStr(":".join(AUTH))
    app = build_app(fake_assistant)
    app.queue(default_concurrency_limit=1)
    opts = launch_options(fake_assistant.settings, port=free_port())
    _, url, _ = app.launch(**opts, prevent_thread_lock=True, quiet=True)
    try:
        yield fake_assistant, url
    finally:
        app.close()


def stalling_key(assistant) -> int:
    stream = assistant.ask_stream(QUESTION)
    event = next(stream)
    stream.close()
    assert isinstance(event, EvidenceEvent)
    return next(e.key for e in event.evidence if STALLING in e.text)


def test_ask_returns_the_answer_json_with_exact_citations(served, chat):
    assistant, url = served
    key = stalling_key(assistant)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    client = Client(url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]

    out = client.predict(question=QUESTION, api_name="/ask")

    assert isinstance(out, dict) and out["answerable"] is True
    assert out["text"].endswith(f"[{key}].") and out["question"] == QUESTION
    [cite] = out["citations"]
    body = assistant.article(cite["article_id"]).body
    assert cite["key"] == key and body[cite["start"]:cite["end"]] == cite["quote"]
    assert STALLING in cite["quote"] and 0 < cite["support"] <= 1
    assert out["passages"] and out["model"] == "scripted"


def test_ask_uses_history_and_k_and_reports_bad_input(served, chat):
    _, url = served
    client = Client(url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": f"{STALLING} [7]."}]
    chat.enqueue("How close are Russia and China?", "The briefings don't say.")

    out = client.predict(question="And China?", history=json.dumps(history), k=3, api_name="/ask")

    assert out["answerable"] is False and out["standalone_question"] == "How close are Russia and China?"
    assert QUESTION in json.dumps(chat.history[0]) and "And China?" in json.dumps(chat.history[0])
    assert len({p["chunk_id"] for p in out["passages"]}) <= 3
    with pytest.raises(AppError, match="history must be"):
        client.predict(question=QUESTION, history='{"role": "user"}', api_name="/ask")
    with pytest.raises(AppError, match="not a date"):
        client.predict(question=QUESTION, since="soon", api_name="/ask")


def test_login_is_required(served):
    _, url = served
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("editor", "wrong"), verbose=False, analytics_enabled=False)
    with pytest.raises(AuthenticationError):  # no login at all: the API is not reachable either
        Client(url, verbose=False, analytics_enabled=False).predict(question=QUESTION, api_name="/ask")
