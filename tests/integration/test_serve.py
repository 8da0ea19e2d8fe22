"""`briefing serve` through the real `openai` package: the real FastAPI/uvicorn app on a free loopback port,
the real Chroma store, the scripted chat model (tests/support/fakes.py) for speed."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

import openai
import pytest
import uvicorn
from pydantic import SecretStr

from assistant.errors import ConfigError, LLMError
from assistant.app.serve import MODEL_ID, build_api, exposure_warning
from assistant.types import REFUSAL, AnswerEvent, EvidenceEvent, TextDelta

from ..support.live_app import free_port

pytestmark = pytest.mark.integration

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"
PASSWORD = "s3cret-pass-1"


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def seeded(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    fake_assistant.settings.ui.auth = SecretStr(f"editor:{PASSWORD}")
    return fake_assistant


@pytest.fixture
def api(seeded):
    with running(build_api(seeded)) as url:
        yield seeded, openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0, timeout=60)


def stalling_key(assistant) -> int:
    stream = assistant.ask_stream(QUESTION)
    event = next(stream)
    stream.close()
    return next(e.key for e in event.evidence if STALLING in e.text)


def check_citation(assistant, cite: dict) -> None:
    body = assistant.article(cite["article_id"]).body
    assert body[cite["start"]:cite["end"]] == cite["quote"] and STALLING in cite["quote"]
    assert cite["title"] and "date" in cite and "url" in cite and 0 < cite["support"] <= 1


def test_models_and_a_plain_completion_carry_the_citations(api, chat):
    assistant, client = api
    key = stalling_key(assistant)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")

    assert [m.id for m in client.models.list().data] == [MODEL_ID]
    resp = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}])

    text, answer = resp.choices[0].message.content, resp.briefing["answer"]["text"]
    assert answer.endswith(f"[{key}].") and resp.choices[0].finish_reason == "stop"
    assert text == answer + resp.briefing["sources_footer"] and f"\n[{key}] " in resp.briefing["sources_footer"]
    [cite] = resp.citations  # the documented extra field, kept by the openai client
    assert cite["key"] == key
    check_citation(assistant, cite)
    assert resp.briefing["answerable"] is True
    assert resp.choices[0].message.annotations == []  # a file on disk has no URL to point at


def test_stream_sends_evidence_first_then_text_and_all_citations_on_the_last_chunk(api, chat):
    assistant, client = api
    key = stalling_key(assistant)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")

    chunks = list(client.chat.completions.create(model=MODEL_ID, stream=True,
                                                 messages=[{"role": "user", "content": QUESTION}]))

    assert chunks[0].choices[0].delta.role == "assistant"
    assert any(STALLING in e["text"] for e in chunks[0].briefing["evidence"])
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    answer = last.briefing["answer"]["text"]
    assert last.choices[0].finish_reason == "stop" and text == answer + last.briefing["sources_footer"]
    assert answer.endswith(f"[{key}].") and last.briefing["sources_footer"].startswith("\n\n---\nSources:")
    [cite] = last.citations
    check_citation(assistant, cite)


@dataclass(frozen=True)
class CheckedDelta(TextDelta):
    """The verified-sentence delta of the new answer pipeline (HELPERS.md contract): text + citations."""

    citations: tuple = ()


class SentenceStreaming:
    """The assistant with ask_stream yielding one verified delta per answer sentence, as the lead's
    pipeline does, so per-chunk citations are tested whichever pipeline is merged."""

    def __init__(self, inner) -> None:
        self.inner, self.settings = inner, inner.settings

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def ask_stream(self, question, **kw):
        for event in self.inner.ask_stream(question, **kw):
            if isinstance(event, TextDelta):
                continue  # raw draft: the new pipeline never sends it
            if isinstance(event, AnswerEvent):
                a = event.answer
                for piece in re.split(r"(?<=[.!?])\s+", a.text):
                    cites = tuple(c for c in a.citations if f"[{c.key}]" in piece)
                    yield CheckedDelta(piece + " ", citations=cites)
                yield object()  # an event type this consumer does not know: ignored
            yield event


def test_stream_carries_each_sentences_citations_on_its_chunk(seeded, chat):
    key = stalling_key(seeded)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    with running(build_api(SentenceStreaming(seeded))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0)
        chunks = list(client.chat.completions.create(model=MODEL_ID, stream=True,
                                                     messages=[{"role": "user", "content": QUESTION}]))
    final = chunks[-1]
    # answer text only: the sources footer chunk (its own [n] entries) carries no citations of its own
    with_text = [c for c in chunks if c.choices[0].delta.content not in (None, "", final.briefing["sources_footer"])]
    assert with_text and all(c.citations for c in with_text if "[" in c.choices[0].delta.content)
    check_citation(seeded, next(c for c in with_text if c.citations).citations[0])
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.endswith(final.briefing["sources_footer"]) and final.briefing["sources_footer"]
    assert text[:-len(final.briefing["sources_footer"])].strip() == final.briefing["answer"]["text"]
    assert len(final.citations) == sum(len(c.citations) for c in with_text)


def test_history_and_filters_reach_the_assistant(api, chat):
    assistant, client = api
    chat.enqueue("How close are Russia and China?", REFUSAL)
    resp = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "system", "content": "be brief"},
                                  {"role": "user", "content": QUESTION},
                                  {"role": "assistant", "content": f"{STALLING} [1]."},
                                  {"role": "user", "content": "And China?"}],
        extra_body={"briefing": {"until": "2025-04-03", "k": 3}})
    assert resp.choices[0].message.content == REFUSAL and resp.citations == []
    assert resp.briefing["model_rewritten_question"] == "How close are Russia and China?"
    assert QUESTION in str(chat.history[0]) and "be brief" not in str(chat.history[0])

    resp = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                          extra_body={"briefing": {"as_of": "2020-01-01"}})
    assert resp.choices[0].message.content == REFUSAL  # nothing published by then: no model call needed


def test_errors_use_openais_shape(api, seeded):
    _, client = api
    base = str(client.base_url)
    with pytest.raises(openai.AuthenticationError) as e:
        openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    assert e.value.status_code == 401 and e.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.BadRequestError, match="not a date"):
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                       extra_body={"briefing": {"since": "soonish"}})
    with pytest.raises(openai.BadRequestError, match="last message must be a user message"):
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "assistant", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="briefing.k"):
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                       extra_body={"briefing": {"k": 0}})
    with pytest.raises(openai.BadRequestError, match="BRIEFING_LIMITS__MAX_K"):  # the one limit, not a range of its own
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                       extra_body={"briefing": {"k": 500}})
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                       extra_body={"briefing": {"colour": "red"}})
    assert e.value.body["type"] == "invalid_request_error"


class FailingChat:
    """A model endpoint that is down (the OpenAIChat wrapper raises LLMError after its retries)."""

    name = "down"

    def complete(self, messages, **_):
        raise LLMError("the model endpoint refused the connection")

    def stream(self, messages, **_):
        raise LLMError("the model endpoint refused the connection")
        yield  # pragma: no cover


def test_a_model_failure_is_a_clean_error_plain_and_streamed(seeded):
    seeded._llm = FailingChat()
    with running(build_api(seeded)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0)
        with pytest.raises(openai.APIStatusError, match="refused the connection") as e:
            client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}])
        assert e.value.status_code == 502
        stream = client.chat.completions.create(model=MODEL_ID, stream=True,
                                                messages=[{"role": "user", "content": QUESTION}])
        with pytest.raises(openai.APIError, match="refused the connection"):
            list(stream)


def test_slots_are_released_after_errors(seeded, chat):
    seeded.settings.ui.concurrency = 1
    with running(build_api(seeded)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0, timeout=20)
        for _ in range(3):
            with pytest.raises(openai.BadRequestError):
                client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}],
                                               extra_body={"briefing": {"until": "never"}})
        chat.enqueue(REFUSAL, REFUSAL)
        assert client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}])
        assert list(client.chat.completions.create(model=MODEL_ID, stream=True,
                                                   messages=[{"role": "user", "content": QUESTION}]))


def test_the_chat_page_is_served_on_the_same_app(seeded):
    import httpx

    with running(build_api(seeded, page=True)) as url:
        assert httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer editor:{PASSWORD}"}).status_code == 200
        page = httpx.get(f"{url}/", follow_redirects=True)
        assert page.status_code == 200 and "<html" in page.text.lower()


def test_exposure_rule(settings):
    assert exposure_warning(settings, "127.0.0.1", False) == ""
    with pytest.raises(ConfigError, match="without a login"):
        exposure_warning(settings, "0.0.0.0", False)
    assert "WITHOUT A LOGIN" in exposure_warning(settings, "0.0.0.0", True)
    settings.ui.auth = SecretStr(f"editor:{PASSWORD}")
    assert exposure_warning(settings, "0.0.0.0", False) == ""


@pytest.mark.integration
def test_real_local_model_streams_a_cited_answer(real_assistant, seed_dir):
    """Every part real: packaged embedder, Chroma, the bundled model behind llama.cpp, the openai client."""
    assert real_assistant.ingest([seed_dir]).added
    with running(build_api(real_assistant)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=900)
        chunks = list(client.chat.completions.create(model=MODEL_ID, stream=True,
                                                     messages=[{"role": "user", "content": QUESTION}]))
    final = chunks[-1]
    text = "".join(c.choices[0].delta.content or "" for c in chunks).removesuffix(final.briefing["sources_footer"])
    assert final.choices[0].finish_reason == "stop" and text.strip() == final.briefing["answer"]["text"].strip()
    if final.briefing["answerable"]:
        assert final.citations
        for cite in final.citations:
            assert real_assistant.article(cite["article_id"]).body[cite["start"]:cite["end"]] == cite["quote"]
    else:
        assert text.strip() == REFUSAL and final.citations == []


class SlowChat:
    """A model that takes a few seconds to write its answer (so a client can leave half-way)."""

    name = "slow"

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, messages, **_):
        raise AssertionError("not used")

    def stream(self, messages, **_):
        from assistant.models.llm import Completion

        for word in self.text.split(" "):
            time.sleep(0.3)
            yield word + " "
        yield Completion(text=self.text, model=self.name, usage={})


def test_a_client_that_leaves_mid_stream_gives_its_slot_back(seeded):
    import httpx

    seeded.settings.ui.concurrency = 1
    seeded._llm = SlowChat(f"Yes. {STALLING} as Russian troops make progress on the battlefield [1].")
    body = {"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    headers = {"Authorization": f"Bearer {PASSWORD}"}
    with running(build_api(seeded)) as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30) as r:
            first = next(r.iter_lines())
            assert first.startswith("data: ") and "evidence" in first
        # the first answer is abandoned half-way; the only slot must come back for the next client
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0, timeout=40)
        resp = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": QUESTION}])
        assert resp.choices[0].finish_reason == "stop"


def test_the_briefing_serve_command(tmp_path):
    """The real command in a child process: refuses an exposed host without a login, serves on loopback."""
    import os
    import subprocess
    import sys

    import httpx

    from ..conftest import ROOT
    from ..support.openai_fault_server import FaultServer

    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFING_", "OPENAI_"))}
    env.update({"BRIEFING_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    refused = subprocess.run([sys.executable, "-m", "assistant.app.cli", "serve", "--host", "0.0.0.0"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "without a login" in refused.stderr and "BRIEFING_AUTH" in refused.stderr

    port = free_port()
    with FaultServer(default="echo") as srv:
        env.update({"BRIEFING_LLM__BASE_URL": srv.base_url, "BRIEFING_LLM__API_KEY": "sk-test-serve-0123456789",
                    "BRIEFING_LLM__MODEL": srv.model, "BRIEFING_AUTH": f"editor:{PASSWORD}"})
        proc = subprocess.Popen([sys.executable, "-m", "assistant.app.cli", "serve", "--port", str(port), "--no-page"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {PASSWORD}"})
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                    time.sleep(0.3)
            assert r.status_code == 200 and r.json()["data"][0]["id"] == MODEL_ID
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 404  # --no-page
        finally:
            proc.terminate()
            proc.wait(20)
