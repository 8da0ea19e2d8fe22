"""Settings that work (issue 15): .env for every setting, OPENAI_* names, search_k, logging, --version,
honest ingest exit codes, `briefing doctor` and `briefing server`."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.app import cli
from assistant.config import load_settings
from assistant.logs import configure_logging, level_from

from ..conftest import ROOT, SEED

ENV_NAMES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BRIEFING_DEBUG", "BRIEFING_SEARCH_K", "BRIEFING_LOG_LEVEL",
             "BRIEFING_MODEL_CACHE", "BRIEFING_LLM__MODEL", "BRIEFING_LLM__API_KEY", "BRIEFING_LLM__BASE_URL",
             "BRIEFING_DATA_DIR")


@pytest.fixture
def env_dir(tmp_path, monkeypatch):
    """A temp working directory with no BRIEFING_*/OPENAI_* variables set: only its .env speaks."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dotenv_is_honoured_for_openai_names_debug_search_k_and_cache(env_dir):
    (env_dir / ".env").write_text(
        "OPENAI_API_KEY=sk-from-dotenv-1234\n"
        "OPENAI_BASE_URL=http://127.0.0.1:9/v1\n"
        "BRIEFING_DEBUG=1\n"
        "BRIEFING_SEARCH_K=4\n"
        "BRIEFING_LOG_LEVEL=info\n"
        f"BRIEFING_MODEL_CACHE={env_dir / 'cache'}\n"
        "BRIEFING_LLM__MODEL=some-model\n", encoding="utf-8")
    s = load_settings()
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == "sk-from-dotenv-1234"
    assert s.llm.base_url == "http://127.0.0.1:9/v1" and not s.llm.uses_local
    assert s.debug is True and s.search_k == 4 and s.log_level == "INFO"
    assert s.model_cache == env_dir / "cache" and s.llm.model == "some-model"
    assert "sk-from-dotenv" not in repr(s)


def test_briefing_names_win_over_openai_names_and_environment_over_dotenv(env_dir, monkeypatch):
    (env_dir / ".env").write_text("OPENAI_API_KEY=sk-dotenv-aaaa\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-environment-bbbb")
    monkeypatch.setenv("BRIEFING_LLM__BASE_URL", "http://127.0.0.1:10/v1")
    s = load_settings()
    assert s.llm.api_key.get_secret_value() == "sk-environment-bbbb"
    assert s.llm.base_url == "http://127.0.0.1:10/v1"


def test_search_k_is_the_default_k_of_search(fake_assistant, seed_dir):
    fake_assistant.ingest([seed_dir])
    assert len(fake_assistant.search("Russia talks Washington envoy")) == 6  # all 6 chunks, under the default 10
    fake_assistant.settings.search_k = 2
    assert len(fake_assistant.search("Russia talks Washington envoy")) == 2
    assert len(fake_assistant.search("Russia talks Washington envoy", k=3)) == 3


def test_logging_is_configured_once_with_the_requested_level(capsys):
    assert level_from(0, None, "WARNING", debug=False) == "WARNING"
    assert level_from(1, None, "WARNING") == "INFO" and level_from(2, None, "WARNING") == "DEBUG"
    assert level_from(0, None, "ERROR", debug=True) == "DEBUG"
    assert level_from(2, "error", "WARNING") == "ERROR"
    logger = configure_logging("INFO")
    configure_logging("INFO")  # a second call must not add a second handler
    ours = [h for h in logger.handlers if h.get_name() == "briefing-assistant"]
    assert len(ours) == 1 and logger.level == logging.INFO
    try:
        logging.getLogger("assistant.test").info("hello from the test")
        assert capsys.readouterr().err.count("hello from the test") == 1
    finally:
        configure_logging("WARNING")


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    base = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return subprocess.run([sys.executable, "-m", "assistant.app.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**base, **(env or {})}, timeout=300)


def test_cli_version_and_verbose_flags(tmp_path):
    out = _cli("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("briefing 0.")


def test_dotenv_debug_gives_a_traceback_in_the_cli(tmp_path):
    """BRIEFING_DEBUG used to be read from os.environ only: in .env it did nothing."""
    (tmp_path / ".env").write_text("BRIEFING_DEBUG=1\nBRIEFING_CHROMA_URL=http://127.0.0.1:9\n")
    out = _cli("articles", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" in out.stderr
    (tmp_path / ".env").write_text("BRIEFING_CHROMA_URL=http://127.0.0.1:9\n")
    out = _cli("articles", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr and out.stderr.startswith("briefing: ")


def test_ingest_with_one_bad_file_stores_the_rest_and_exits_3(tmp_path):
    docs = tmp_path / "in"
    docs.mkdir()
    (docs / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (docs / "broken.jsonl").write_bytes(b"\x00\x01\x02 not text at all \xff\xfe" * 20)
    out = _cli("ingest", "--data-dir", str(tmp_path / "data"), str(docs), "--json", cwd=tmp_path)
    assert out.returncode == cli.EXIT_INPUT_FAILED == 3, out.stderr
    report = json.loads(out.stdout)
    assert len(report["added"]) == 1 and [Path(f["where"]).name for f in report["failed"]] == ["broken.jsonl"]
    again = _cli("ingest", "--data-dir", str(tmp_path / "data"), str(docs / SEED.name), cwd=tmp_path)
    assert again.returncode == 0 and "unchanged 1" in again.stdout


def test_ingest_reports_chunk_progress_with_a_total(fake_assistant, seed_dir):
    seen: list[tuple[int, int]] = []
    report = fake_assistant.ingest([seed_dir], on_chunks=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, report.chunks_written) and seen[-1] == (report.chunks_written, report.chunks_written)
    assert all(total == report.chunks_written for _, total in seen)


def test_doctor_reports_and_fails_with_a_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BRIEFING_LLM__API_KEY", "sk-secret-doctor-99")
    monkeypatch.setenv("BRIEFING_LLM__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BRIEFING_MODEL_CACHE", str(tmp_path / "cache"))
    assert cli.main(["doctor", "--data-dir", str(tmp_path / "fresh")]) == 1  # no model name for the endpoint
    out = capsys.readouterr().out
    assert "sk-secret-doctor-99" not in out and "BRIEFING_LLM__API_KEY=**********" in out
    assert "FAIL  model:" in out and "fix: set BRIEFING_LLM__MODEL" in out
    assert "no library yet" in out and not (tmp_path / "fresh").exists()
    monkeypatch.setenv("BRIEFING_LLM__MODEL", "m")
    assert cli.main(["doctor", "--data-dir", str(tmp_path / "fresh"), "--json"]) == 0
    checks = json.loads(capsys.readouterr().out)
    assert {c["name"] for c in checks} >= {"python", "packages", "settings", "model", "embedder", "store", "disk"}


def test_server_status_and_stop_without_a_warm_server(tmp_path, capsys):
    assert cli.main(["server", "status", "--data-dir", str(tmp_path)]) == 0
    assert "no warm local model server" in capsys.readouterr().out
    assert cli.main(["server", "stop", "--data-dir", str(tmp_path)]) == 0
    assert "no warm local model server was running" in capsys.readouterr().out


def test_chat_help_does_not_promise_a_browser():
    out = subprocess.run([sys.executable, "-m", "assistant.app.cli", "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60).stdout
    assert "open the chat page in the browser" not in out


def test_upload_shows_embedding_progress(fake_assistant, tmp_path):
    from assistant.app.ui import Handlers

    seen: list[tuple[object, str]] = []

    def progress(value, desc="", unit=""):
        seen.append((value, desc))

    f = tmp_path / "envoy.txt"
    f.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    report, _, _ = Handlers(fake_assistant).upload([str(f)], progress=progress)
    assert "Added 1" in report
    assert seen[0] == (0, "Reading files…") and seen[-1] == ((6, 6), "Embedding chunks: 6 of 6")
