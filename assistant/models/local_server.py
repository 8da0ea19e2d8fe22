"""The offline default: serve the bundled GGUF model (model_cache.py) with llama.cpp on 127.0.0.1.

The server is `python -m llama_cpp.server` (llama-cpp-python[server]), reached through `OpenAIChat`
like any other OpenAI-compatible endpoint. Its life is tied to the process that started it (the
owner): a watchdog inside the server exits as soon as the owner is gone, however it went (SIGKILL,
OOM killer, a crash, Ctrl-C during the up-to-180 s start), and the owner's own exit path stops it
too (registered before the server is spawned). Only `keep_warm` (BRIEFING_LOCAL__KEEP_WARM=true)
lets it outlive its owner, on purpose: it is then recorded in `<data_dir>/local-llm.json` so later
processes reuse it, logged as such, and stopped with `stop_warm_server` (`briefing stop-model`).

Only we may use it: each spawn gets a random API key, handed over in the child's environment (API_KEY,
which llama_cpp.server reads when the command line has no --api_key; argv is visible to every user in
`ps`) and sent by the client. The health check asks with that key, and only once the socket listening on
the port is the child's own, so a process that won the port race neither passes it nor learns the key.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import ConfigError, LLMError
from ..logs import status
# The model file itself (assembly, sha256, the cache) lives in model_cache.py; re-exported here for callers.
from .model_cache import (INSTALL_HINT, MODEL_FILENAME, MODEL_SHA256, MODEL_SIZE, PART_COUNT,  # noqa: F401
                          _file_lock, _sha256_file, ensure_model, find_part_dirs, model_file, model_status)

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

RECORD_NAME = "local-llm.json"
LOG_MAX_BYTES = 5 << 20
# Warm servers outlive the LocalServer that started them; holding their Popen here keeps Python from
# warning "subprocess is still running" when that object is collected.
_DETACHED: list[subprocess.Popen[bytes]] = []

# llama_cpp.server reads its settings from the environment too (pydantic-settings, any case, and
# CONFIG_FILE overrides the command line). Settings we do not pass explicitly could be hijacked by an
# unrelated variable such as CACHE, so the child never sees these; API_KEY is then set to our own key.
_CHILD_ENV_DROP = frozenset(
    "config_file api_key chat_format cache cache_type cache_size n_gpu_layers logits_all embedding verbose "
    "seed root_path ssl_keyfile ssl_certfile interrupt_requests hf_model_repo_id draft_model lora_path "
    "lora_base clip_model_path kv_overrides model_alias use_mlock n_batch n_ubatch".split())


# Runs the server module in a child that watches its owner. Why not prctl(PR_SET_PDEATHSIG)? Linux
# sends that signal when the *thread* that forked the child exits, and the server is often started
# from a short-lived thread (the chat page's warm-up, a Gradio worker), which would kill it at once.
# The parent pid only changes when the owner process itself is gone, so the watchdog polls it.
_OWNER_WATCHDOG = """\
import os, runpy, sys, threading, time
owner, module = int(sys.argv[1]), sys.argv[2]
sys.argv = [module] + sys.argv[3:]
def watch():
    while os.getppid() == owner:
        time.sleep(0.2)
    os._exit(0)  # the owner died: free the model's memory now, whatever the server is doing
threading.Thread(target=watch, name="owner-watchdog", daemon=True).start()
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def owned_command(command: Sequence[str], owner_pid: int | None = None) -> list[str]:
    """`python -m MODULE ARGS` rewritten to run MODULE under a watchdog that exits when `owner_pid`
    (default: this process, which must be the child's parent) is no longer its parent."""
    exe, flag, module, *args = command
    if flag != "-m":
        raise ValueError("owned_command expects [python, '-m', module, ...]")
    return [exe, "-c", _OWNER_WATCHDOG, str(owner_pid or os.getpid()), module, *args]

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int, alias: str, key: str, pid: int | None, timeout: float = 2.0) -> bool:
    # The key goes only to a socket of `pid`: a stranger on the port must not learn it.
    if pid is None or not _listens(pid, port):
        return False
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            ids = [m.get("id") for m in json.load(resp).get("data", [])]
    except (OSError, ValueError, AttributeError):
        return False
    return alias in ids


def _listens(pid: int, port: int) -> bool:
    """True when the socket listening on 127.0.0.1:`port` belongs to process `pid` (or /proc cannot tell)."""
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return True  # no /proc: the key check alone
    local = "%08X:%04X" % (struct.unpack("=I", socket.inet_aton("127.0.0.1"))[0], port)
    listening = {f"socket:[{f[9]}]" for f in map(str.split, rows) if len(f) > 9 and f[1] == local and f[3] == "0A"}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in listening:
                return True
        except OSError:
            pass
    return False


def _pid_is_server(pid: int) -> bool:
    # Guards against a recycled pid: the process must still be a llama_cpp.server.
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return b"llama_cpp.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the health check that follows


def _read_record(data_dir: Path) -> dict[str, Any] | None:
    try:
        rec = json.loads((data_dir / RECORD_NAME).read_text())
        return rec if isinstance(rec, dict) and isinstance(rec.get("pid"), int) else None
    except (OSError, ValueError):
        return None


def _kill(pid: int, wait_s: float = 10.0) -> None:
    for sig in (15, 9):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:  # not our child: poll for its disappearance instead
                if not _pid_is_server(pid):
                    return
            time.sleep(0.1)


class LocalServer:
    """One llama.cpp server process (or a reused warm one) serving one GGUF file on 127.0.0.1."""

    def __init__(self, model_path: Path, data_dir: Path, n_ctx: int = 4096, n_threads: int = 2,
                 startup_timeout_s: float = 180.0, keep_warm: bool = False, prompt_cache_mb: int = 0,
                 flash_attn: bool = True, extra_args: Sequence[str] = ()) -> None:
        self.model_path = Path(model_path).resolve()
        self.data_dir = Path(data_dir)
        self.n_ctx, self.n_threads = n_ctx, n_threads
        self.startup_timeout_s = startup_timeout_s
        self.keep_warm = keep_warm
        self.prompt_cache_mb = prompt_cache_mb
        self.flash_attn = flash_attn
        self.extra_args = tuple(extra_args)
        self.model_name = self.model_path.name.removesuffix(".gguf")
        self.log_path = self.data_dir / "logs" / "llama-server.log"
        self.port: int | None = None
        self.pid: int | None = None
        self.reused = False
        self.api_key = ""  # the running server's key (per spawn; a reused warm server's from its record)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of the running server."""
        if self.port is None:
            raise LLMError("the local model server is not running", hint="call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    def _wanted(self) -> dict[str, Any]:
        return {"model": str(self.model_path), "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "prompt_cache_mb": self.prompt_cache_mb, "flash_attn": self.flash_attn}

    def command(self, port: int) -> list[str]:
        """The server command line for a given port."""
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
                "--model_alias", self.model_name, "--host", "127.0.0.1", "--port", str(port),
                "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
                "--n_threads_batch", str(self.n_threads),
                # Logits for every prompt token are only needed for logprobs, which we never ask for;
                # keeping them costs 0.6 MB per token of context (0.9 GB measured at 630 tokens).
                "--logits_all", "False",
                # Locking 1.1 GB in RAM fails without CAP_IPC_LOCK and buys little: it is mmapped.
                "--use_mlock", "False",
                # Reading the prompt is most of the wait on a CPU; flash attention reads it ~6 % faster
                # here (605 tokens: 6.35 s -> 5.95 s, 2 threads) and gave the same seed answers.
                "--flash_attn", str(self.flash_attn),
                *self._cache_args(), *self.extra_args]

    def _cache_args(self) -> list[str]:
        # llama.cpp reuses the KV cache for the prefix the new prompt shares with the previous one, and every
        # prompt here starts with the same system message (the rewrite of a follow-up aside), so the RAM cache
        # (--cache) has little to bring back. It costs on every request: llama-cpp-python copies the model's
        # state into it (the KV cache and up to 512 rows of logits) before the response ends, and counts only
        # the KV bytes against --cache_size (real RAM up to ~23x the setting). Measured 2026-12-07, 15 seed
        # questions, 2 cores, quote style, back to back: median first checked sentence 8.49 s without it and
        # 9.27 s with 48 MB (8.48 vs 9.34, 8.87 vs 10.74 in two more pairs), checks 1.04 vs 1.29 s, the same
        # answers; the three rewritten follow-ups of the chat run took as long either way (12.99/14.31/13.58 s
        # vs 12.95/14.02/13.72 s). So it is off unless BRIEFING_LOCAL__PROMPT_CACHE_MB asks for it.
        if self.prompt_cache_mb <= 0:
            return []
        return ["--cache", "True", "--cache_type", "ram", "--cache_size", str(self.prompt_cache_mb << 20)]

    def start(self) -> "LocalServer":
        """Start the server (or adopt a recorded warm one) and wait until it answers /v1/models."""
        if self.port is not None:
            return self
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError("llama-cpp-python is not installed, so the local model cannot be served",
                              hint=INSTALL_HINT)
        if not self.model_path.is_file():
            raise ConfigError(f"model file not found: {self.model_path}", hint=INSTALL_HINT)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, as Assistant.from_settings makes it
        if not self.keep_warm:
            # Before the spawn: a SIGTERM or Ctrl-C during the (long) start runs the exit path, which
            # must already know to stop the half-started server.
            atexit.register(self.stop)
        with _file_lock(self.data_dir / "local-llm.lock"):
            if self.keep_warm and self._adopt():
                return self
            try:
                self._spawn_and_wait()
            except BaseException:
                atexit.unregister(self.stop)
                raise
            if self.keep_warm:
                self._write_record()
                if self._proc is not None:
                    _DETACHED.append(self._proc)
                log.warning("keep_warm: the local model server (pid %s, port %s) keeps running after this process "
                            "exits; `briefing stop-model` stops it", self.pid, self.port)
        return self

    def _adopt(self) -> bool:
        rec = _read_record(self.data_dir)
        if rec is None:
            return False
        pid, port = rec["pid"], rec.get("port")
        alive = _pid_is_server(pid)
        same = all(rec.get(k) == v for k, v in self._wanted().items())
        key = str(rec.get("api_key") or "")  # a record from before keys: that server lets anyone in, replace it
        if alive and same and key and isinstance(port, int) and _healthy(port, self.model_name, key, pid):
            self.pid, self.port, self.reused, self.api_key = pid, port, True, key
            log.info("reusing the warm local model server pid %s on port %s", pid, port)
            return True
        if alive:  # a warm server for other settings, or a sick one: replace it
            log.info("stopping the warm local model server pid %s (settings changed or unhealthy)", pid)
            _kill(pid)
        (self.data_dir / RECORD_NAME).unlink(missing_ok=True)
        return False

    def _write_record(self) -> None:
        rec = {"pid": self.pid, "port": self.port, "api_key": self.api_key, **self._wanted(), "started": time.time()}
        tmp = self.data_dir / f".{RECORD_NAME}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        # 0600 from the start: the record holds the key.
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(json.dumps(rec))
        os.replace(tmp, self.data_dir / RECORD_NAME)

    def _open_log(self, port: int) -> Any:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists() and self.log_path.stat().st_size > LOG_MAX_BYTES:
            os.replace(self.log_path, self.log_path.with_suffix(".log.1"))
        # Append mode: concurrent servers (without keep_warm) can share the log safely.
        f = self.log_path.open("ab")
        f.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.model_path.name} "
                f"on port {port} ===\n".encode())
        f.flush()
        return f

    def _log_tail(self, port: int, lines: int = 8) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - (64 << 10)))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        mark = text.rfind(f"on port {port} ===")
        text = text[mark:] if mark >= 0 else text
        return " | ".join(ln.strip() for ln in text.splitlines()[1:][-lines:] if ln.strip())

    def _spawn_and_wait(self, tries: int = 3) -> None:
        base_env = {k: v for k, v in os.environ.items() if k.lower() not in _CHILD_ENV_DROP}
        started = time.monotonic()
        deadline = started + self.startup_timeout_s
        status(f"starting the local model server ({self.model_path.name}); loading takes a few seconds "
               f"to a minute on a small machine", log)
        for attempt in range(1, tries + 1):
            port = _free_port()  # another process may grab it before the server binds: then retry
            key = secrets.token_urlsafe(32)  # new per try: one shown to a port thief must not open the next
            env = {**base_env, "API_KEY": key}
            with self._open_log(port) as logf:
                # A warm server must survive the terminal that started it (Ctrl-C, hang-up); a
                # per-process one stays in our process group so killing the group kills it too, and
                # runs under the owner watchdog so killing only us (SIGKILL, OOM) kills it as well.
                cmd = self.command(port) if self.keep_warm else owned_command(self.command(port))
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                        stderr=subprocess.STDOUT, env=env, start_new_session=self.keep_warm)
            if not self.keep_warm:
                self._proc, self.pid = proc, proc.pid  # stop() (atexit) can reach it from here on
            try:
                while (code := proc.poll()) is None and not _healthy(port, self.model_name, key, proc.pid, timeout=1.0):
                    if time.monotonic() > deadline:
                        raise LLMError(f"the local model server did not answer within {self.startup_timeout_s:g}s",
                                       hint=f"raise BRIEFING_LOCAL__STARTUP_TIMEOUT_S or see {self.log_path}")
                    time.sleep(0.25)
            except BaseException:  # timeout, Ctrl-C: never leave a half-started server behind
                _kill(proc.pid)
                proc.poll()
                self._proc = None
                raise
            if code is None:
                self._proc, self.pid, self.port, self.api_key = proc, proc.pid, port, key
                status(f"local model server ready on 127.0.0.1:{port} (pid {proc.pid}, "
                       f"{time.monotonic() - started:.1f} s)", log)
                return
            self._proc = None
            tail = self._log_tail(port)
            if "address already in use" not in tail.lower() or attempt == tries:
                raise LLMError(f"the local model server exited with code {code} while starting: {tail[-400:]}",
                               hint=f"see {self.log_path}")

    def died(self) -> str:
        """How the server this object runs went away ("exited with code -11 (SIGSEGV)"); "" while it runs."""
        if self._proc is not None:
            code = self._proc.poll()
            if code is None:
                return ""
            name = f" ({signal.Signals(-code).name})" if code < 0 and -code in signal.valid_signals() else ""
            return f"exited with code {code}{name}"
        if self.pid is not None and self.port is not None and not _pid_is_server(self.pid):
            return "is gone"
        return ""

    def healthy(self) -> bool:
        """True when the server answers /v1/models with our model."""
        return self.port is not None and _healthy(self.port, self.model_name, self.api_key, self.pid)

    def stop(self) -> None:
        """Terminate (then kill) a server this object started. A reused warm server is left running."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _kill(proc.pid)
        proc.poll()  # let Popen notice the exit so it does not warn later
        rec = _read_record(self.data_dir)
        if rec is not None and rec.get("pid") == proc.pid:
            (self.data_dir / RECORD_NAME).unlink(missing_ok=True)
        self.port = None

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_local_server(settings: "Settings") -> LocalServer:
    """Assemble/verify the model if needed, then start or reuse the local server the settings describe."""
    loc = settings.local
    return LocalServer(model_file(settings), settings.data_dir, n_ctx=loc.n_ctx, n_threads=loc.n_threads,
                       startup_timeout_s=loc.startup_timeout_s, keep_warm=loc.keep_warm,
                       prompt_cache_mb=loc.prompt_cache_mb, flash_attn=loc.flash_attn).start()


def stop_warm_server(data_dir: Path) -> bool:
    """Stop the warm server recorded in `data_dir`, if one is running. True when one was stopped."""
    data_dir = Path(data_dir)
    with _file_lock(data_dir / "local-llm.lock"):
        rec = _read_record(data_dir)
        (data_dir / RECORD_NAME).unlink(missing_ok=True)
        if rec is None or not _pid_is_server(rec["pid"]):
            return False
        _kill(rec["pid"])
        for proc in _DETACHED:
            proc.poll()  # a warm server we started ourselves: record its exit
        return True


def warm_server_status(data_dir: Path) -> dict[str, Any] | None:
    """The warm server recorded in `data_dir` (pid, port, model, started, healthy; never its key), or None
    when no live one is recorded. For `briefing server status`; a record of a dead process is not reported."""
    rec = _read_record(Path(data_dir))
    if rec is None or not _pid_is_server(rec["pid"]):
        return None
    port, key = rec.get("port"), str(rec.pop("api_key", "") or "")
    alias = Path(str(rec.get("model", ""))).name.removesuffix(".gguf")
    return {**rec, "healthy": isinstance(port, int) and _healthy(port, alias, key, rec["pid"])}
