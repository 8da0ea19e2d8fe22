"""Security defaults: loopback binding, the optional login, upload checks, no API key anywhere a user or
a log can see it, and untrusted HTML shown as text.

The key tests point the real openai client at servers on 127.0.0.1: one that is not listening, and
one that echoes the request's Authorization header back in its error message, as a hostile or
careless endpoint might.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler

import pytest

from assistant.assistant import Assistant
from assistant.config import Settings, load_settings
from assistant.errors import ConfigError
from assistant.models.llm import OpenAIChat
from assistant.app.render import error_html
from assistant.app.render_library import report_html
from assistant.search.store import Store
from assistant.types import IngestFailure, IngestReport
from assistant.app.ui import Handlers, build_app, check_upload, launch_options

from ..conftest import ROOT, SEED
from ..support.fakes import FakeEmbedder
from ..support.http_fixture import serving

KEY = "sk-test-SECRET-7d3f9a61c0b2"
QUESTION = "Is Russia stalling?"
XSS = '<img src=x onerror=alert(1)><script>alert("xss")</script>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with HTTP 400 whose message repeats the Authorization header."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps({"error": {"message": f"invalid request for {self.headers.get('authorization')}",
                                     "type": "invalid_request_error"}}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url():
    with serving(_Echo, path="/v1") as url:
        yield url


def keyed_assistant(tmp_path, base_url: str) -> Assistant:
    """The seed briefing in a real store, answered by the real openai client at `base_url` with KEY."""
    s = Settings(data_dir=tmp_path / "data", llm={"base_url": base_url, "api_key": KEY, "model": "m",
                                                  "max_retries": 0, "timeout_s": 5})
    embedder = FakeEmbedder()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder,
                  llm=OpenAIChat(base_url, KEY, "m", max_retries=0, timeout_s=5))
    assert a.ingest([SEED]).added
    return a


# --- settings --------------------------------------------------------------------------------------

def test_settings_never_show_the_key_or_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("BRIEFING_AUTH", "editor:hunter2-pass")
    s = load_settings(data_dir=tmp_path)
    assert s.llm.api_key.get_secret_value() == KEY and s.ui.auth.get_secret_value() == "editor:hunter2-pass"
    for shown in (repr(s), str(s), s.model_dump_json(), json.dumps(s.model_dump(mode="json")), s.settings_hash()):
        assert KEY not in shown and "hunter2" not in shown
    # A wrong value elsewhere: pydantic's own message would quote every input, the key among them.
    monkeypatch.setenv("BRIEFING_CHUNK_OVERLAP", "5000")
    with pytest.raises(ConfigError) as caught:
        load_settings(data_dir=tmp_path)
    assert "chunk_overlap must be smaller" in str(caught.value) and KEY not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    monkeypatch.delenv("BRIEFING_CHUNK_OVERLAP")
    monkeypatch.setenv("BRIEFING_AUTH", "no-colon-secret")
    with pytest.raises(ConfigError, match="BRIEFING_AUTH .*user:password") as caught:
        load_settings(data_dir=tmp_path)
    assert "no-colon-secret" not in str(caught.value)


def test_defaults_bind_loopback_without_share_or_login(tmp_path, monkeypatch):
    monkeypatch.delenv("BRIEFING_AUTH", raising=False)
    opts = launch_options(Settings(data_dir=tmp_path))
    assert (opts["server_name"], opts["share"], opts["auth"]) == ("127.0.0.1", False, None)
    monkeypatch.setenv("BRIEFING_AUTH", "ann:pw:with:colons")
    assert launch_options(load_settings(data_dir=tmp_path))["auth"] == ("ann", "pw:with:colons")
    monkeypatch.setenv("BRIEFING_UI__AUTH", "bob:wins-every-time")  # the long name wins over the short one
    assert launch_options(load_settings(data_dir=tmp_path))["auth"] == ("bob", "wins-every-time")


@pytest.mark.parametrize("value", ["editor:", "editor:short7c", "editor:        ", ":long-enough-pw", "samename:samename"])
def test_empty_or_trivial_passwords_are_refused(value, tmp_path, monkeypatch):
    monkeypatch.setenv("BRIEFING_AUTH", value)
    with pytest.raises(ConfigError, match="BRIEFING_AUTH") as caught:
        load_settings(data_dir=tmp_path)
    secret = value.partition(":")[2]
    assert not secret.strip() or secret not in str(caught.value)


@pytest.fixture
def fake_launch(monkeypatch):
    """ui.launch with Blocks.launch recording its options instead of serving, and no model warm-up."""
    import gradio as gr

    from assistant.app import ui

    calls: list[dict] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: calls.append(kw))
    monkeypatch.setattr(ui, "_warm_up", lambda assistant: None)
    monkeypatch.delenv("BRIEFING_AUTH", raising=False)
    monkeypatch.delenv("BRIEFING_UI__AUTH", raising=False)
    return calls


@pytest.mark.parametrize("host,share", [("0.0.0.0", False), ("::", False), ("192.0.2.10", False),
                                        ("127.0.0.1", True)])
def test_exposed_page_without_login_is_refused(host, share, fake_launch, tmp_path, capsys):
    from assistant.app import cli

    assert cli.main(["chat", "--data-dir", str(tmp_path), "--host", host] + (["--share"] if share else [])) == 1
    err = capsys.readouterr().err
    assert "without a login" in err and "BRIEFING_AUTH" in err and "--no-auth" in err
    assert fake_launch == []  # nothing was served


def test_no_auth_serves_with_a_loud_warning_and_loopback_needs_nothing(fake_launch, tmp_path, capsys, monkeypatch):
    from assistant.app import ui

    ui.launch(data_dir=tmp_path, host="0.0.0.0", no_auth=True)
    assert fake_launch[-1]["server_name"] == "0.0.0.0" and fake_launch[-1]["auth"] is None
    assert "WITHOUT A LOGIN" in capsys.readouterr().err
    for host in ("127.0.0.1", "localhost", "::1", None):
        ui.launch(data_dir=tmp_path, host=host)
        assert "WITHOUT A LOGIN" not in capsys.readouterr().err
    monkeypatch.setenv("BRIEFING_AUTH", "editor:long-enough-pw")
    ui.launch(data_dir=tmp_path, host="0.0.0.0")
    assert fake_launch[-1]["auth"] == ("editor", "long-enough-pw") and len(fake_launch) == 6


# --- uploads ---------------------------------------------------------------------------------------

def test_upload_limit_follows_the_ingest_limit(tmp_path):
    s = Settings(data_dir=tmp_path, max_file_mb=3)
    assert s.upload_limit_mb == 3 and launch_options(s)["max_file_size"] == 3_000_000
    assert Settings(data_dir=tmp_path, max_file_mb=3, ui={"max_upload_mb": 1}).upload_limit_mb == 1
    assert Settings(data_dir=tmp_path, max_file_mb=3, ui={"max_upload_mb": 9}).upload_limit_mb == 3
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    assert check_upload(big, s.upload_limit_mb, s.upload_limit_setting) == ""
    small = Settings(data_dir=tmp_path, max_file_mb=0.004)
    assert check_upload(big, small.upload_limit_mb, small.upload_limit_setting) == (
        "5.0 kB is over the 0.004 MB upload limit (BRIEFING_MAX_FILE_MB)")


def test_uploads_are_sniffed_and_saved_under_the_data_dir_with_safe_names(fake_assistant, tmp_path):
    src = tmp_path / "incoming"
    src.mkdir()
    png = src / "photo.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    blank = src / "blank.md"
    blank.write_text(" \n\t\n")
    sneaky = src / "..\\..\\..\\etc\\cron.d\\evil.txt"  # a legal file name on Linux, a path on Windows
    sneaky.write_text("The envoy met officials in Washington on Tuesday.\n")
    dotted = src / "..hidden.jsonl"
    dotted.write_text(json.dumps({"id": "j1", "body": "Talks resumed on Friday, officials said."}) + "\n")
    utf16 = src / "utf16.txt"
    utf16.write_bytes("Gr\u00fc\u00dfe: the summit opened in Geneva.\n".encode("utf-16"))

    with pytest.warns(UserWarning):
        report, _, _ = Handlers(fake_assistant).upload([str(p) for p in (png, blank, sneaky, dotted, utf16)])

    uploads = fake_assistant.settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["evil.txt", "hidden.jsonl", "utf16.txt"]
    assert all(p.resolve().parent == uploads.resolve() for p in uploads.iterdir())
    assert "photo.txt: looks like a binary file, not text; upload txt, md, html, json or jsonl text" in report
    assert "blank.md: file is empty" in report
    assert "Added 3" in report
    origins = {a.origin for a in fake_assistant.articles()}
    assert all(o.startswith(str(uploads.resolve())) for o in origins)


# --- API keys --------------------------------------------------------------------------------------

def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFING_"))}
    return subprocess.run([sys.executable, "-m", "tests.support.cli_child", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("endpoint", ["dead", "echo"])
def test_cli_never_prints_the_key(endpoint, echo_url, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1" if endpoint == "dead" else echo_url
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": url, "BRIEFING_LLM__MODEL": "m",
           "BRIEFING_LLM__MAX_RETRIES": "0", "BRIEFING_LLM__TIMEOUT_S": "5"}
    data = str(tmp_path / "data")
    ingest = run_cli(["ingest", "--data-dir", data, str(SEED)], env)
    assert ingest.returncode == 0, ingest.stderr
    asked = run_cli(["ask", "--data-dir", data, QUESTION], env)
    assert asked.returncode == 1
    assert asked.stderr.strip().splitlines()[-1].startswith("briefing: LLM endpoint http://127.0.0.1:")
    if endpoint == "echo":
        assert "invalid request for Bearer *** (check the server" in asked.stderr
    debug = run_cli(["ask", "--data-dir", data, QUESTION], {**env, "BRIEFING_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr  # the whole chain, openai's errors included
    for out in (ingest.stdout, ingest.stderr, asked.stdout, asked.stderr, debug.stdout, debug.stderr):
        assert KEY not in out and KEY[-8:] not in out


def test_ui_errors_logs_and_the_api_never_show_the_key(echo_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # everything openai, httpx and we log, at every level
    a = keyed_assistant(tmp_path, echo_url)
    h = Handlers(a)
    with pytest.warns(UserWarning) as warned:
        outputs = list(h.respond(QUESTION, [], None, "", ""))
    shown = json.dumps([o[0] for o in outputs]) + " ".join(str(w.message) for w in warned)
    assert "Could not answer." in shown and "invalid request for Bearer ***" in shown
    import gradio as gr

    with pytest.raises(gr.Error) as caught:
        h.api_ask(QUESTION)
    assert "Bearer ***" in str(caught.value.message)
    app_config = json.dumps(build_app(a).config, default=str)
    for text in (shown, str(caught.value.message), app_config, caplog.text):
        assert KEY not in text and KEY[-8:] not in text


def test_eval_report_never_holds_the_key(echo_url, tmp_path, seed_dir):
    from assistant.evaluation.runner import run_eval

    a = keyed_assistant(tmp_path, echo_url)
    out = tmp_path / "report"
    result = run_eval(ROOT / "evals" / "datasets" / "seed_briefing.jsonl", [seed_dir], out=out, limit=2,
                      assistant=a, progress=False)
    assert result.metrics["run"]["errors"] == 2  # every question met the failing endpoint
    files = sorted(out.iterdir())
    assert {p.name for p in files} >= {"report.json", "report.md", "report.html"}
    text = "".join(p.read_text(encoding="utf-8") for p in files)
    assert "Bearer ***" in text and KEY not in text and KEY[-8:] not in text


# --- HTML ------------------------------------------------------------------------------------------

def test_file_names_and_reasons_in_the_upload_report_are_escaped():
    report = IngestReport(failed=[IngestFailure(f"/up/{XSS}.jsonl:3", f"'published_at' is not a date: {XSS!r}")])
    out = report_html(report, [f"{XSS}.pdf: .pdf files are not supported"], {})
    assert "<img" not in out and "<script" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "<img" not in error_html(XSS) and "&lt;script&gt;" in error_html(XSS)



def test_one_rule_hides_url_credentials_and_masks_secrets():
    from assistant.app.render import describe_model
    from assistant.models.llm import _display_url
    from assistant.redact import mask_secrets, url_without_credentials

    url = "https://user:pa55word@llm.example.com:8443/v1/?key=sk-in-query#frag"
    assert url_without_credentials(url) == "https://llm.example.com:8443/v1/"
    assert _display_url(url) == "https://llm.example.com:8443/v1"  # the client's messages: no trailing slash
    s = Settings(llm={"base_url": url, "api_key": "sk-x-0123456789", "model": "m"})
    assert describe_model(s) == "m at https://llm.example.com:8443/v1/"
    assert url_without_credentials("not a url") == ""
    assert describe_model(Settings(llm={"base_url": "nohost", "model": "m"})) == "m at (invalid URL)"
    # Longest first, so a secret that contains another is masked whole; too-short "secrets" are left alone.
    assert mask_secrets("key sk-abcdef and pw abc and sk-abc", ["sk-abc", "sk-abcdef", "abc", ""]) == \
        "key *** and pw abc and ***"
