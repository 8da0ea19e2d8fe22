"""The MCP tools through a real MCP client session, in-process (scripted model, fast). Over stdio against
the real `briefing mcp` command: tests/integration/test_mcp_tools_integration.py."""

from __future__ import annotations

import asyncio
import json

from mcp import Client

from assistant.app.mcp_tools import build_server

QUESTION = "Is Russia stalling?"
STALLING = "Many Western experts suspect they are stalling for time"


def run(coro):
    return asyncio.run(coro)


def payload(result) -> object:
    """A tool result's JSON: the structured content when there is one, else the text block."""
    if result.structured_content is not None:
        data = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return json.loads(result.content[0].text)


def test_tools_are_listed_and_answer(fake_assistant, seed_dir, chat):
    a = fake_assistant
    assert a.ingest([seed_dir]).added
    stream = a.ask_stream(QUESTION)
    key = next(e.key for e in next(stream).evidence if STALLING in e.text)
    stream.close()
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")

    async def session():
        async with Client(build_server(a)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            listed = await client.call_tool("articles", {})
            found = await client.call_tool("search", {"query": QUESTION, "k": 3})
            answered = await client.call_tool("ask", {"question": QUESTION})
            bad = await client.call_tool("search", {"query": QUESTION, "since": "soonish"})
            return tools, listed, found, answered, bad

    tools, listed, found, answered, bad = run(session())
    assert set(tools) == {"ask", "search", "articles", "sources", "delete_article"}
    assert {"question", "history", "as_of", "since", "until", "source", "k"} <= set(tools["ask"].input_schema["properties"])
    [article] = payload(listed)
    assert article["title"] and article["chunks"] >= 1
    hits = payload(found)
    assert 1 <= len(hits) <= 3 and hits[0]["article_id"] == article["id"]
    answer = payload(answered)
    assert answer["answerable"] is True and answer["text"].endswith(f"[{key}].")
    [cite] = answer["citations"]
    assert a.article(cite["article_id"]).body[cite["start"]:cite["end"]] == cite["quote"]
    assert STALLING in cite["quote"] and cite["title"] == article["title"]
    assert bad.is_error and "not a date" in bad.content[0].text



def test_a_rewritten_follow_up_is_sent_only_as_the_models_rewrite(fake_assistant, seed_dir, chat):
    """The model's rewrite of a follow-up is unchecked model text: MCP and the JSON shapes sent it as
    `standalone_question`, like a fact about the request. It goes out only under a name that says whose words
    it is, and not at all when the question was answered as asked."""
    from assistant.app.endpoints import ask_final
    from assistant.records import answer_record
    from assistant.types import REFUSAL

    a = fake_assistant
    assert a.ingest([seed_dir]).added
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": f"{STALLING} [1]."}]
    chat.enqueue("How close are Russia and China?", REFUSAL, "How close are Russia and China?", REFUSAL)

    async def session():
        async with Client(build_server(a)) as client:
            return await client.call_tool("ask", {"question": "And China?", "history": history})

    sent = payload(run(session()))
    final = ask_final(a, "And China?", history=history)
    for shape in (sent, final):
        # the earlier key stays in the shape (a contract) but carries the user's words, never the model's
        assert shape["standalone_question"] == "And China?", shape
        assert shape["model_rewritten_question"] == "How close are Russia and China?"
    chat.enqueue(REFUSAL)
    answer = a.ask("How close are Russia and China?")  # no history: no rewrite
    assert answer_record(answer)["standalone_question"] == answer.question
    assert answer_record(answer)["model_rewritten_question"] is None
    assert answer.to_dict()["model_rewritten_question"] is None
