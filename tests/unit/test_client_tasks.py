"""Chat clients' housekeeping prompts are recognised from the prompts Open WebUI and LibreChat really send
(tests/support/client_prompts.py) and answered in the shape each client parses; questions are left alone."""

from __future__ import annotations

import json

import pytest

from assistant.app.client_tasks import client_task, short_title

from ..support import client_prompts as cp

QUESTION = "Is Russia stalling for time in the Ukraine talks?"
ANSWER = "Yes. Many Western experts suspect they are stalling for time [2]."
CHAT = [("user", QUESTION), ("assistant", ANSWER)]


@pytest.mark.parametrize("template, expected", [
    (cp.OWUI_TITLE, {"title": "Is Russia stalling for time in the Ukraine\u2026"}),
    (cp.OWUI_TITLE_0_6, {"title": "Is Russia stalling for time in the Ukraine\u2026"}),
    (cp.OWUI_TAGS, {"tags": []}),
    (cp.OWUI_FOLLOW_UPS, {"follow_ups": []}),
    (cp.OWUI_QUERIES, {"queries": []}),
    (cp.OWUI_AUTOCOMPLETE, {"text": ""}),
])
def test_open_webui_tasks_get_the_json_their_template_asks_for(template, expected):
    task = client_task(cp.owui(template, CHAT, typed="What did"))
    assert task is not None and task.client == "open-webui"
    assert json.loads(task.reply) == expected
    assert task.kind == "+".join(expected)


def test_an_edited_open_webui_template_is_still_recognised_by_its_structure():
    edited = cp.OWUI_TITLE.replace("Generate a concise title summarizing the chat history.",
                                   "Name this chat in three words, please.")
    task = client_task(cp.owui(edited, [("user", "who is Witkoff")]))
    assert task is not None and json.loads(task.reply) == {"title": "Who is Witkoff"}


def test_librechat_titles_are_bare_text():
    for messages in (cp.librechat(QUESTION, ANSWER), cp.librechat_legacy("china and russia?", ANSWER)):
        task = client_task(messages)
        assert task is not None and task.client == "librechat" and task.kind == "title"
    assert client_task(cp.librechat("Who is Kirill Dmitriev?", ANSWER)).reply == "Who is Kirill Dmitriev"
    assert client_task(cp.librechat_legacy("china and russia?", ANSWER)).reply == "China and russia"


@pytest.mark.parametrize("text", [
    QUESTION,
    "### Task: summarise what the briefings say about Witkoff",  # a user's own heading, no chat history quoted
    "What title for the conversation did Dmitriev suggest?",  # the words, but no transcript
    "Write a 3-5 word title for the news about Witkoff",
])
def test_questions_are_not_tasks(text):
    assert client_task([{"role": "user", "content": text}]) is None


def test_content_parts_and_odd_messages():
    parts = [{"role": "user", "content": [{"type": "text", "text": cp.owui(cp.OWUI_TAGS, CHAT)[0]["content"]}]}]
    assert json.loads(client_task(parts).reply) == {"tags": []}
    assert client_task([]) is None and client_task("not a list") is None and client_task([None]) is None


def test_short_title():
    assert short_title("  is   Russia stalling? ") == "Is Russia stalling"
    assert short_title('"Who is Witkoff?"') == "Who is Witkoff"
    assert short_title("???") == "Briefings"
    nine = "one two three four five six seven eight nine"
    assert short_title(nine) == "One two three four five six seven eight\u2026"
