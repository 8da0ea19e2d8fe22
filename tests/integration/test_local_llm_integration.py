"""The bundled local model on the real llama.cpp server: the real 1.1 GB model (assembled once per machine
into the shared model cache), started, asked, kept warm, stopped; skipped when the `[local]` extra is missing.
The same checks on tiny fake parts and a fake server are in tests/component/test_local_llm.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError, LLMError
from assistant.models import local_server as local_llm
from assistant.models.llm import Completion, OpenAIChat, chat_model_from_settings
from assistant.models.local_server import LocalServer, ensure_model, find_part_dirs, stop_warm_server

from ..component.test_local_llm import _owner_dies


# -- the real server ---------------------------------------------------------------------------


def _local_extra_installed() -> bool:
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        find_part_dirs()
    except ConfigError:
        return False
    return True


needs_local = pytest.mark.skipif(not _local_extra_installed(), reason="the [local] extra is not installed")


@pytest.fixture(scope="session")
def local_data(tmp_path_factory) -> Path:
    """A data dir of its own (server record and log); the model comes from the machine's shared cache,
    so the whole suite assembles it at most once (BRIEFING_MODEL_CACHE)."""
    data = tmp_path_factory.mktemp("local-llm")
    ensure_model(Settings().model_cache)
    return data


@pytest.fixture(scope="session")
def local_server(local_data):
    with LocalServer(ensure_model(Settings().model_cache), local_data, n_ctx=2048, n_threads=2,
                     startup_timeout_s=300) as server:
        yield server


@pytest.mark.integration
@needs_local
def test_real_model_answers_through_openai_chat(local_server):
    chat = OpenAIChat(local_server.base_url, local_server.api_key, local_server.model_name, seed=7,
                      max_tokens=16, timeout_s=300, max_retries=0)
    msgs = [{"role": "user", "content": "Reply with exactly: Hello there."}]
    out = chat.complete(msgs)
    assert out.text.strip() and out.model == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert out.usage["prompt_tokens"] > 0 and 0 < out.usage["completion_tokens"] <= 16
    *deltas, final = list(chat.stream(msgs))
    assert isinstance(final, Completion) and deltas and final.text == "".join(deltas)
    assert final.text.strip()
    log = (local_server.data_dir / "logs" / "llama-server.log").read_text(errors="replace")
    assert "qwen2" in log.lower()


@pytest.mark.integration
@needs_local
def test_keep_warm_server_is_reused_then_stopped(local_data):
    settings = Settings(data_dir=local_data, local={"keep_warm": True, "n_ctx": 1024, "startup_timeout_s": 300},
                        llm={"max_tokens": 4, "timeout_s": 300})
    first, closer = chat_model_from_settings(settings)
    try:
        assert closer is None
        rec = json.loads((local_data / "local-llm.json").read_text())
        assert {"pid", "port", "model"} <= rec.keys()
        second, closer2 = chat_model_from_settings(settings)
        assert closer2 is None and second.base_url == first.base_url
        assert second.complete([{"role": "user", "content": "Say OK."}]).text.strip()
        assert json.loads((local_data / "local-llm.json").read_text())["pid"] == rec["pid"]
    finally:
        assert stop_warm_server(local_data) is True
    assert not (local_data / "local-llm.json").exists()
    assert not local_llm._pid_is_server(rec["pid"])


@pytest.mark.integration
@needs_local
def test_real_server_dies_with_its_owner(local_data, tmp_path):
    """The real llama_cpp.server under the watchdog: SIGKILL its owner once it serves; gone in seconds."""
    _owner_dies(tmp_path, "kill-started", fake=False, wait_s=300, data=local_data)


@pytest.mark.integration
@needs_local
def test_server_that_dies_at_startup_reports_its_log(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a gguf file at all")
    with pytest.raises(LLMError, match="exited with code") as err:
        LocalServer(bogus, tmp_path, startup_timeout_s=120).start()
    assert "llama-server.log" in err.value.one_line()


@pytest.mark.integration
@needs_local
def test_closer_stops_a_per_process_server(local_data):
    settings = Settings(data_dir=local_data, local={"n_ctx": 1024, "startup_timeout_s": 300})
    chat, closer = chat_model_from_settings(settings)
    assert closer is not None
    assert chat.complete([{"role": "user", "content": "Say OK."}], max_tokens=3).text.strip()
    closer()
    with pytest.raises(LLMError, match="connection failed"):
        OpenAIChat(chat.base_url, "x", chat.name, timeout_s=2, max_retries=0).complete(
            [{"role": "user", "content": "still there?"}])


@pytest.mark.integration
@needs_local
def test_a_server_that_dies_mid_answer_is_named_and_replaced(local_data):
    """A llama.cpp build that does not suit the CPU dies on the first prompt (seen: a general protection
    fault in ggml's AMX matmul). The user is told the server died and where its log is, not only
    "connection dropped", and the next question gets a new server."""
    import os
    import signal

    settings = Settings(data_dir=local_data, local={"n_ctx": 1024, "startup_timeout_s": 300})
    chat, closer = chat_model_from_settings(settings)
    try:
        first_pid = chat.server.pid
        pieces = chat.stream([{"role": "user", "content": "Count from 1 to 50, one number per line."}],
                             max_tokens=200)
        next(pieces)
        os.kill(first_pid, signal.SIGSEGV)
        with pytest.raises(LLMError) as err:
            list(pieces)
        assert "bundled model server exited with code -11 (SIGSEGV)" in str(err.value)
        assert "llama-server.log" in err.value.hint and "make install" in err.value.hint
        assert chat.complete([{"role": "user", "content": "Say OK."}], max_tokens=3).text.strip()
        assert chat.server.pid != first_pid
    finally:
        if closer is not None:
            closer()
