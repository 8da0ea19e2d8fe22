"""The store cases of tests/store_cases.py again, against a real `chroma run` server reached
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
from assistant.store import Store

from . import store_cases
from .fakes import FakeEmbedder
from .store_cases import StoreEnv

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
