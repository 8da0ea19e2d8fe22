"""The MCP tools over streamable HTTP at /mcp of `briefing serve`, through the `mcp` package's own client: the real
FastAPI/uvicorn app in a thread (scripted model, for exact answers), and the real `briefing serve` command in a
child process (tests/support/serve_child.py). Over stdio: tests/integration/test_mcp_tools_integration.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from pydantic import SecretStr

from assistant.app.mcp_tools import package_version
from assistant.app.serve import build_api

from ..component.test_mcp_tools import payload
from ..support.live_app import free_port
from ..support.serve_load import KEY, ServeChild
from .test_serve import PASSWORD, QUESTION, STALLING, running, stalling_key

pytestmark = pytest.mark.integration

TOOLS = {"ask", "search", "articles", "sources", "delete_article"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "raw-http", "version": "0"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def connect(url: str, key: str) -> Client:
    """An MCP client session over streamable HTTP, sending the serve API key as a Bearer token."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    return Client(streamable_http_client(url, http_client=http))


@pytest.fixture
def seeded(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    fake_assistant.settings.ui.auth = SecretStr(f"editor:{PASSWORD}")
    return fake_assistant


def test_the_tools_over_http_list_answer_and_delete(seeded, chat):
    key = stalling_key(seeded)
    chat.enqueue(f"Yes. {STALLING} as Russian troops make progress on the battlefield [{key}].")
    [article] = seeded.articles()

    async def session(url: str) -> dict[str, Any]:
        async with connect(f"{url}/mcp", PASSWORD) as client:
            out: dict[str, Any] = {"server": client.server_info,
                                   "tools": {t.name: t for t in (await client.list_tools()).tools}}
            out["sources"] = payload(await client.call_tool("sources", {}))
            out["ask"] = payload(await client.call_tool("ask", {"question": QUESTION}))
            out["by_source"] = payload(await client.call_tool("articles", {"source": "nobody-publishes-this"}))
            out["deleted"] = payload(await client.call_tool("delete_article", {"article_id": article.id}))
            out["again"] = payload(await client.call_tool("delete_article", {"article_id": article.id}))
            out["left"] = payload(await client.call_tool("articles", {}))
            return out

    with running(build_api(seeded)) as url:
        got = asyncio.run(session(url))

    assert got["server"].name == "briefing-assistant" and got["server"].version == package_version()
    tools = got["tools"]
    assert set(tools) == TOOLS
    assert tools["delete_article"].annotations.destructive_hint is True
    assert tools["delete_article"].annotations.read_only_hint is False
    for name in TOOLS - {"delete_article"}:
        assert tools[name].annotations.read_only_hint is True, name
        assert tools[name].annotations.destructive_hint is False, name
    assert got["sources"] == [{"source": article.source, "articles": 1, "newest": got["sources"][0]["newest"],
                               "oldest": got["sources"][0]["oldest"]}]
    answer = got["ask"]
    assert answer["answerable"] is True and answer["text"].endswith(f"[{key}].")
    [cite] = answer["citations"]
    assert STALLING in cite["quote"] and cite["article_id"] == article.id
    assert got["by_source"] == []
    assert got["deleted"] == {"deleted": True, "id": article.id, "title": article.title}
    assert got["again"] == {"deleted": False, "id": article.id, "title": ""}
    assert got["left"] == [] and seeded.articles() == []


def test_mcp_over_http_needs_the_same_key_and_host_as_the_api(seeded):
    with running(build_api(seeded)) as url:
        body = json.dumps(INITIALIZE)
        no_key = httpx.post(f"{url}/mcp", content=body, headers=MCP_HEADERS)
        wrong = httpx.post(f"{url}/mcp", content=body, headers={**MCP_HEADERS, "Authorization": "Bearer wrong"})
        rebound = httpx.post(f"{url}/mcp", content=body,
                             headers={**MCP_HEADERS, "Authorization": f"Bearer {PASSWORD}", "Host": "evil.example"})
        ok = httpx.post(f"{url}/mcp", content=body, headers={**MCP_HEADERS, "Authorization": f"Bearer {PASSWORD}"})
        unmounted = build_api(seeded, mcp=False)
    assert no_key.status_code == 401 and wrong.status_code == 401
    assert no_key.json()["error"]["code"] == "invalid_api_key"
    assert rebound.status_code == 400 and rebound.json()["error"]["code"] == "invalid_host"
    assert ok.status_code == 200 and "briefing-assistant" in ok.text
    assert all(getattr(r, "path", "") != "/mcp" for r in unmounted.routes)


def test_mcp_over_http_on_the_real_briefing_serve_command(tmp_path):
    """The `briefing serve` command (cli.main) in a child process, its model a slow scripted one: a client
    lists the tools and gets an answer while the API keeps answering too."""
    with ServeChild(tmp_path / "data", free_port(), delay=0.01) as server:
        server.wait_ready()

        async def session() -> tuple[set[str], Any, Any, Any]:
            async with connect(f"{server.base}/mcp", KEY) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                listed = payload(await client.call_tool("articles", {}))
                answered = payload(await client.call_tool("ask", {"question": QUESTION}))
                return names, client.server_info, listed, answered

        names, info, listed, answered = asyncio.run(session())
        api = httpx.get(f"{server.base}/v1/models", headers={"Authorization": f"Bearer {KEY}"})
        assert server.terminate() < 20
    assert names == TOOLS and info.version == package_version()
    assert len(listed) == 1 and listed[0]["chunks"] >= 1
    assert isinstance(answered["text"], str) and answered["text"] and "answerable" in answered
    assert api.status_code == 200
