"""Security of the served chat page: launched as `briefing chat` would be with BRIEFING_AUTH set, it needs
the login for every route, enforces the upload limit and listens on loopback only. The settings, upload,
API-key and HTML checks are in tests/component/test_security.py."""

from __future__ import annotations

import socket

import httpx
import pytest
from gradio_client import Client

from assistant.app.ui import build_app, launch_options
from assistant.config import load_settings

from ..component.test_security import QUESTION, free_port
from ..conftest import SEED


# --- the served page -------------------------------------------------------------------------------

@pytest.fixture
def served_with_login(fake_assistant, monkeypatch):
    """The app launched as `briefing chat` would, with BRIEFING_AUTH set, on a free loopback port."""
    monkeypatch.setenv("BRIEFING_AUTH", "editor:s3cret-pw-long")
    fake_assistant.settings = load_settings(data_dir=fake_assistant.settings.data_dir, max_file_mb=0.05)
    assert fake_assistant.ingest([SEED]).added
    app = build_app(fake_assistant)
    app.queue(default_concurrency_limit=1)
    port = free_port()
    opts = launch_options(fake_assistant.settings, port=port)
    _, url, _ = app.launch(**opts, prevent_thread_lock=True, quiet=True)
    try:
        yield url.rstrip("/"), port
    finally:
        app.close()


def _non_loopback_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent; this only picks the outgoing interface
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


@pytest.mark.integration
def test_served_page_needs_the_login_and_listens_on_loopback_only(served_with_login, chat):
    url, port = served_with_login
    with httpx.Client(base_url=url, timeout=20) as anon:
        assert anon.get("/config").status_code == 401
        assert anon.post("/gradio_api/call/ask", json={"data": [QUESTION, "", 0, "", ""]}).status_code == 401
        assert anon.post("/gradio_api/upload", files={"files": ("a.txt", b"hello")}).status_code == 401
        assert anon.post("/login", data={"username": "editor", "password": "wrong"}).status_code == 400
    with httpx.Client(base_url=url, timeout=20) as user:
        assert user.post("/login", data={"username": "editor", "password": "s3cret-pw-long"}).status_code == 200
        assert user.get("/config").status_code == 200
        big = user.post("/gradio_api/upload", files={"files": ("big.txt", b"word " * 20_000)})
        assert big.status_code == 413  # 100 kB over the 0.05 MB limit set by BRIEFING_MAX_FILE_MB
        assert user.post("/gradio_api/upload", files={"files": ("ok.txt", b"fine")}).status_code == 200
    chat.enqueue("The briefings don't say.")
    client = Client(url, auth=("editor", "s3cret-pw-long"), verbose=False, analytics_enabled=False, download_files=False)
    assert client.predict(question=QUESTION, api_name="/ask")["answerable"] is False
    ip = _non_loopback_ip()
    if ip is not None:  # only loopback was bound: another interface of this machine refuses
        with pytest.raises(OSError):
            socket.create_connection((ip, port), timeout=3).close()
