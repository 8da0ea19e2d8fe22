"""The store cases of tests/support/store_cases.py again, against a real `chroma run` server reached
through BRIEFING_CHROMA_URL (HttpClient), one fresh collection per case."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from assistant.assistant import Assistant
from assistant.config import load_settings
from assistant.search.store import Store

from ..support import store_cases
from ..support.fakes import FakeEmbedder
from ..support.store_cases import StoreEnv

pytestmark = pytest.mark.integration

STARTUP_TIMEOUT_S = 90


def _chroma_cli() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.is_file() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command is missing; it is installed with chromadb (pip install -e .)")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A `chroma run` server on a free local port with its own persist folder; stopped afterwards."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [_chroma_cli(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(root / "db")],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}:\n{(root / 'server.log').read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run gave no heartbeat within {STARTUP_TIMEOUT_S}s:\n"
                            f"{(root / 'server.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield {"url": url, "path": root / "db", "proc": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def env(chroma_server, tmp_path, monkeypatch) -> StoreEnv:
    monkeypatch.setenv("BRIEFING_CHROMA_URL", chroma_server["url"])
    files = tmp_path / "briefings"
    files.mkdir()
    collection = f"t{uuid.uuid4().hex[:12]}"  # a fresh library per case on the shared server
    fake = FakeEmbedder()

    def open_(embedder=None, **overrides) -> Assistant:
        s = load_settings(data_dir=tmp_path / "data", collection=collection, **overrides)
        assert s.chroma_url == chroma_server["url"], "the URL comes from BRIEFING_CHROMA_URL"
        emb = embedder or fake
        return Assistant(s, Store.open(s.data_dir, s.chroma_url, s.collection, emb), emb)

    yield StoreEnv(open_(), files, open_)
    assert not (tmp_path / "data" / "chroma").exists(), "nothing may be written to an embedded store"


@pytest.mark.parametrize("case", store_cases.CASES)
def test_store_on_chroma_server(case, env):
    case(env)


def test_server_client_is_http_and_data_lives_on_the_server(env, chroma_server):
    import chromadb

    env.assistant.ingest(env.seed())
    impl = env.assistant.store.client.get_settings().chroma_api_impl
    assert impl.endswith("FastAPI"), f"expected an HttpClient, got {impl}"
    # A separate client straight to the server sees the chunks the assistant wrote.
    direct = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_server["url"].rsplit(":", 1)[1]))
    name = f"{env.assistant.settings.collection}_chunks"
    assert direct.get_collection(name).count() == env.assistant.store.count() == 6
    assert (chroma_server["path"] / "chroma.sqlite3").is_file()


def test_cli_ingest_search_and_ask_over_the_server_path(chroma_server, tmp_path):
    """The scale-out setup end to end, as README describes it: `briefing` with BRIEFING_CHROMA_URL
    for the library and OPENAI_BASE_URL for the model (here the fault server answering normally)."""
    import json
    import os

    from ..conftest import SEED
    from ..support.openai_fault_server import FaultServer

    collection = f"cli{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFING_"))}
    env |= {"BRIEFING_CHROMA_URL": chroma_server["url"], "BRIEFING_COLLECTION": collection,
            "BRIEFING_DATA_DIR": str(tmp_path / "data")}

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "assistant.app.cli", *args], cwd=tmp_path, env=env | extra,
                             capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        return out

    added = json.loads(cli("ingest", str(SEED), "--json").stdout)
    assert len(added["added"]) == 1
    hits = json.loads(cli("search", "Is Russia stalling for time?", "--json").stdout)
    assert any("stalling for time" in h["text"] for h in hits)
    with FaultServer(model="hosted-model", default="echo") as llm:
        hosted = {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test-server-path",
                  "BRIEFING_LLM__MODEL": "hosted-model"}
        answer = json.loads(cli("ask", "Is Russia stalling for time?", "--json", **hosted).stdout)
        # The echoed answer is its cited sentence word for word: entailed as written, so no judge call.
        assert {r.body["model"] for r in llm.posts} == {"hosted-model"} and len(llm.posts) == 1
        # With words of its own ("..., for sessalpha [1]") the claim judge's yes/no goes to the hosted model too.
        json.loads(cli("ask", "Is Russia stalling for time, sessalpha?", "--json", **hosted).stdout)
        assert {r.body["model"] for r in llm.posts} == {"hosted-model"} and len(llm.posts) >= 3
    assert answer["answerable"] and answer["citations"]
    cite = answer["citations"][0]
    direct = Store.open(tmp_path / "unused", chroma_server["url"], collection, _minilm())
    assert direct.article(cite["article_id"]).body[cite["start"]:cite["end"]] == cite["quote"]
    assert not (tmp_path / "data" / "chroma").exists(), "the library lives on the server only"


def _minilm():
    from assistant.models.embed import MiniLMEmbedder

    return MiniLMEmbedder()
