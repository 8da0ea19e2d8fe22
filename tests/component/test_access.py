"""Who may reach a served page or API, per request (issue 28, items 8, 9 and 13): the throttle of failed
logins, the Host and Origin rules, the password floor and the generated token, the page queue's bound.
The same rules over HTTP are in tests/integration/test_serve_hostile.py."""

from __future__ import annotations

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_per_address_are_throttled_within_the_window():
    from assistant.app.access import FailureThrottle

    clock = Clock()
    t = FailureThrottle(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert t.retry_after("10.0.0.1") == 0
        t.failed("10.0.0.1")
        clock.now += 1
    assert t.retry_after("10.0.0.1") == 57  # until the first failure (at 1000) leaves the window (1060)
    assert t.retry_after("10.0.0.2") == 0  # another address is not affected
    clock.now += 57
    assert t.retry_after("10.0.0.1") == 0
    t.failed("10.0.0.1")
    t.succeeded("10.0.0.1")
    assert t.retry_after("10.0.0.1") == 0


def test_the_throttle_remembers_a_bounded_number_of_addresses():
    from assistant.app.access import FailureThrottle

    t = FailureThrottle(limit=1, window_s=60, clock=Clock(), max_addresses=100)
    for i in range(1000):
        t.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(t._failures) == 100 and t.retry_after("10.0.3.231") > 0 and t.retry_after("10.0.0.0") == 0


@pytest.mark.parametrize("header,ok", [
    ("127.0.0.1:8000", True), ("localhost", True), ("LOCALHOST:1", True), ("[::1]:8000", True), ("127.1.2.3", True),
    ("app.localhost:8000", True), ("briefs.example.org", True), ("briefs.example.org.:443", True),
    ("evil.example", False), ("127.0.0.1.evil.example", False), ("", False), (None, False), ("0.0.0.0:8000", False),
])
def test_host_header_rule(header, ok):
    from assistant.app.access import host_allowed

    assert host_allowed(header, {"briefs.example.org"}) is ok


def test_allowed_hosts_add_the_served_address_but_not_every_interface(tmp_path):
    from assistant.app.access import allowed_hosts, host_allowed

    s = Settings(data_dir=tmp_path, ui={"allowed_hosts": "a.example, B.example:8443"})
    assert allowed_hosts(s, "192.0.2.7") == {"a.example", "b.example", "192.0.2.7"}
    assert allowed_hosts(s, "0.0.0.0") == {"a.example", "b.example"}
    assert host_allowed("anything.example", allowed_hosts(Settings(data_dir=tmp_path, ui={"allowed_hosts": ["*"]})))


@pytest.mark.parametrize("origin,host,ok", [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
    ("https://briefs.example.org", "briefs.example.org", True),
    ("https://briefs.example.org:443", "briefs.example.org", True),
    ("http://127.0.0.1:9999", "127.0.0.1:8000", False),  # another local service is another origin
    ("https://evil.example", "briefs.example.org", False),
    ("https://portal.example.org/", "briefs.example.org", True),  # listed
    ("null", "127.0.0.1:8000", False), ("file://", "127.0.0.1:8000", False),
])
def test_origin_rule(origin, host, ok):
    from assistant.app.access import origin_allowed

    assert origin_allowed(origin, host, {"https://portal.example.org"}) is ok


@pytest.mark.parametrize("password", ["password1", "elevenchars", "hunter2-pw!"])
def test_passwords_under_12_characters_are_refused(password, tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEFING_AUTH", f"editor:{password}")
    with pytest.raises(ConfigError, match="at least 12 characters") as caught:
        load_settings(data_dir=tmp_path)
    assert password not in str(caught.value)


def test_serve_suggests_a_generated_token_that_the_settings_accept(tmp_path, monkeypatch):
    from assistant.app.access import check_exposure, new_token

    monkeypatch.delenv("BRIEFING_AUTH", raising=False)
    with pytest.raises(ConfigError) as caught:
        check_exposure(Settings(data_dir=tmp_path), "0.0.0.0")
    suggested = caught.value.one_line().split("BRIEFING_AUTH=editor:", 1)[1].split(")")[0]
    assert len(suggested) >= 12 and suggested != new_token()
    monkeypatch.setenv("BRIEFING_AUTH", f"editor:{suggested}")
    assert load_settings(data_dir=tmp_path).ui.auth.get_secret_value() == f"editor:{suggested}"


def test_the_pages_queue_has_a_bound(fake_assistant):
    from fastapi import FastAPI

    from assistant.app.ui import launch_options, mount_page

    app = FastAPI()
    mount_page(app, fake_assistant, "/")
    [blocks] = [r.app.get_blocks() for r in app.routes if hasattr(getattr(r, "app", None), "get_blocks")]
    assert blocks._queue.max_size == 2 * (1 + 8)  # the bundled model: 1 answer at once, 8 waiting
    fake_assistant.settings.ui.queue_size = 3
    fake_assistant.settings.ui.concurrency = 2
    app = FastAPI()
    mount_page(app, fake_assistant, "/")
    [blocks] = [r.app.get_blocks() for r in app.routes if hasattr(getattr(r, "app", None), "get_blocks")]
    assert blocks._queue.max_size == 10
    assert launch_options(fake_assistant.settings)["app_kwargs"]["middleware"]  # `briefing chat` gets the gate
