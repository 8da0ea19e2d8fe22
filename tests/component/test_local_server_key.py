"""Issue 28, item 7: the bundled llama.cpp server took any caller, and a process that won the port race
passed the health check and received the prompts.

The server here is tests/support/fake_llama_server.py run from the real command line, which reads its key
the way llama_cpp.server does (API_KEY in its environment). The real server with its key:
tests/integration/test_local_server_key_integration.py."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.models import local_server as local_llm
from assistant.models.llm import chat_model_from_settings
from assistant.models.local_server import LocalServer, stop_warm_server, warm_server_status

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                reason="start() needs llama-cpp-python installed")


class FakeServer(LocalServer):
    def command(self, port):  # the real command line, served by tests/support/fake_llama_server.py
        # "llama_cpp.server" in argv: a warm server is only adopted when its command line says it is one.
        return [sys.executable, "-m", "tests.support.fake_llama_server", "--stand_in_for", "llama_cpp.server",
                *super().command(port)[3:]]


def _server(tmp_path: Path, **kw) -> FakeServer:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    return FakeServer(model, tmp_path, startup_timeout_s=60, extra_args=["--pidfile", str(tmp_path / "pid")], **kw)


def _get(port: int, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_each_server_gets_a_random_key_in_its_environment_not_its_command_line(tmp_path):
    (tmp_path / "b").mkdir()
    with _server(tmp_path) as server, _server(tmp_path / "b") as other:
        key = server.api_key
        assert len(key) >= 32 and key != other.api_key
        assert key.encode() not in Path(f"/proc/{server.pid}/cmdline").read_bytes()  # `ps` shows argv to all
        assert f"API_KEY={key}".encode() in Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
        assert _get(server.port, None) == 401 and _get(server.port, "guess") == 401
        assert _get(server.port, key) == 200 and server.healthy()


def test_the_bundled_chat_sends_the_key(tmp_path, monkeypatch):
    server = _server(tmp_path)
    monkeypatch.setattr(local_llm, "start_local_server", lambda settings: server.start())
    chat, closer = chat_model_from_settings(Settings(data_dir=tmp_path))
    try:
        assert chat.complete([{"role": "user", "content": "Say OK."}]).text == "ok"
    finally:
        closer()


class _Impostor(BaseHTTPRequestHandler):
    """Whatever grabbed the port first. `own_key`: another llama.cpp server (with its own key);
    None: a hostile one that lets anyone in and lists our model to look right."""

    own_key: str | None = None
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.headers.get("Authorization", ""))
        ok = self.own_key is None or self.headers.get("Authorization") == f"Bearer {self.own_key}"
        body = json.dumps({"data": [{"id": "m"}]} if ok else {"detail": "Invalid API key"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a: object) -> None:
        pass


@pytest.mark.parametrize("own_key", ["another-servers-key", None], ids=["other-server", "hostile"])
def test_a_process_that_wins_the_port_race_fails_the_health_check(tmp_path, monkeypatch, own_key):
    handler = type("Impostor", (_Impostor,), {"own_key": own_key, "seen": []})
    impostor = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    taken = impostor.server_address[1]
    ports = iter([taken])
    real_free_port = local_llm._free_port
    monkeypatch.setattr(local_llm, "_free_port", lambda: next(ports, None) or real_free_port())
    try:
        with _server(tmp_path) as server:
            assert server.port != taken  # ours failed to bind, was retried on a free port, and is the one used
            assert _get(server.port, server.api_key) == 200
            assert int((tmp_path / "pid").read_text()) == server.pid
    finally:
        impostor.shutdown()
        impostor.server_close()


def test_a_warm_server_keeps_its_key_in_a_private_record_and_is_reused_with_it(tmp_path):
    first = _server(tmp_path, keep_warm=True).start()
    second = None
    try:
        rec_path = tmp_path / local_llm.RECORD_NAME
        assert json.loads(rec_path.read_text())["api_key"] == first.api_key
        assert stat.S_IMODE(rec_path.stat().st_mode) == 0o600
        second = _server(tmp_path, keep_warm=True).start()
        assert second.reused and second.port == first.port and second.api_key == first.api_key
        status = warm_server_status(tmp_path)
        assert status["healthy"] is True and "api_key" not in status  # doctor prints this
    finally:
        stop_warm_server(tmp_path)
        for server in (first, second):  # a second server that did not reuse the first leaves one unrecorded
            if server is not None and server.pid and local_llm._pid_is_server(server.pid):
                local_llm._kill(server.pid)
