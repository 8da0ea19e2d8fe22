"""The MCP tools over stdio against the real `briefing mcp` command (packaged embedder, real openai client to a
local fake server), through a real MCP client session. The in-process session is in
tests/component/test_mcp_tools.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from mcp import Client, StdioServerParameters

from ..component.test_mcp_tools import QUESTION, payload, run
from ..conftest import ROOT
from ..support.openai_fault_server import FaultServer


@pytest.mark.integration
def test_briefing_mcp_over_stdio(tmp_path, seed_dir):
    data = tmp_path / "data"
    env = {**os.environ, "BRIEFING_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    with FaultServer(default="echo") as srv:
        env.update({"BRIEFING_LLM__BASE_URL": srv.base_url, "BRIEFING_LLM__API_KEY": "sk-test-mcp-0123456789",
                    "BRIEFING_LLM__MODEL": srv.model})
        subprocess.run([sys.executable, "-m", "assistant.app.cli", "ingest", str(seed_dir)], env=env, check=True,
                       capture_output=True, timeout=300)
        params = StdioServerParameters(command=sys.executable, args=["-m", "assistant.app.cli", "mcp"], env=env,
                                       cwd=str(ROOT))

        async def session():
            async with Client(params) as client:
                names = sorted(t.name for t in (await client.list_tools()).tools)
                listed = payload(await client.call_tool("articles", {}))
                answer = payload(await client.call_tool("ask", {"question": QUESTION}))
                return names, listed, answer

        names, listed, answer = run(session())
    assert names == ["articles", "ask", "delete_article", "search", "sources"]
    assert len(listed) == 1
    assert answer["answerable"] is True and answer["citations"]
    cite = answer["citations"][0]
    assert cite["article_id"] == listed[0]["id"] and cite["quote"]
