"""The `ask` endpoint through gradio_client against the running app (scripted model, real Chroma)."""

from __future__ import annotations

import json
import socket

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, AuthenticationError
from pydantic import SecretStr

from assistant.types import EvidenceEvent
from assistant.app.ui import build_app, launch_options

pytestmark = pytest.mark.integration

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
AUTH = ("editor", "s3cret:pass-word")


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
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert sorted(named) == ["/articles", "/ask", "/delete_article", "/ingest", "/search", "/sources", "/timeline"]

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

    assert out["answerable"] is False and out["model_rewritten_question"] == "How close are Russia and China?"
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


def login(url: str) -> Client:
    return Client(url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)


def test_ask_streams_evidence_then_the_answer_and_takes_typed_parameters(served, chat):
    assistant, url = served
    key = stalling_key(assistant)
    chat.enqueue(QUESTION,  # the follow-up rewritten to stand alone
                 f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    history = [{"role": "user", "content": "How close are Russia and China?"},
               {"role": "assistant", "content": "The briefings don't say."}]

    job = login(url).submit(question="And is Russia stalling?", history=history, k=4, as_of="2030-01-01", api_name="/ask")
    final = job.result(timeout=60)
    updates = job.outputs()

    assert updates[0]["type"] == "evidence" and any(STALLING in e["text"] for e in updates[0]["evidence"]), updates
    assert final == updates[-1] and final["type"] == "answer" and final["answerable"] is True
    assert all(u["type"] == "sentence" and u["citations"] for u in updates[1:-1] if "[" in u.get("text", ""))
    [cite] = final["cited"]
    assert assistant.article(cite["article_id"]).body[cite["start"]:cite["end"]] == cite["quote"]
    assert cite["title"] and "url" in cite and "date" in cite
    assert "How close are Russia and China?" in str(chat.history[0])  # history arrived as a list
    with pytest.raises(AppError, match="out of range"):
        login(url).predict(question=QUESTION, k=500, api_name="/ask")


def test_search_articles_ingest_and_timeline(served, chat, tmp_path):
    assistant, url = served
    client = login(url)

    [article] = client.predict(api_name="/articles")
    hits = client.predict(query=QUESTION, k=2, api_name="/search")
    assert 1 <= len(hits) <= 2 and hits[0]["article_id"] == article["id"] and hits[0]["rank"] == 1
    assert client.predict(query=QUESTION, until="2000-01-01", api_name="/search") == []
    with pytest.raises(AppError, match="not a date"):
        client.predict(query=QUESTION, since="whenever", api_name="/search")

    note = tmp_path / "2025-04-05-ceasefire.md"
    note.write_text("# Ceasefire talks resume\n\nNegotiators met in Riyadh on Friday to resume ceasefire talks.\n")
    report = client.predict(files=[handle_file(str(note))], urls=[], api_name="/ingest")
    assert len(report["added"]) == 1 and report["failed"] == [] and report["rejected"] == [], report
    assert len(client.predict(api_name="/articles")) == 2
    bad = tmp_path / "picture.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(AppError, match="not supported"):
        client.predict(files=[handle_file(str(bad))], api_name="/ingest")
    with pytest.raises(AppError, match="not an http"):
        client.predict(urls=["file:///etc/passwd"], api_name="/ingest")

    chat.enqueue("Negotiators met in Riyadh on Friday to resume ceasefire talks [1].")
    [entry] = client.predict(question="Where did negotiators resume ceasefire talks?", api_name="/timeline")
    assert entry["kind"] == "date" and entry["as_of"] == "2025-04-05"
    assert [c["quote"] for c in entry["cited"]] == ["Negotiators met in Riyadh on Friday to resume ceasefire talks."]


def test_ingest_reads_only_files_uploaded_with_the_request(served, tmp_path):
    """A client must not make the server read a file of its own disk by naming its path."""
    import httpx

    assistant, url = served
    secret = tmp_path / "server-secret.txt"
    secret.write_text("Server-side secret that no API client may read.\n")
    before = len(assistant.articles())
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("/login/", data={"username": AUTH[0], "password": AUTH[1]}).status_code == 200
        for named in (str(secret), {"path": str(secret), "meta": {"_type": "gradio.FileData"}}):
            event = http.post("/gradio_api/call/ingest", json={"data": [[named], []]}).json()["event_id"]
            reply = http.get(f"/gradio_api/call/ingest/{event}").text
            assert "event: error" in reply and "added" not in reply
    assert len(assistant.articles()) == before


def test_sources_and_delete_article(served, tmp_path):
    # The library managed from outside the page (issue 29 item 6): the same shapes as the MCP tools.
    assistant, url = served
    client = Client(url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)
    [seed] = assistant.articles()
    sources = client.predict(api_name="/sources")
    assert sources == [{"source": seed.source, "articles": 1, "newest": sources[0]["newest"],
                        "oldest": sources[0]["oldest"]}]
    gone = client.predict(article_id=seed.id, api_name="/delete_article")
    assert gone == {"deleted": True, "id": seed.id, "title": seed.title} and assistant.articles() == []
    again = client.predict(article_id=seed.id, api_name="/delete_article")  # a retried call is harmless
    assert again["deleted"] is False
    assert client.predict(api_name="/sources") == []
    with pytest.raises(AppError, match="article_id is empty"):
        client.predict(article_id=" ", api_name="/delete_article")
