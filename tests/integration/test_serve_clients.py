"""What chat clients (Open WebUI, LibreChat, llm) receive from `briefing serve`, through the real `openai` package
against the real app: the sources footer in the content, url_citation annotations, and their own housekeeping
prompts (quoted from their source in tests/support/client_prompts.py) answered without the briefings."""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import SecretStr

from assistant.app.serve import MODEL_ID, build_api
from assistant.config import load_settings

from ..conftest import SEED
from ..support import client_prompts as cp
from .test_serve import PASSWORD, QUESTION, STALLING, running, stalling_key

pytestmark = pytest.mark.integration

TITLE, SOURCE, URL = "Russia's envoy visits Washington", "Semafor", "https://www.semafor.com/article/04/02/2025/envoy"


@pytest.fixture
def seeded(fake_assistant, tmp_path):
    """The sample briefing ingested as a JSON record with a title, source, date and URL, as a feed item is."""
    record = {"title": TITLE, "source": SOURCE, "url": URL, "date": "2025-04-02", "body": SEED.read_text()}
    path = tmp_path / "briefings.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert fake_assistant.ingest([path]).added
    fake_assistant.settings.ui.auth = SecretStr(f"editor:{PASSWORD}")
    return fake_assistant


@pytest.fixture
def client(seeded):
    with running(build_api(seeded, mcp=False)) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key=PASSWORD, max_retries=0, timeout=60)


def ask(client, stream=False, **extra):
    """Content, annotations (dicts) and the final `briefing` field, from a plain or a streamed completion."""
    messages = [{"role": "user", "content": QUESTION}]
    if not stream:
        resp = client.chat.completions.create(model=MODEL_ID, messages=messages, **extra)
        notes = [a.model_dump() for a in resp.choices[0].message.annotations or []]
        return resp.choices[0].message.content, notes, resp.briefing
    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True, **extra))
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and not last.choices[0].delta.content
    return "".join(c.choices[0].delta.content or "" for c in chunks), last.choices[0].delta.annotations, last.briefing


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_the_content_ends_with_numbered_sources_and_markers_carry_annotations(seeded, chat, client, stream):
    key = stalling_key(seeded)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")

    content, notes, briefing = ask(client, stream)

    answer = briefing["answer"]["text"]
    [quote] = {c["quote"] for c in briefing["answer"]["citations"]}
    assert content == (f"{answer}\n\n---\nSources:\n\n"
                       f"[{key}] {TITLE} \u2014 {SOURCE}, 2025-04-02 \u2014 {URL}\n> \u201c{quote}\u201d")
    assert briefing["sources_footer"] == content[len(answer):]
    [note] = notes
    span = note["url_citation"]
    assert note["type"] == "url_citation" and span["url"] == URL and span["title"] == TITLE
    assert content[span["start_index"]:span["end_index"]] == f"[{key}]" and span["end_index"] <= len(answer)


def test_the_footer_is_off_by_request_or_by_setting(seeded, chat, client, monkeypatch):
    key = stalling_key(seeded)
    reply = f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}]."
    chat.enqueue(reply, reply, reply)

    content, notes, briefing = ask(client, extra_body={"briefing": {"sources_footer": False}})
    assert content == briefing["answer"]["text"] and briefing["sources_footer"] == "" and len(notes) == 1

    monkeypatch.setenv("BRIEFING_SERVE__SOURCES_FOOTER", "false")
    seeded.settings.serve = load_settings(data_dir=str(seeded.settings.data_dir)).serve
    assert seeded.settings.serve.sources_footer is False
    content, notes, briefing = ask(client, stream=True)
    assert content == briefing["answer"]["text"] and len(notes) == 1
    content, _, briefing = ask(client, extra_body={"briefing": {"sources_footer": True}})
    assert content.endswith(briefing["sources_footer"]) and "\nSources:\n" in content


def test_the_footer_of_an_earlier_answer_is_not_sent_back_as_history(seeded, chat, client):
    key = stalling_key(seeded)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    first, _, briefing = ask(client)
    assert "\nSources:\n" in first
    chat.enqueue("Is China helping Russia stall?", "The briefings don't say.")  # the follow-up rewrite, the answer
    client.chat.completions.create(model=MODEL_ID, messages=[
        {"role": "user", "content": QUESTION}, {"role": "assistant", "content": first},
        {"role": "user", "content": "And China?"}])
    rewrite_prompt = str(chat.history[1])
    assert briefing["answer"]["text"] in rewrite_prompt and "Sources:" not in rewrite_prompt


def test_a_refusal_has_no_footer_and_no_annotations(chat, client):
    chat.enqueue("The briefings don't say.")
    content, notes, briefing = ask(client)
    assert content == "The briefings don't say." and notes == [] and briefing["sources_footer"] == ""


LONG_ANSWER = f"Yes. {STALLING} as Russian troops make progress on the battlefield [3]. " * 60  # > max_question_chars


@pytest.mark.parametrize("messages, expected", [
    (cp.owui(cp.OWUI_TITLE, [("user", QUESTION), ("assistant", LONG_ANSWER)]), {"title": "Is Russia stalling"}),
    (cp.owui(cp.OWUI_TITLE_0_6, [("user", QUESTION), ("assistant", LONG_ANSWER)]), {"title": "Is Russia stalling"}),
    (cp.owui(cp.OWUI_TAGS, [("user", QUESTION), ("assistant", LONG_ANSWER)]), {"tags": []}),
    (cp.owui(cp.OWUI_FOLLOW_UPS, [("user", QUESTION), ("assistant", LONG_ANSWER)]), {"follow_ups": []}),
    (cp.owui(cp.OWUI_QUERIES, [("user", QUESTION)]), {"queries": []}),
], ids=["owui-title", "owui-title-0.6", "owui-tags", "owui-follow-ups", "owui-queries"])
def test_open_webui_housekeeping_prompts_get_json_without_a_model_call(chat, client, messages, expected):
    # Sent as Open WebUI sends them: one user message, stream false. The scripted model has no reply queued:
    # a prompt taken for a question would fail the request (or come back "The briefings don't say.").
    resp = client.chat.completions.create(model=MODEL_ID, messages=messages, stream=False)
    assert json.loads(resp.choices[0].message.content) == expected
    assert resp.citations == [] and resp.briefing["client_task"]["client"] == "open-webui"
    assert chat.history == []


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_librechat_titles_are_the_first_question(chat, client, stream):
    for messages in (cp.librechat(QUESTION, LONG_ANSWER), cp.librechat_legacy(QUESTION, LONG_ANSWER)):
        resp = client.chat.completions.create(model="gpt-3.5-turbo", messages=messages, stream=stream)
        if stream:
            chunks = list(resp)
            title = "".join(c.choices[0].delta.content or "" for c in chunks)
            assert chunks[-1].choices[0].finish_reason == "stop"
        else:
            title = resp.choices[0].message.content
        assert title == "Is Russia stalling"
    assert chat.history == []
