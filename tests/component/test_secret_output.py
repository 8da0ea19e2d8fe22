"""Issue 28, item 10: secrets in what we print. `briefing doctor` showed BRIEFING_LLM__BASE_URL and the Chroma
URL raw (user, password, `api-key=` in the query), a ConfigError carried the raw endpoint URL to API clients,
and a `.env` in the working directory could send the user's key to another endpoint without a word."""

from __future__ import annotations

import logging

import pytest

from assistant.app import doctor
from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.models.llm import chat_model_from_settings

from ..support.fakes import FakeEmbedder

LLM_URL = "https://alice:pw-s3cr3t-llm@llm.example.com/v1?api-key=key-9f8e7d6c&deployment=gpt"
# Port 9 (discard) on loopback: refused at once, so the store check fails fast with its message.
CHROMA_URL = "http://bob:pw-hunter2-chroma@127.0.0.1:9/?X-Chroma-Token=tok-5a4b3c2d1e"
SECRETS = ("alice", "pw-s3cr3t-llm", "key-9f8e7d6c", "bob", "pw-hunter2-chroma", "tok-5a4b3c2d1e")


def test_redact_url_keeps_where_and_hides_who_and_keys():
    from assistant.redact import redact_url

    assert redact_url(LLM_URL) == "https://***:***@llm.example.com/v1?api-key=***&deployment=gpt"
    assert redact_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert redact_url("https://h.example/v1?access_token=abc&sig=xyz&X-Amz-Signature=q&page=2") == \
        "https://h.example/v1?access_token=***&sig=***&X-Amz-Signature=***&page=2"
    assert redact_url("https://tok@h.example/v1#key=abc") == "https://***@h.example/v1#key=***"


def test_doctor_never_prints_credentials(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BRIEFING_LLM__BASE_URL", LLM_URL)
    monkeypatch.setenv("BRIEFING_LLM__MODEL", "gpt")
    monkeypatch.setattr("assistant.models.embed.make_embedder", lambda name, settings: FakeEmbedder())
    doctor.run(data_dir=str(tmp_path / "data"), chroma_url=CHROMA_URL)
    doctor.run(data_dir=str(tmp_path / "data"), chroma_url=CHROMA_URL, as_json=True)
    out = capsys.readouterr().out
    assert "llm.example.com" in out and "127.0.0.1:9" in out  # still says where
    assert [s for s in SECRETS if s in out] == []


def test_a_config_error_does_not_carry_the_endpoint_credentials(tmp_path):
    settings = load_settings(data_dir=tmp_path, llm={"base_url": LLM_URL})
    with pytest.raises(ConfigError) as err:
        chat_model_from_settings(settings)
    shown = err.value.one_line()
    assert "llm.example.com" in shown and [s for s in SECRETS if s in shown] == []


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for var in ("BRIEFING_LLM__BASE_URL", "BRIEFING_UI__HOST", "BRIEFING_CHROMA_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_dotenv_that_moves_the_endpoint_is_named(workdir, caplog):
    (workdir / ".env").write_text(f"OPENAI_BASE_URL={LLM_URL}\nBRIEFING_COLLECTION=news\n")
    with caplog.at_level(logging.WARNING):
        s = load_settings(data_dir=workdir / "data")
    assert s.llm.base_url == LLM_URL  # still honoured: a warning, not a refusal
    [warning] = _warnings(caplog)
    assert ".env" in warning and "llm.example.com" in warning and "OPENAI_BASE_URL" in warning
    assert [x for x in SECRETS if x in warning] == []


def test_a_dotenv_that_opens_the_page_to_the_network_is_named(workdir, caplog):
    (workdir / ".env").write_text("BRIEFING_UI__HOST=0.0.0.0\n")
    with caplog.at_level(logging.WARNING):
        load_settings(data_dir=workdir / "data")
    [warning] = _warnings(caplog)
    assert ".env" in warning and "0.0.0.0" in warning


def test_a_harmless_dotenv_or_one_the_environment_overrides_says_nothing(workdir, caplog, monkeypatch):
    (workdir / ".env").write_text("BRIEFING_COLLECTION=news\nBRIEFING_UI__HOST=127.0.0.1\n")
    with caplog.at_level(logging.WARNING):
        load_settings(data_dir=workdir / "data")
    (workdir / ".env").write_text("BRIEFING_LLM__BASE_URL=https://elsewhere.example/v1\nBRIEFING_UI__HOST=::1\n")
    monkeypatch.setenv("BRIEFING_LLM__BASE_URL", "http://127.0.0.1:8080/v1")
    with caplog.at_level(logging.WARNING):
        load_settings(data_dir=workdir / "data")
    assert _warnings(caplog) == []


def test_a_chroma_server_that_cannot_be_reached_is_named_without_its_credentials(tmp_path):
    """serve answers 503 with the store's error: it carried the Chroma URL with its user and password."""
    import pytest

    from assistant.errors import StoreError
    from assistant.search.store import Store
    from tests.support.fakes import FakeEmbedder

    url = "http://alice:pw-s3cr3t-chroma@127.0.0.1:9/?api-key=tok-chroma-77"
    with pytest.raises(StoreError) as caught:
        Store.open(tmp_path / "d", url, "briefings", FakeEmbedder())
    text = caught.value.one_line()
    assert "127.0.0.1" in text
    assert not [s for s in ("alice", "pw-s3cr3t-chroma", "tok-chroma-77") if s in text], text
