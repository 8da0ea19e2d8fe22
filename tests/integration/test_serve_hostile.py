"""`briefing serve` against hostile input (issue 28, items 1, 8, 9 and 13): the real app on uvicorn on a
free loopback port, the scripted model. A counting layer outside the app (BodyCounter) measures how many
body bytes the app pulled, so "refused before the body was read" is a number, not a hope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.app.serve import MODEL_ID, build_api

from ..support.serve_load import flood
from .test_serve import PASSWORD, QUESTION, running

pytestmark = pytest.mark.integration

MB = 1024 * 1024
CAP = 512 * 1024  # BRIEFING_UI__MAX_REQUEST_KB's default
FAILURES = 10  # BRIEFING_UI__LOGIN_FAILURES's default
ASK = {"model": MODEL_ID, "messages": [{"role": "user", "content": QUESTION}]}


class BodyCounter:
    """ASGI wrapper counting the request body bytes the wrapped app received."""

    def __init__(self, app: Any) -> None:
        self.app, self.read = app, 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            self.read += len(message.get("body", b""))
            return message
        await self.app(scope, counted, send)


@pytest.fixture
def locked(fake_assistant, seed_dir):
    assert fake_assistant.ingest([seed_dir]).added
    fake_assistant.settings.ui.auth = SecretStr(f"editor:{PASSWORD}")
    return fake_assistant


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_big_body_without_the_key_is_refused_before_it_is_read(locked, chunked):
    app = BodyCounter(build_api(locked))
    with running(app) as url:
        status = flood(url, "/v1/chat/completions", 40 * MB, chunked)
    assert status == 401 and app.read < MB, (status, app.read)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_big_body_with_the_key_is_cut_off_at_the_cap(locked, chunked):
    app = BodyCounter(build_api(locked))
    with running(app) as url:
        status = flood(url, "/v1/chat/completions", 40 * MB, chunked, {"Authorization": f"Bearer {PASSWORD}"})
    assert status == 413 and app.read <= CAP + 300 * 1024, (status, app.read)


def test_the_messages_list_is_capped(locked):
    with running(build_api(locked)) as url:
        many = [{"role": "user", "content": "x"}] * 1000
        r = httpx.post(f"{url}/v1/chat/completions", json={**ASK, "messages": many},
                       headers={"Authorization": f"Bearer {PASSWORD}"}, timeout=30)
    assert r.status_code == 400 and "messages" in r.json()["error"]["message"]
    assert "at most 256" in r.json()["error"]["message"]


def test_the_pages_queue_endpoints_cap_the_body_too(locked):
    app = BodyCounter(build_api(locked, page=True))
    with running(app) as url:
        for path in ("/gradio_api/queue/join", "/gradio_api/call/ask", "/gradio_api/run/predict"):
            app.read = 0
            status = flood(url, path, 40 * MB, chunked=True)
            assert status == 413 and app.read <= CAP + 300 * 1024, (path, status, app.read)


def test_the_openapi_schema_needs_the_key(locked):
    with running(build_api(locked)) as url:
        assert httpx.get(f"{url}/v1/openapi.json").status_code == 401
        r = httpx.get(f"{url}/v1/openapi.json", headers={"Authorization": f"Bearer {PASSWORD}"})
    assert r.status_code == 200 and "/v1/chat/completions" in r.json()["paths"]


def test_the_host_header_must_name_this_server(locked):
    key = {"Authorization": f"Bearer {PASSWORD}"}
    with running(build_api(locked, page=True)) as url:
        port = url.rsplit(":", 1)[1]
        for host in (f"rebound.example:{port}", "attacker.test"):
            assert httpx.get(f"{url}/v1/models", headers={**key, "Host": host}).status_code == 400
            assert httpx.get(f"{url}/config", headers={"Host": host}).status_code == 400
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]"):
            assert httpx.get(f"{url}/v1/models", headers={**key, "Host": host}).status_code == 200
    locked.settings.ui.allowed_hosts = ("briefs.example.org",)
    with running(build_api(locked)) as url:
        assert httpx.get(f"{url}/v1/models", headers={**key, "Host": "briefs.example.org"}).status_code == 200


def test_cross_origin_requests_are_refused_and_never_echoed(locked):
    """On loopback Gradio sends no CORS header to another site but still runs its request (a form post or a
    no-cors fetch needs no readable answer); behind HTTPS (a Host that is not a loopback name) it even
    echoes any Origin with credentials."""
    with running(build_api(locked, page=True)) as url:
        r = httpx.post(f"{url}/gradio_api/queue/join", json={}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403, r.status_code
    locked.settings.ui.allowed_hosts = ("briefs.example.org",)
    locked.settings.ui.allowed_origins = ("https://portal.example.org",)
    own = {"Host": "briefs.example.org"}
    with running(build_api(locked, page=True)) as url:
        def call(method: str, path: str, origin: str, **kw: Any) -> httpx.Response:
            return httpx.request(method, f"{url}{path}", headers={**own, "Origin": origin, **kw.pop("headers", {})},
                                 timeout=20, **kw)

        for method, path in (("GET", "/config"), ("POST", "/gradio_api/queue/join"), ("OPTIONS", "/gradio_api/queue/join"),
                             ("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
            r = call(method, path, "https://evil.example", json={} if method == "POST" else None,
                     headers={"Access-Control-Request-Method": "POST", "Authorization": f"Bearer {PASSWORD}"})
            assert r.status_code == 403 and "access-control-allow-origin" not in r.headers, (method, path, r.status_code,
                                                                                          dict(r.headers))
        assert call("GET", "/config", "null").status_code == 403
        same = call("GET", "/config", "https://briefs.example.org")
        assert same.status_code in (200, 401) and same.headers.get("access-control-allow-credentials") != "true"
        listed = call("GET", "/v1/models", "https://portal.example.org", headers={"Authorization": f"Bearer {PASSWORD}"})
        assert listed.status_code == 200
        assert listed.headers["access-control-allow-origin"] == "https://portal.example.org"
        assert "access-control-allow-credentials" not in listed.headers


def test_failed_keys_are_throttled_per_address(locked):
    with running(build_api(locked)) as url:
        for _ in range(FAILURES):
            assert httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer guess-guess-guess"}).status_code == 401
        blocked = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {PASSWORD}"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["error"]["type"] == "rate_limit_error"


def test_page_logins_are_throttled_per_address(locked):
    with running(build_api(locked, page=True)) as url:
        for _ in range(FAILURES):
            assert httpx.post(f"{url}/login", data={"username": "editor", "password": "guess"}).status_code == 400
        blocked = httpx.post(f"{url}/login", data={"username": "editor", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1


def test_the_page_alone_has_the_same_gate(locked):
    """`briefing chat` serves the page without the API: Gradio builds the app, launch_options adds the gate."""
    from assistant.app.ui import build_app, launch_options

    from ..support.live_app import free_port

    blocks = build_app(locked)
    blocks.queue(default_concurrency_limit=1)
    _, url, _ = blocks.launch(**launch_options(locked.settings, port=free_port()), prevent_thread_lock=True, quiet=True)
    url = url.rstrip("/")
    try:
        assert httpx.get(f"{url}/config", headers={"Host": "rebound.example"}).status_code == 400
        assert flood(url, "/gradio_api/queue/join", 40 * MB, chunked=True) == 413
        for _ in range(FAILURES):
            assert httpx.post(f"{url}/login", data={"username": "editor", "password": "guess"}).status_code == 400
        assert httpx.post(f"{url}/login", data={"username": "editor", "password": PASSWORD}).status_code == 429
    finally:
        blocks.close()
