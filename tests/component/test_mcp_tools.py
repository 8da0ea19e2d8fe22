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
    assert set(tools) == {"ask", "search", "articles"}
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

